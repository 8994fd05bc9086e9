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
	"waymark/store"
)

const directoryUsage = "usage: waymark directory import FILE|- | export (waymark directory import -h for flags)"

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
	items, err := signpost.DecodeORUK(in)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("waymark directory import: %w", err)}
	}

	var valid []signpost.Service
	rejected := 0
	for _, it := range items {
		for _, w := range it.Warnings {
			fmt.Fprintf(c.stdout, "warning  %s: %s: %s (field dropped)\n", recordName(it.Index, it.ID), w.Field, w.Problem)
		}
		if it.Err != nil {
			rejected++
			fmt.Fprintf(c.stdout, "rejected %s: %s\n", recordName(it.Index, it.ID), reason(it.Err))
			continue
		}
		valid = append(valid, *it.Service)
	}

	counts := map[store.PutOutcome]int{}
	if !dryRun {
		progress := isTerminal(c.stderr)
		for start := 0; start < len(valid); start += importChunk {
			chunk := valid[start:min(start+importChunk, len(valid))]
			res, err := a.store.PutServices(ctx, chunk)
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
	services, _, err := a.store.LoadDirectory(ctx)
	if err != nil {
		return fmt.Errorf("waymark directory export: %w", err)
	}
	if err := signpost.EncodeORUK(c.stdout, services); err != nil {
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
// seeds a directory that was never written with the national services (and,
// for the demo, the fictional Southampton directory), builds the index, and
// keeps it fresh by polling the version until ctx ends. Redis being away
// is not fatal: the directory routes answer 503 until the first load.
func startDirectory(ctx context.Context, a *app, withDemo bool) (*signpost.Live, error) {
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		return nil, err
	}
	if err := seedDirectory(ctx, a.store, withDemo); err != nil {
		a.log.Warn("directory not seeded", "err", err)
	}
	live := signpost.NewLive(a.store, a.postcodes, hol)
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
	return live, nil
}

// seedDirectory stores the seed services when the directory was never
// written (version 0). Two instances starting together store the same
// records; the second finds them unchanged.
func seedDirectory(ctx context.Context, st *store.Store, withDemo bool) error {
	v, err := st.DirectoryVersion(ctx)
	if err != nil || v != 0 {
		return err
	}
	services, err := signpost.Seed()
	if err != nil {
		return err
	}
	if withDemo {
		demo, err := signpost.DemoSeed()
		if err != nil {
			return err
		}
		services = append(services, demo...)
	}
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
