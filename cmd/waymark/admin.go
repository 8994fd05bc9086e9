package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"waymark/config"
	"waymark/pii"
	"waymark/problem"
)

// adminCommand describes an administration subcommand (staff, team, case,
// keys rotate, ...): its name and usage line for -h, and its own flags.
type adminCommand struct {
	// name is the subcommand as typed, e.g. "staff add".
	name string
	// usage is the synopsis after "waymark ", e.g.
	// "staff add --username U --role R[,R] [flags]".
	usage string
	// flags defines the command's own flags on fs (may be nil).
	flags func(fs *flag.FlagSet)
}

// openAdmin is how every administration subcommand starts: it parses args
// (the configuration's flags and the command's own, in any order with the
// positional arguments), refuses the embedded Redis (an admin command must
// change the Redis a server uses, not a throwaway one of its own), and builds
// the app. It returns the app, which the caller closes, and the positional
// arguments. After -h it returns errHelpShown (see helpOK).
//
// Logging goes to stderr at warn level or above unless WAYMARK_LOG_LEVEL
// asks for debug, so the command's own output stays readable.
func openAdmin(ctx context.Context, c *cli, cmd adminCommand, args []string) (*app, []string, error) {
	fs := flag.NewFlagSet("waymark "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := config.AddFlags(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printAdminUsage(c.stdout, cmd, fs)
				return nil, nil, errHelpShown
			}
			return nil, nil, usageError("waymark %s: %v (see waymark %s -h)", cmd.name, err, cmd.name)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	cfg, err := cf.Load(c.getenv)
	if err != nil {
		var ce config.Errors
		if errors.As(err, &ce) {
			return nil, nil, &exitError{code: 2, err: errors.New("waymark: bad configuration:\n" + ce.Error())}
		}
		return nil, nil, &exitError{code: 2, err: err}
	}
	if cfg.Embedded() {
		return nil, nil, usageError("waymark %s needs WAYMARK_REDIS_URL (or the Sentinel or Cluster settings): "+
			"it changes the Redis your server uses, and with none configured there is only a server's own in-memory one, "+
			"which no other process can reach", cmd.name)
	}
	level := max(cfg.LogLevel, slog.LevelWarn)
	if cfg.LogLevel < slog.LevelInfo {
		level = cfg.LogLevel
	}
	logger, err := pii.NewLogger(c.stderr, level, cfg.LogFormat)
	if err != nil {
		return nil, nil, usageError("waymark: %v", err)
	}
	a, err := buildApp(ctx, cfg, logger, "")
	if err != nil {
		return nil, nil, err
	}
	a.auditAdmin(ctx, cmd.name) // configuration changes go to the audit trail (audit.go)
	return a, positional, nil
}

func printAdminUsage(w io.Writer, cmd adminCommand, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: waymark %s\n", cmd.usage)
	if cmd.flags != nil {
		own := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.flags(own)
		fmt.Fprintln(w, "\nFlags:")
		own.SetOutput(w)
		own.PrintDefaults()
	}
	fmt.Fprintln(w)
	config.Usage(w)
}

// adminFlagNames maps domain field names to the flags that set them, where
// they differ.
var adminFlagNames = map[string]string{"roles": "role", "teams": "team", "password": "password-stdin"}

// adminError turns a domain error into what an administrator reads: one
// line per bad field, exit status 2 for bad input; anything else as is.
func adminError(cmd string, err error) error {
	var inv *problem.Invalid
	if errors.As(err, &inv) {
		lines := make([]string, len(inv.Fields))
		for i, f := range inv.Fields {
			name, ok := adminFlagNames[f.Name]
			if !ok {
				name = strings.ReplaceAll(f.Name, "_", "-")
			}
			lines[i] = "  --" + name + ": " + f.Problem
		}
		return &exitError{code: 2, err: fmt.Errorf("waymark %s:\n%s", cmd, strings.Join(lines, "\n"))}
	}
	if flag, ok := adminTakenFlags[cmd]; ok && errors.Is(err, problem.ErrConflict) {
		// The store's own words name keys and wrapping; the operator needs
		// only which flag to change. Nothing was written.
		return &exitError{code: 1, err: fmt.Errorf("waymark %s:\n  --%s: is already taken; nothing was changed", cmd, flag)}
	}
	return fmt.Errorf("waymark %s: %w", cmd, err)
}

// adminTakenFlags names the flag whose value clashed when a command that
// creates something is refused as a conflict.
var adminTakenFlags = map[string]string{"staff add": "username", "team add": "id"}
