package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"waymark/feed"
	"waymark/signpost"
	"waymark/store"
)

// syncReport is what one sync did.
type syncReport struct {
	base                               string
	pages                              int
	added, changed, unchanged, retired int
	rejected, skipped                  int
}

func (r syncReport) String() string {
	return fmt.Sprintf("synced %s: %d pages; %d added, %d changed, %d unchanged, %d retired; rejected %d, skipped %d",
		feed.Redacted(r.base), r.pages, r.added, r.changed, r.unchanged, r.retired, r.rejected, r.skipped)
}

// syncDirectory reads the ORUK feed at url whole, then stores its valid
// services (marked as from that feed) and retires the services an earlier
// sync of the same feed stored that it no longer lists. A feed that fails
// anywhere — a page, a timeout, an answer that is not ORUK — returns an
// error before anything is stored. Broken records are reported to out and
// skipped; a service the feed still lists but whose record is broken keeps
// its stored version. Shipped national services are never replaced, and
// are merged back as shipped after every sync that read its feed.
func syncDirectory(ctx context.Context, st *store.Directory, client *feed.Client, url string, out io.Writer) (syncReport, error) {
	res, err := client.Fetch(ctx, url)
	if err != nil {
		return syncReport{}, err
	}
	rep := syncReport{base: res.Base, pages: res.Pages}
	// Services remember their feed without any password in its URL: the
	// directory is stored as plain public data.
	origin := feed.Redacted(res.Base)
	national, shipped, err := nationalIDs()
	if err != nil {
		return rep, err
	}
	var valid []signpost.Service
	for _, it := range res.Items {
		for _, w := range it.Warnings {
			fmt.Fprintf(out, "warning  %s: %s: %s\n", recordName(-1, it.ID), w.Field, w.Problem)
		}
		switch {
		case it.Err != nil:
			rep.rejected++
			fmt.Fprintf(out, "rejected %s: %s\n", recordName(-1, it.ID), reason(it.Err))
		case isNational(national, it.Service.ID):
			rep.skipped++
			fmt.Fprintf(out, "skipped  %s: a shipped national service, kept as shipped\n", recordName(-1, it.ID))
		default:
			s := *it.Service
			s.Feed = origin
			valid = append(valid, s)
		}
	}
	// Everything the feed still lists stays, good or broken.
	listed := map[string]bool{}
	for id := range res.IDs {
		listed[id] = true
		listed[signpost.ORUKID(id)] = true
	}
	for _, s := range valid {
		listed[s.ID] = true
	}
	stored, _, err := st.LoadDirectory(ctx)
	if err != nil {
		return rep, err
	}
	for start := 0; start < len(valid); start += importChunk {
		chunk := valid[start:min(start+importChunk, len(valid))]
		results, err := st.PutServices(ctx, chunk)
		if err != nil {
			return rep, fmt.Errorf("stored %d of %d services, then: %w", start, len(valid), err)
		}
		for j, r := range results {
			switch {
			case r.Err != nil:
				rep.rejected++
				fmt.Fprintf(out, "rejected %s: %s\n", recordName(-1, chunk[j].ID), reason(r.Err))
			case r.Outcome == store.PutCreated:
				rep.added++
				fmt.Fprintf(out, "added    %s\n", recordName(-1, chunk[j].ID))
			case r.Outcome == store.PutUpdated:
				rep.changed++
				fmt.Fprintf(out, "changed  %s\n", recordName(-1, chunk[j].ID))
			default:
				rep.unchanged++
			}
		}
	}
	for _, s := range stored {
		if s.Feed != origin || listed[s.ID] || listed[signpost.ORUKID(s.ID)] {
			continue
		}
		if err := st.DeleteService(ctx, s.ID); err != nil {
			return rep, fmt.Errorf("retire %s: %w", s.ID, err)
		}
		rep.retired++
		fmt.Fprintf(out, "retired  %s: no longer in the feed\n", recordName(-1, s.ID))
	}
	// As after an import: the shipped national services are there, as
	// shipped, whatever the feed held.
	n, err := mergeNational(ctx, st)
	if err != nil {
		return rep, fmt.Errorf("national services: %w", err)
	}
	fmt.Fprintf(out, "national services: %d shipped, %d brought up to date\n", shipped, n)
	return rep, nil
}

// directorySync is `waymark directory sync URL`: pull another directory's
// Open Referral UK API into this one and report what changed. It exits 1
// when the feed could not be read (nothing changed) or when any record was
// rejected (the others were stored).
func directorySync(ctx context.Context, c *cli, args []string) error {
	var timeout time.Duration
	cmd := adminCommand{
		name:  "directory sync",
		usage: "directory sync URL [--timeout 30s] [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.DurationVar(&timeout, "timeout", 30*time.Second, "longest wait for one answer from the feed")
		},
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 1 {
		return usageError("usage: waymark directory sync URL (the ORUK API's base, or its /services address)")
	}
	rep, err := syncDirectory(ctx, a.store.Directory, &feed.Client{Timeout: timeout}, rest[0], c.stdout)
	if err != nil {
		return fmt.Errorf("waymark directory sync: %w (nothing changed)", err)
	}
	fmt.Fprintln(c.stdout, rep)
	if rep.rejected > 0 {
		return fmt.Errorf("waymark directory sync: %d record(s) rejected; the others were stored", rep.rejected)
	}
	return nil
}

// runDirectorySync pulls url at once and then on every tick until ctx
// ends (serve's WAYMARK_DIRECTORY_SYNC_URL), logging each outcome and
// handing it to done when that is not nil. Every instance runs it; the
// stores are idempotent, so two instances syncing together store the same
// records.
func runDirectorySync(ctx context.Context, a *app, url string, ticks <-chan time.Time, done func(syncReport, error)) {
	client := &feed.Client{}
	for {
		rep, err := syncDirectory(ctx, a.store.Directory, client, url, io.Discard)
		if done != nil {
			done(rep, err)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("directory sync failed; nothing changed", "err", err)
		} else {
			a.log.Info("directory synced", "feed", feed.Redacted(rep.base), "added", rep.added, "changed", rep.changed,
				"unchanged", rep.unchanged, "retired", rep.retired, "rejected", rep.rejected)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}
