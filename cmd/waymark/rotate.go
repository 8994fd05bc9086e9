package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"waymark/store"
)

// keysRotate is `waymark keys rotate`: with the new key first in
// WAYMARK_KEYS and the old one still listed after it, it re-wraps every
// case data key and re-seals every record sealed directly under an old key,
// showing progress, then reports how many records remain under each key
// that is not active. Only when that is zero for a key may it be removed
// from WAYMARK_KEYS. It exits 1 while anything remains.
func keysRotate(ctx context.Context, c *cli, args []string) error {
	a, _, err := openAdmin(ctx, c, adminCommand{
		name:  "keys rotate",
		usage: "keys rotate   (WAYMARK_KEYS=new:…,old:… — the new key first)",
	}, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	ids := a.keyring.IDs()
	active, old := ids[0], ids[1:]
	if len(old) == 0 {
		fmt.Fprintf(c.stdout, "only one key (%s) configured: checking that everything is under it\n", active)
	} else {
		fmt.Fprintf(c.stdout, "rotating to key %s; moving everything off %s\n", active, strings.Join(old, ", "))
	}
	last := -1
	rep, err := a.store.DB.Rotate(ctx, func(done, total int) {
		// About fifty lines at most, and always the last.
		step := max(total/50, 1)
		if done == total || done/step != last {
			last = done / step
			fmt.Fprintf(c.stdout, "progress %d/%d keys\n", done, total)
		}
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("waymark keys rotate: interrupted; nothing is lost, run it again to finish: %w", err)
		}
		return fmt.Errorf("waymark keys rotate: %w", err)
	}
	fmt.Fprintf(c.stdout, "scanned %d keys: re-sealed %d records, re-wrapped %d data keys, %d already under %s\n",
		rep.Keys, rep.Resealed, rep.Rewrapped, rep.Current, active)
	fmt.Fprintf(c.stdout, "remaining under non-active keys: %s\n", store.FormatRemaining(rep.Remaining, old))
	left := 0
	for _, id := range slices.Sorted(maps.Keys(rep.Remaining)) {
		if n := rep.Remaining[id]; n > 0 {
			left += n
			if !slices.Contains(ids, id) {
				fmt.Fprintf(c.stdout, "warning: %d records are under key %s, which is not configured: they cannot be read or moved\n", n, id)
			}
		}
	}
	if rep.Unreadable > 0 {
		fmt.Fprintf(c.stdout, "warning: %d values look sealed but do not open; see the log\n", rep.Unreadable)
	}
	for _, id := range old {
		if rep.Retirable(id) {
			fmt.Fprintf(c.stdout, "key %s: 0 records left; it can now be removed from WAYMARK_KEYS\n", id)
		}
	}
	if left > 0 || rep.Unreadable > 0 {
		return fmt.Errorf("waymark keys rotate: %d records still under old keys; keep those keys and run it again", left)
	}
	return nil
}
