package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"waymark/config"
)

// exitError carries an exit status other than 1: 2 for bad usage or
// configuration, as the contract says.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// cli is what every subcommand may use: the environment it was given, never
// the process's own.
type cli struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program: args is os.Args, getenv the environment lookup.
// A command whose output could not be written fails, however it ended:
// an operator must not believe keys, a TOTP secret or an export were saved
// when they were not ("waymark keys new > /dev/full").
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	out := &checkedWriter{w: stdout}
	err := runWith(ctx, args, &cli{getenv: getenv, stdin: os.Stdin, stdout: out, stderr: stderr})
	if werr := out.Err(); werr != nil {
		return errors.Join(err, fmt.Errorf("waymark: writing standard output: %w", werr))
	}
	return err
}

// checkedWriter remembers the first write error and refuses every write
// after it, so a command never leaves half its output behind a failure
// without run knowing.
type checkedWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (cw *checkedWriter) Write(b []byte) (int, error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err != nil {
		return 0, cw.err
	}
	n, err := cw.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	cw.err = err
	return n, err
}

// Err is the first write error, if any.
func (cw *checkedWriter) Err() error {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return cw.err
}

const usage = `Waymark: silent alerts and signposting for domestic-abuse services.

Usage:
  waymark serve [flags]           run the server (embedded in-memory Redis when none is configured)
  waymark demo [--simulate]       run with seeded demo data on the embedded Redis
  waymark config check [flags]    validate the configuration and print it, secrets redacted
  waymark keys new                print fresh WAYMARK_KEYS, WAYMARK_INDEX_KEY and WAYMARK_PIN_KEY lines
  waymark keys rotate             move every sealed record to the first key in WAYMARK_KEYS; report what is left
  waymark staff add|set|enable|disable|list
                                  staff accounts: create, change roles and teams, enable, disable (needs WAYMARK_REDIS_URL)
  waymark team add|list           teams and their postcode districts (needs WAYMARK_REDIS_URL)
  waymark rota set|show --team T  a team's on-call rota from YAML or JSON (needs WAYMARK_REDIS_URL)
  waymark policy set|show --team T
                                  a team's escalation policies from YAML or JSON (needs WAYMARK_REDIS_URL)
  waymark directory import FILE|- | export
                                  signposting directory in Open Referral UK JSON (needs WAYMARK_REDIS_URL)
  waymark bench [flags]           measure app alert → responder receipt (needs redis-server or WAYMARK_REDIS_URL)
  waymark audit verify | pubkey | verify-bundle FILE --public-key K
                                  check the audit hash chain (names the first broken entry); the bundle signing key
  waymark export alert ID | case ID | marac --case ID --meeting M --basis "…"  --by USERNAME [--out FILE]
                                  closing record, case bundle, or what is shared with a MARAC (audited)
  waymark report [--from D] [--to D] [--area T] [--html]
                                  commissioners' report (counts under 5 shown as <5); --html with the SVG chart
  waymark drill --team T [--risk R] [--by USERNAME]
                                  a drill alert through the whole path (rota, pages, fallback), labelled DRILL
  waymark version                 print the version

Every command takes the settings below as flags or WAYMARK_* variables;
secrets only as variables or *_FILE paths. "waymark serve -h" lists them.
`

func runWith(ctx context.Context, args []string, c *cli) error {
	if len(args) < 2 {
		fmt.Fprint(c.stderr, usage)
		return &exitError{code: 2}
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return serve(ctx, c, rest, serveOptions{})
	case "demo":
		return demo(ctx, c, rest)
	case "config":
		return configCmd(c, rest)
	case "keys":
		return keysCmd(ctx, c, rest)
	case "staff":
		return staffCmd(ctx, c, rest)
	case "team":
		return teamCmd(ctx, c, rest)
	case "rota":
		return rotaCmd(ctx, c, rest)
	case "policy":
		return policyCmd(ctx, c, rest)
	case "directory":
		return directoryCmd(ctx, c, rest)
	case "bench":
		return benchCmd(ctx, c, rest)
	case "audit":
		return auditCmd(ctx, c, rest)
	case "export":
		return exportCmd(ctx, c, rest)
	case "report":
		return reportCmd(ctx, c, rest)
	case "drill":
		return drillCmd(ctx, c, rest)
	case "version", "--version":
		fmt.Fprintln(c.stdout, "waymark", version())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(c.stdout, usage)
		fmt.Fprintln(c.stdout)
		config.Usage(c.stdout)
		return nil
	default:
		fmt.Fprint(c.stderr, usage)
		return usageError("waymark: unknown command %q", cmd)
	}
}

// loadConfig parses settings for a subcommand. -h prints the whole
// configuration surface; bad settings exit 2 with one line each.
func loadConfig(c *cli, name string, args []string) (*config.Config, error) {
	cfg, err := config.Load(args, c.getenv)
	if err == nil {
		return cfg, nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(c.stdout, "Usage: waymark %s [flags]\n\n", name)
		config.Usage(c.stdout)
		return nil, errHelpShown
	}
	var ce config.Errors
	if errors.As(err, &ce) {
		return nil, &exitError{code: 2, err: errors.New("waymark: bad configuration:\n" + ce.Error())}
	}
	return nil, &exitError{code: 2, err: err}
}

// errHelpShown ends a command after -h with status 0.
var errHelpShown = errors.New("help shown")

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return strings.TrimSpace(v)
}

func configCmd(c *cli, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError("usage: waymark config check [flags]")
	}
	cfg, err := loadConfig(c, "config check", args[1:])
	if err != nil {
		return helpOK(err)
	}
	for _, s := range cfg.Redacted() {
		fmt.Fprintf(c.stdout, "%-40s %-10s %s\n", s.Env, s.Source, s.Value)
	}
	problems := 0
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(c.stderr, "warning:", w)
	}
	for _, p := range append(cfg.ProductionProblems(), deploymentChecks(cfg)...) {
		fmt.Fprintln(c.stderr, "problem:", p)
		problems++
	}
	if problems > 0 {
		return &exitError{code: 2, err: fmt.Errorf("waymark: %d deployment problem(s); see above", problems)}
	}
	fmt.Fprintln(c.stdout, "configuration ok")
	return nil
}

// deploymentChecks are problems that do not stop a development server but
// must be fixed before real survivors rely on this deployment.
func deploymentChecks(cfg *config.Config) []string {
	var p []string
	if cfg.TwilioAccountSID != "" && !cfg.TwilioOptOutReviewed {
		p = append(p, "WAYMARK_TWILIO_OPTOUT_REVIEWED: Twilio answers STOP, HELP and similar words itself, and that reply lands on the survivor's phone; configure neutral Advanced Opt-Out replies on the Messaging Service (README, \"SMS and Twilio\"), then set WAYMARK_TWILIO_OPTOUT_REVIEWED=true")
	}
	return p
}

func helpOK(err error) error {
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}
