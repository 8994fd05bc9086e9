package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"waymark/alert"
	"waymark/casework"

	"waymark/cmd/waymark/internal/benchlab"
)

// benchCmd is `waymark bench` (the lab lives in internal/benchlab) and its
// children: `waymark bench serve`, the server it measures, and
// `waymark bench floor [durable|twilio [durable]]`, the floors it measures beside it.
func benchCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return benchServe(ctx, c, args[1:])
		case "floor":
			return benchError(benchlab.ServeFloor(ctx, c.getenv, c.stdout, args[1:]))
		}
	}
	args = benchlab.FloorArgs(args)
	env, cleanup, err := benchlab.PrepareEnv(ctx, c.getenv, args)
	defer cleanup()
	if err != nil {
		return benchError(err)
	}
	var bf benchlab.Flags
	cmd := adminCommand{name: "bench", usage: benchlab.Usage, flags: bf.Define}
	a, rest, err := openAdmin(ctx, &cli{getenv: env.Get, stdin: c.stdin, stdout: c.stdout, stderr: c.stderr}, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) > 0 {
		return usageError("waymark bench: unexpected argument %q", rest[0])
	}
	return benchError(benchlab.Run(ctx, benchlab.Deps{
		Config:   a.cfg,
		Staff:    a.staff,
		Sessions: a.store.Staff,
		Cases:    a.cases,
		Alerts:   a.store.Alerts,
		Schedules: func(now func() time.Time) benchlab.Scheduler {
			// The alert service serve builds, on the bench's clock.
			return alert.NewService(a.store.Alerts, casework.NewSource(a.cases), alert.Config{
				Rules: alert.Rules{CancelWindow: a.cfg.CancelWindow, AckTimeout: a.cfg.AckTimeout,
					Retention: a.cfg.RetentionAlerts, EventRetention: a.cfg.RetentionEvents},
				TriageTeam: a.cfg.TriageTeam,
			}, now, a.log)
		},
		CheckinState: a.store.Alerts,
		UsedMemory: func(ctx context.Context) (int64, error) {
			info, err := a.store.DB.Inspect(ctx)
			return info.UsedMemory, err
		},
		Now:    a.now,
		Getenv: c.getenv,
		Stdout: c.stdout,
	}, bf, env))
}

// benchServe is `waymark bench serve [--profile DIR] [-- serve flags]`, the
// bench's server child: serve itself, with its CPU and allocation
// profiles written to DIR when it stops (bench --server-profile). The
// profiling hook lives here, not in serve.
func benchServe(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("waymark bench serve", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	dir := fs.String("profile", "", "directory for the server's cpu.pprof and allocs.pprof, written when it stops")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("waymark bench serve: %v", err)
	}
	defer benchlab.Profile(*dir, c.stderr)()
	return serve(ctx, c, fs.Args(), serveOptions{})
}

// benchError gives the lab's usage errors exit status 2.
func benchError(err error) error {
	var ue *benchlab.UsageError
	if errors.As(err, &ue) {
		return &exitError{code: 2, err: err}
	}
	return err
}
