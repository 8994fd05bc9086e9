package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"waymark/oncall"
	"waymark/problem"
	"waymark/staff"
	"waymark/store"
	"waymark/wallclock"
)

const rotaUsage = "usage: waymark rota set --team T FILE | show --team T [--at TIME] (waymark rota set -h for flags)"

// rotaCmd is `waymark rota`: a team's on-call rota, against the configured
// Redis.
func rotaCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError(rotaUsage)
	}
	switch args[0] {
	case "set":
		return rotaSet(ctx, c, args[1:])
	case "show":
		return rotaShow(ctx, c, args[1:])
	default:
		return usageError("waymark rota: unknown command %q; %s", args[0], rotaUsage)
	}
}

// maxAdminFile bounds a rota or policy file.
const maxAdminFile = 1 << 20

// readAdminFile reads FILE, or standard input for "-".
func readAdminFile(c *cli, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = c.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageError("waymark: cannot open %s: %v", name, err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxAdminFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAdminFile {
		return nil, usageError("waymark: %s is larger than 1 MiB", name)
	}
	return b, nil
}

// decodeAdminFile reads YAML or JSON (JSON is YAML) into v, refusing
// unknown fields. YAML scalars keep their text as written: a time 09:00 or
// a date 2026-10-25 is never turned into a number or a UTC timestamp.
func decodeAdminFile(b []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("not valid YAML or JSON: %v", yamlProblem(err))
	}
	if len(doc.Content) == 0 {
		return errors.New("the file is empty")
	}
	plain, err := nodeValue(doc.Content[0], 0)
	if err != nil {
		return err
	}
	j, err := json.Marshal(plain)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("does not fit the expected shape: %v", err)
	}
	return nil
}

// yamlProblem keeps yaml.v3's line numbers but not the text it quotes.
func yamlProblem(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		end := strings.IndexByte(msg[i:], ':')
		if end > 0 {
			return msg[i : i+end]
		}
	}
	return "syntax error"
}

func nodeValue(n *yaml.Node, depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("the file is nested too deeply")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: aliases are not supported", n.Line)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: keys must be plain words", k.Line)
			}
			val, err := nodeValue(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := nodeValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	case yaml.ScalarNode:
		// Every scalar stays the text it was written as: a username 007
		// is not a number, a date not a timestamp. The one count in the
		// files (repeat) reads text too.
		if n.ShortTag() == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML", n.Line)
}

// fileError turns a domain validation error on a file into one line per
// problem, named by its place in the file, exit status 2.
func fileError(cmd string, err error) error {
	var inv *problem.Invalid
	if errors.As(err, &inv) {
		lines := make([]string, len(inv.Fields))
		for i, f := range inv.Fields {
			lines[i] = "  " + f.Name + ": " + f.Problem
		}
		return &exitError{code: 2, err: fmt.Errorf("waymark %s: refused; what is in force is unchanged:\n%s", cmd, strings.Join(lines, "\n"))}
	}
	if errors.Is(err, problem.ErrNotFound) {
		return &exitError{code: 2, err: fmt.Errorf("waymark %s: no such team", cmd)}
	}
	return fmt.Errorf("waymark %s: %w", cmd, err)
}

// openTeamFile is the common start of `rota set` and `policy set`: open the
// configured Redis with a --team flag, read FILE (or standard input) and
// decode its YAML or JSON into v. On success the caller closes the app.
func openTeamFile(ctx context.Context, c *cli, name, what string, v any, args []string) (*app, string, error) {
	var team string
	cmd := adminCommand{
		name:  name,
		usage: name + " --team T FILE|- [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&team, "team", "", "team id whose "+what+" FILE (YAML or JSON) replaces")
		},
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return nil, "", err
	}
	if team == "" || len(rest) != 1 {
		a.close()
		return nil, "", usageError("usage: waymark %s --team T FILE|-", name)
	}
	b, err := readAdminFile(c, rest[0])
	if err == nil {
		if derr := decodeAdminFile(b, v); derr != nil {
			err = &exitError{code: 2, err: fmt.Errorf("waymark %s: %s: %v; what is in force is unchanged", name, rest[0], derr)}
		}
	}
	if err != nil {
		a.close()
		return nil, "", err
	}
	return a, team, nil
}

func rotaSet(ctx context.Context, c *cli, args []string) error {
	var f oncall.RotaFile
	a, team, err := openTeamFile(ctx, c, "rota set", "rota", &f, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	r, warnings, err := a.oncall.SetRota(ctx, team, f, "admin-cli")
	if err != nil {
		return fileError("rota set", err)
	}
	for _, w := range warnings {
		fmt.Fprintln(c.stderr, "warning:", w)
	}
	fmt.Fprintf(c.stdout, "rota of team %s is now version %d (%d shifts, %d overrides)\n", team, r.Version, len(r.Shifts), len(r.Overrides))
	return nil
}

func rotaShow(ctx context.Context, c *cli, args []string) error {
	var team, at string
	var days int
	cmd := adminCommand{
		name:  "rota show",
		usage: "rota show --team T [--at TIME] [--days N] [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&team, "team", "", "team id")
			fs.StringVar(&at, "at", "", "instant to show, Europe/London 2026-10-25T09:00 or RFC 3339 (default: now)")
			fs.IntVar(&days, "days", 14, "how many days ahead to list gaps")
		},
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if team == "" || len(rest) != 0 || days < 1 || days > 366 {
		return usageError("usage: waymark rota show --team T [--at TIME] [--days 1..366]")
	}
	when := a.now()
	if at != "" {
		t, bad := wallclock.ParseLondonTime(at)
		if bad != "" {
			return usageError("waymark rota show: --at %s", bad)
		}
		when = t
	}
	who, err := a.oncall.Who(ctx, team, when)
	if err != nil {
		return fileError("rota show", err)
	}
	loc := wallclock.London()
	fmt.Fprintf(c.stdout, "team %s at %s (rota version %d)\n", team, when.In(loc).Format("Mon 2006-01-02 15:04 MST"), who.RotaVersion)
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, t := range oncall.Tiers() {
		var names []string
		for _, p := range who.Tiers[t] {
			names = append(names, p.ID+" ("+p.Name+")")
		}
		fmt.Fprintf(w, "%s\t%s\n", t, orDash(strings.Join(names, ", ")))
	}
	w.Flush()
	if who.Fallback {
		fmt.Fprintf(c.stdout, "nobody on call: the 24/7 fallback covers (%s)\n", orDash(who.FallbackName))
	}
	gaps, err := a.oncall.Gaps(ctx, team, when, when.Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		return fileError("rota show", err)
	}
	if len(gaps) == 0 {
		fmt.Fprintf(c.stdout, "no gaps in the next %d days\n", days)
	}
	for _, g := range gaps {
		fmt.Fprintf(c.stdout, "gap: %s to %s\n", g.From.In(loc).Format("Mon 2006-01-02 15:04"), g.To.In(loc).Format("Mon 2006-01-02 15:04 MST"))
	}
	return nil
}

// --- adapters between escalation and the staff store ---

// staffIDPattern is the shape of a staff id (internal/randid): looked up
// by id only when a reference has it, so nothing else reaches a key name.
var staffIDPattern = regexp.MustCompile(`^s_[a-z]{20}$`)

// people looks staff up for escalation and rotas.
type people struct {
	store *store.Staff
	staff *staff.Service
}

var _ oncall.People = people{}

func personOf(a *staff.Account) oncall.Person {
	return oncall.Person{ID: a.ID, Username: a.Username, Name: a.DisplayName, Roles: a.Roles, Teams: a.Teams,
		Active: !a.Disabled, Phone: a.Phone}
}

func (p people) Person(ctx context.Context, ref string) (oncall.Person, error) {
	ref = strings.TrimSpace(ref)
	if staffIDPattern.MatchString(ref) {
		a, err := p.store.StaffByID(ctx, ref)
		if err == nil {
			return personOf(a), nil
		}
		if !errors.Is(err, problem.ErrNotFound) {
			return oncall.Person{}, err
		}
	}
	a, err := p.store.StaffByUsername(ctx, staff.NormalizeUsername(ref))
	if err != nil {
		return oncall.Person{}, err
	}
	return personOf(a), nil
}

func (p people) TeamPeople(ctx context.Context, team string) ([]oncall.Person, error) {
	all, err := p.store.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	var out []oncall.Person
	for _, a := range all {
		for _, t := range a.Teams {
			if t == team {
				out = append(out, personOf(a))
				break
			}
		}
	}
	return out, nil
}

func (p people) HasTeam(ctx context.Context, team string) (bool, error) {
	_, err := p.staff.Team(ctx, team)
	if errors.Is(err, problem.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// presence reads who has a team's dashboard open (the live hub's record).
type presence struct{ store *store.Hub }

func (p presence) OnDashboard(ctx context.Context, team string) (map[string]bool, error) {
	ps, err := p.store.TeamPresence(ctx, team)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ps))
	for _, x := range ps {
		out[x.Staff] = x.OnDuty
	}
	return out, nil
}
