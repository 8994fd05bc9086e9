package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"waymark/problem"
	"waymark/staff"
)

// waymark export: what leaves Waymark on purpose, each audited with who
// asked. --by names the member of staff responsible; their roles and teams
// decide whether the export is allowed (a refusal is audited too).

const exportUsage = `usage: waymark export alert ID --by USERNAME [--out FILE]
       waymark export case ID --by USERNAME [--out FILE]
       waymark export marac --case ID --meeting M --basis "lawful basis" --by USERNAME [--out FILE]`

type exportFlags struct {
	by, out, caseID, meeting, basis string
}

func (f *exportFlags) define(marac bool) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(&f.by, "by", "", "username of the member of staff making the export (required)")
		fs.StringVar(&f.out, "out", "", "file to write (created, never overwritten; mode 0600); - for standard output")
		if marac {
			fs.StringVar(&f.caseID, "case", "", "the case to share (required)")
			fs.StringVar(&f.meeting, "meeting", "", "which MARAC meeting the information goes to (required)")
			fs.StringVar(&f.basis, "basis", "", "the lawful basis for sharing (required)")
		}
	}
}

func exportCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError("%s", exportUsage)
	}
	kind := args[0]
	var f exportFlags
	var cmd adminCommand
	switch kind {
	case "alert", "case":
		cmd = adminCommand{name: "export " + kind, usage: "export " + kind + " ID --by USERNAME [--out FILE] [flags]", flags: f.define(false)}
	case "marac":
		cmd = adminCommand{name: "export marac", usage: "export marac --case ID --meeting M --basis \"…\" --by USERNAME [--out FILE] [flags]", flags: f.define(true)}
	default:
		return usageError("%s", exportUsage)
	}
	return helpOK(withAdmin(ctx, c, cmd, args[1:], func(a *app, pos []string) error {
		id := f.caseID
		if kind != "marac" {
			if len(pos) != 1 {
				return usageError("%s", exportUsage)
			}
			id = pos[0]
		} else if len(pos) != 0 || id == "" {
			return usageError("%s", exportUsage)
		}
		if f.by == "" {
			return usageError("waymark %s: --by USERNAME is required: every export records who made it", cmd.name)
		}
		p, err := principalOf(ctx, a, f.by)
		if err != nil {
			return fmt.Errorf("waymark %s: %w", cmd.name, err)
		}
		out := f.out
		if out == "" {
			out = map[string]string{"alert": "closing-record-", "case": "case-bundle-", "marac": "marac-share-"}[kind] + id + ".json"
		}
		write := func(b []byte) error { return writeExport(c, out, b) }
		switch kind {
		case "alert":
			err = a.records.ExportAlert(ctx, p, id, write)
		case "case":
			err = a.records.ExportCase(ctx, p, id, write)
		default:
			err = a.records.ExportMARAC(ctx, p, id, f.meeting, f.basis, write)
		}
		if err != nil {
			if errors.Is(err, problem.ErrForbidden) || errors.Is(err, problem.ErrNotFound) || errors.Is(err, problem.ErrConflict) {
				return &exitError{code: 1, err: fmt.Errorf("waymark %s: refused (recorded in the audit trail): %w", cmd.name, err)}
			}
			return adminError(cmd.name, err)
		}
		if out != "-" {
			fmt.Fprintf(c.stderr, "wrote %s\n", out)
		}
		return nil
	}))
}

// principalOf is the named member of staff as a principal; a disabled or
// unknown account may not export.
func principalOf(ctx context.Context, a *app, username string) (*staff.Principal, error) {
	acc, err := a.store.Staff.StaffByUsername(ctx, staff.NormalizeUsername(username))
	if err != nil || acc == nil || acc.Disabled {
		return nil, errors.New("--by: no active staff account by that username")
	}
	return &staff.Principal{StaffID: acc.ID, Username: acc.Username, DisplayName: acc.DisplayName,
		Roles: acc.Roles, Teams: acc.Teams}, nil
}

// writeExport writes b to path, creating it (never overwriting) readable by
// its owner only, or to standard output for "-".
func writeExport(c *cli, path string, b []byte) error {
	if path == "-" {
		_, err := c.stdout.Write(b)
		return err
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("waymark export: %w", err)
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		os.Remove(path)
		return fmt.Errorf("waymark export: %w", err)
	}
	if err := fh.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("waymark export: %w", err)
	}
	return nil
}
