package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"waymark/pii"
	"waymark/staff"
)

const staffUsage = "usage: waymark staff add|set|enable|disable|list (waymark staff add -h for flags)"

// staffCmd is `waymark staff`: accounts, against the configured Redis.
func staffCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError(staffUsage)
	}
	switch args[0] {
	case "add":
		return staffAdd(ctx, c, args[1:])
	case "disable":
		return staffDisable(ctx, c, args[1:])
	case "enable":
		return staffSetAccess(ctx, c, "enable", args[1:])
	case "set":
		return staffSetAccess(ctx, c, "set", args[1:])
	case "list":
		return staffList(ctx, c, args[1:])
	default:
		return usageError("waymark staff: unknown command %q; %s", args[0], staffUsage)
	}
}

// staffAdd creates an account. Without --password-stdin it prints a
// one-time setup link (24 h) for the owner to choose a password and enrol
// an authenticator app; with it, the password comes from the first line of
// standard input and the TOTP secret is printed as totp_secret=BASE32.
func staffAdd(ctx context.Context, c *cli, args []string) error {
	var username, roles, teams, phone, display string
	var fromStdin bool
	cmd := adminCommand{
		name:  "staff add",
		usage: "staff add --username U --role R[,R] [--team T[,T]] [--phone P] [--display-name N] [--password-stdin] [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&username, "username", "", "sign-in name: 3 to 64 of a-z, 0-9 and . _ @ -")
			fs.StringVar(&roles, "role", "", "comma list of roles: admin, coordinator, caseworker, responder, helpline, refuge")
			fs.StringVar(&teams, "team", "", "comma list of team ids the account belongs to")
			fs.StringVar(&phone, "phone", "", "phone number pages go to (UK numbers without +44 are fine)")
			fs.StringVar(&display, "display-name", "", "name shown to colleagues (default: the username)")
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input and enrol TOTP now")
		},
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) > 0 {
		return usageError("waymark staff add: unexpected argument %d; use --username", len(args)-len(rest)+1)
	}
	n := staff.NewAccount{Username: username, DisplayName: display, Teams: splitComma(teams)}
	for _, r := range splitComma(roles) {
		n.Roles = append(n.Roles, staff.Role(strings.ToLower(r)))
	}
	if phone != "" {
		if n.Phone, err = pii.ParsePhone(phone, "GB"); err != nil {
			// Never echo the number.
			return usageError("waymark staff add:\n  --phone: is not a valid phone number")
		}
	}
	if !fromStdin {
		acct, token, err := a.staff.Add(ctx, n)
		if err != nil {
			return adminError("staff add", err)
		}
		fmt.Fprintf(c.stdout, "id=%s\n", acct.ID)
		if base := setupBase(a); base != "" {
			fmt.Fprintf(c.stdout, "setup_link=%s/setup#%s\n", base, token.Reveal())
		} else {
			fmt.Fprintf(c.stdout, "setup_path=/setup#%s\n", token.Reveal())
			fmt.Fprintln(c.stderr, "note: set WAYMARK_PUBLIC_URL or WAYMARK_ALLOWED_ORIGINS to print a full link; prefix the path with the dashboard's address")
		}
		fmt.Fprintf(c.stderr, "Give the setup link to %s through a trusted channel: it works once, for %v.\n", acct.Username, staff.SetupLinkLifetime)
		return nil
	}
	password, err := readPassword(c.stdin)
	if err != nil {
		return usageError("waymark staff add: --password-stdin: %v", err)
	}
	acct, enrol, err := a.staff.AddWithPassword(ctx, n, password)
	if err != nil {
		return adminError("staff add", err)
	}
	fmt.Fprintf(c.stdout, "id=%s\n", acct.ID)
	fmt.Fprintf(c.stdout, "totp_secret=%s\n", enrol.Secret.Reveal())
	fmt.Fprintf(c.stdout, "otpauth_url=%s\n", enrol.URL.Reveal())
	return nil
}

// setupBase is the address setup links start with: the public URL, else
// the first dashboard origin, else "".
func setupBase(a *app) string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/")
	}
	if len(a.cfg.AllowedOrigins) > 0 {
		return a.cfg.AllowedOrigins[0]
	}
	return ""
}

// readPassword reads the first line of r (at most a few KiB), without its
// line ending; spaces are part of the password.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("no standard input")
	}
	line, err := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", errors.New("cannot read standard input")
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input holds no password")
	}
	return line, nil
}

func staffDisable(ctx context.Context, c *cli, args []string) error {
	cmd := adminCommand{name: "staff disable", usage: "staff disable USERNAME [flags]"}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 1 {
		return usageError("usage: waymark staff disable USERNAME")
	}
	if err := a.staff.Disable(ctx, rest[0]); err != nil {
		if errors.Is(err, staff.ErrNotFound) {
			return &exitError{code: 1, err: errors.New("waymark staff disable: no such account")}
		}
		return adminError("staff disable", err)
	}
	fmt.Fprintf(c.stdout, "disabled %s; its sessions have ended\n", staff.NormalizeUsername(rest[0]))
	return nil
}

// staffSetAccess is `waymark staff set --username U [--role R[,R]]
// [--team T[,T]]` (change roles or teams) and `waymark staff enable
// USERNAME` (lift a disabling). Either ends the account's sessions, so the
// change applies everywhere from its next sign-in.
func staffSetAccess(ctx context.Context, c *cli, verb string, args []string) error {
	var username, roles, teams string
	var roleSet, teamSet bool
	cmd := adminCommand{name: "staff " + verb, usage: "staff enable USERNAME [flags]"}
	if verb == "set" {
		cmd.usage = "staff set --username U [--role R[,R]] [--team T[,T]] [flags]"
		cmd.flags = func(fs *flag.FlagSet) {
			fs.StringVar(&username, "username", "", "the account to change")
			fs.Func("role", "comma list of roles replacing the account's: admin, coordinator, caseworker, responder, helpline, refuge", func(v string) error {
				roles, roleSet = v, true
				return nil
			})
			fs.Func("team", "comma list of team ids replacing the account's (empty: none)", func(v string) error {
				teams, teamSet = v, true
				return nil
			})
		}
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	var ch staff.AccessChange
	switch verb {
	case "enable":
		if len(rest) != 1 {
			return usageError("usage: waymark staff enable USERNAME")
		}
		username, ch.Enable = rest[0], true
	default:
		if len(rest) != 0 || username == "" || (!roleSet && !teamSet) {
			return usageError("usage: waymark staff set --username U [--role R[,R]] [--team T[,T]] (at least one of --role, --team)")
		}
		if roleSet {
			ch.Roles = []staff.Role{}
			for _, r := range splitComma(roles) {
				ch.Roles = append(ch.Roles, staff.Role(strings.ToLower(r)))
			}
		}
		if teamSet {
			ch.Teams = append([]string{}, splitComma(teams)...)
		}
	}
	acct, err := a.staff.ChangeAccess(ctx, username, ch)
	if err != nil {
		if errors.Is(err, staff.ErrNotFound) {
			return &exitError{code: 1, err: fmt.Errorf("waymark staff %s: no such account", verb)}
		}
		return adminError("staff "+verb, err)
	}
	roleNames := make([]string, len(acct.Roles))
	for i, r := range acct.Roles {
		roleNames[i] = string(r)
	}
	fmt.Fprintf(c.stdout, "%s: roles %s; teams %s; %s; its sessions have ended\n", acct.Username,
		orDash(strings.Join(roleNames, ",")), orDash(strings.Join(acct.Teams, ",")),
		map[bool]string{true: "disabled", false: "enabled"}[acct.Disabled])
	return nil
}

func staffList(ctx context.Context, c *cli, args []string) error {
	cmd := adminCommand{name: "staff list", usage: "staff list [flags]"}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 0 {
		return usageError("usage: waymark staff list")
	}
	all, err := a.staff.List(ctx)
	if err != nil {
		return adminError("staff list", err)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USERNAME\tID\tDISPLAY NAME\tROLES\tTEAMS\tPAGE PHONE\tSTATUS")
	for _, s := range all {
		roles := make([]string, len(s.Roles))
		for i, r := range s.Roles {
			roles[i] = string(r)
		}
		page := "no"
		if !s.Phone.IsZero() {
			page = "yes" // the number itself stays sealed
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Username, s.ID, s.DisplayName,
			orDash(strings.Join(roles, ",")), orDash(strings.Join(s.Teams, ",")), page, s.Status())
	}
	return w.Flush()
}

// splitComma splits a comma list, dropping blanks.
func splitComma(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
