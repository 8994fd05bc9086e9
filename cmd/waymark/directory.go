package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"waymark/signpost"
	"waymark/signpost/oruk"
	"waymark/store"
)

const directoryUsage = "usage: waymark directory import FILE|- | export | sync URL | hide ID | show ID | hidden (waymark directory import -h for flags)"

// directoryCmd is `waymark directory`: import and export the signposting
// directory as Open Referral UK JSON, against the configured Redis.
func directoryCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError(directoryUsage)
	}
	switch args[0] {
	case "import":
		return directoryImport(ctx, c, args[1:])
	case "export":
		return directoryExport(ctx, c, args[1:])
	case "sync":
		return directorySync(ctx, c, args[1:])
	case "hide", "show":
		return directoryHide(ctx, c, args[0], args[1:])
	case "hidden":
		return directoryHidden(ctx, c, args[1:])
	default:
		return usageError("waymark directory: unknown command %q; %s", args[0], directoryUsage)
	}
}

// importChunk is how many services go to the store between progress lines.
const importChunk = 1000

// directoryImport reads Open Referral UK JSON (a service, a /services page
// or newline-delimited services) from FILE or standard input, stores every
// valid record (each atomically) and reports, per record, what was
// rejected and why and which fields were dropped, then the totals. It exits
// 1 when any record was rejected, after storing the rest.
func directoryImport(ctx context.Context, c *cli, args []string) error {
	var dryRun bool
	cmd := adminCommand{
		name:  "directory import",
		usage: "directory import FILE|- [--dry-run] [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&dryRun, "dry-run", false, "check the file and report, storing nothing")
		},
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 1 {
		return usageError("usage: waymark directory import FILE|- (one file, or - for standard input)")
	}
	in := c.stdin
	if rest[0] != "-" {
		f, err := os.Open(rest[0])
		if err != nil {
			return fmt.Errorf("waymark directory import: %w", err)
		}
		defer f.Close()
		in = f
	}
	items, err := oruk.Decode(in)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("waymark directory import: %w", err)}
	}

	national, shipped, err := nationalIDs()
	if err != nil {
		return err
	}
	var valid []signpost.Service
	rejected := 0
	for _, it := range items {
		for _, w := range it.Warnings {
			fmt.Fprintf(c.stdout, "warning  %s: %s: %s\n", recordName(it.Index, it.ID), w.Field, w.Problem)
		}
		if it.Err != nil {
			rejected++
			fmt.Fprintf(c.stdout, "rejected %s: %s\n", recordName(it.Index, it.ID), reason(it.Err))
			continue
		}
		if isNational(national, it.Service.ID) {
			// The shipped version is merged back on every start and import.
			fmt.Fprintf(c.stdout, "skipped  %s: a shipped national service, kept as shipped; to replace it, hide it (waymark directory hide ID) and import yours under another id\n", recordName(it.Index, it.ID))
			continue
		}
		valid = append(valid, *it.Service)
	}

	counts := map[store.PutOutcome]int{}
	if !dryRun {
		progress := isTerminal(c.stderr)
		for start := 0; start < len(valid); start += importChunk {
			chunk := valid[start:min(start+importChunk, len(valid))]
			res, err := a.store.Directory.PutServices(ctx, chunk)
			if err != nil {
				if progress {
					fmt.Fprintln(c.stderr)
				}
				return fmt.Errorf("waymark directory import: stored %d of %d valid records, then: %w", start, len(valid), err)
			}
			for j, r := range res {
				counts[r.Outcome]++
				if r.Err != nil { // the store validates again; a decoded record should never fail here
					rejected++
					fmt.Fprintf(c.stdout, "rejected %s: %s\n", recordName(-1, chunk[j].ID), reason(r.Err))
				}
			}
			if progress {
				fmt.Fprintf(c.stderr, "\rimporting %d/%d", start+len(chunk), len(valid))
			}
		}
		if progress && len(valid) > 0 {
			fmt.Fprintln(c.stderr)
		}
		fmt.Fprintf(c.stdout, "imported %d: %d new, %d updated, %d unchanged; rejected %d\n",
			counts[store.PutCreated]+counts[store.PutUpdated], counts[store.PutCreated], counts[store.PutUpdated], counts[store.PutUnchanged], rejected)
		n, err := mergeNational(ctx, a.store.Directory)
		if err != nil {
			return fmt.Errorf("waymark directory import: national services: %w", err)
		}
		fmt.Fprintf(c.stdout, "national services: %d shipped, %d brought up to date\n", shipped, n)
	} else {
		fmt.Fprintf(c.stdout, "dry run: %d valid, %d rejected; nothing stored\n", len(valid), rejected)
	}
	if rejected > 0 {
		return fmt.Errorf("waymark directory import: %d record(s) rejected; the others were imported", rejected)
	}
	return nil
}

// directoryExport writes the whole directory as one Open Referral UK
// /services page on standard output, confidential addresses never included
// (Waymark does not keep them). It re-imports to the same directory.
func directoryExport(ctx context.Context, c *cli, args []string) error {
	cmd := adminCommand{name: "directory export", usage: "directory export [flags] > FILE"}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 0 {
		return usageError("usage: waymark directory export > FILE")
	}
	services, _, err := a.store.Directory.LoadDirectory(ctx)
	if err != nil {
		return fmt.Errorf("waymark directory export: %w", err)
	}
	if err := oruk.Encode(c.stdout, services); err != nil {
		return fmt.Errorf("waymark directory export: %w", err)
	}
	fmt.Fprintf(c.stderr, "exported %d services\n", len(services))
	return nil
}

// recordName names a record in a report by its position and id; ids are
// public directory identifiers.
func recordName(index int, id string) string {
	var b strings.Builder
	if index >= 0 {
		fmt.Fprintf(&b, "record %d", index+1)
	} else {
		b.WriteString("record")
	}
	if id != "" {
		fmt.Fprintf(&b, " (id %s)", id)
	}
	return b.String()
}

// reason is an error as one line, without the package prefixes.
func reason(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", "; ")
	for _, p := range []string{"signpost: invalid service: ", "signpost: oruk: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// isTerminal reports whether w is a character device (a terminal), where a
// progress line that rewrites itself helps rather than clutters a log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// directoryPoll is how often each instance checks the directory's version
// and rebuilds its index when it moved.
const directoryPoll = 5 * time.Second

// startDirectory readies the signposting directory for serve and demo: it
// merges the shipped national services in (and, into a directory never
// written, the demo's fictional Southampton directory), builds the index,
// keeps it fresh by polling the version until ctx ends, and pulls
// WAYMARK_DIRECTORY_SYNC_URL every WAYMARK_DIRECTORY_SYNC_INTERVAL when set
// (first at start). Redis being away
// is not fatal: the directory routes answer 503 until the first load.
func startDirectory(ctx context.Context, a *app, withDemo bool) (*signpost.Live, error) {
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		return nil, err
	}
	if err := seedDirectory(ctx, a.store.Directory, withDemo); err != nil {
		a.log.Warn("directory not seeded", "err", err)
	}
	live := signpost.NewLive(a.store.Directory, a.postcodes, hol)
	if err := live.Refresh(ctx); err != nil {
		a.log.Warn("directory not loaded yet; search answers 503 until it is", "err", err)
	} else {
		a.log.Info("directory loaded", "services", live.Index().Len(), "version", live.Version())
	}
	ticker := time.NewTicker(directoryPoll)
	go func() {
		defer ticker.Stop()
		live.Run(ctx, ticker.C, func(err error) { a.log.Warn("directory refresh failed", "err", err) })
	}()
	if u := a.cfg.DirectorySyncURL; u != "" {
		every := time.NewTicker(a.cfg.DirectorySyncInterval)
		go func() {
			defer every.Stop()
			runDirectorySync(ctx, a, u, every.C, nil)
		}()
	}
	return live, nil
}

// seedDirectory merges the shipped national services into the directory
// on every start (mergeNational), and stores the fictional Southampton
// directory for the demo when the directory was never written (version
// 0). Two instances starting together store the same records; the second
// finds them unchanged.
func seedDirectory(ctx context.Context, st *store.Directory, withDemo bool) error {
	v, err := st.DirectoryVersion(ctx)
	if err != nil {
		return err
	}
	if _, err := mergeNational(ctx, st); err != nil {
		return err
	}
	if !withDemo || v != 0 {
		return nil
	}
	demo, err := oruk.DemoSeed()
	if err != nil {
		return err
	}
	return putAll(ctx, st, demo)
}

// mergeNational stores the national services this release ships, by id:
// new ones are added and changed ones updated (an upgrade brings the
// current numbers and hours), unchanged ones cost nothing. Local services
// are never touched, and a hidden national service stays hidden. It
// returns how many were added or updated.
func mergeNational(ctx context.Context, st *store.Directory) (int, error) {
	national, err := oruk.Seed()
	if err != nil {
		return 0, err
	}
	res, err := st.PutServices(ctx, national)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range res {
		if r.Err != nil {
			return n, fmt.Errorf("national service %s: %w", r.ID, r.Err)
		}
		if r.Outcome == store.PutCreated || r.Outcome == store.PutUpdated {
			n++
		}
	}
	return n, nil
}

func putAll(ctx context.Context, st *store.Directory, services []signpost.Service) error {
	res, err := st.PutServices(ctx, services)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("seed service %s: %w", r.ID, r.Err)
		}
	}
	return nil
}

// nationalIDs is the set of shipped national service ids, each under its
// Waymark id and its ORUK id (a directory that re-publishes a national
// line without Waymark's extension names it by the ORUK id), and how many
// services are shipped.
func nationalIDs() (map[string]bool, int, error) {
	national, err := oruk.Seed()
	if err != nil {
		return nil, 0, err
	}
	ids := make(map[string]bool, 2*len(national))
	for _, s := range national {
		ids[s.ID] = true
		ids[signpost.ORUKID(s.ID)] = true
	}
	return ids, len(national), nil
}

// isNational reports whether id names a shipped national service.
func isNational(national map[string]bool, id string) bool {
	return national[id] || national[strings.ToLower(id)]
}

// directoryHide is `waymark directory hide ID` and `waymark directory
// show ID`: take a service out of search, the ORUK API and exports (or
// put it back) without deleting it, so that a shipped national service
// stays out after every upgrade.
func directoryHide(ctx context.Context, c *cli, verb string, args []string) error {
	cmd := adminCommand{name: "directory " + verb, usage: "directory " + verb + " ID [flags]"}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 1 {
		return usageError("usage: waymark directory %s ID", verb)
	}
	changed, err := a.store.Directory.SetServiceHidden(ctx, rest[0], verb == "hide")
	if err != nil {
		return fmt.Errorf("waymark directory %s: %w", verb, err)
	}
	state := map[string]string{"hide": "hidden", "show": "shown"}[verb]
	if !changed {
		fmt.Fprintf(c.stdout, "%s was already %s\n", rest[0], state)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s %s\n", rest[0], state)
	return nil
}

// directoryHidden is `waymark directory hidden`: the hidden ids, one a line.
func directoryHidden(ctx context.Context, c *cli, args []string) error {
	cmd := adminCommand{name: "directory hidden", usage: "directory hidden [flags]"}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 0 {
		return usageError("usage: waymark directory hidden")
	}
	ids, err := a.store.Directory.HiddenServices(ctx)
	if err != nil {
		return fmt.Errorf("waymark directory hidden: %w", err)
	}
	for _, id := range ids {
		fmt.Fprintln(c.stdout, id)
	}
	return nil
}
