// Package config holds Waymark's settings: what they are, where they come
// from, and whether they make sense together.
//
// It is the only package that reads the environment, and it reads it only
// through the getenv function it is given, so tests pass a map and nothing
// leaks in from the machine running them.
//
// Every setting is one line in the table in settings.go (Go field, variable,
// default, help) plus one field of Config with its validator/v10 tag. That
// table drives the flags, the environment lookup, Usage and Redacted, so
// adding a setting is one line and one field. The flag name is derived from
// the variable: WAYMARK_PUBLIC_URL is --public-url.
//
// Precedence, highest first: a flag given on the command line, the
// WAYMARK_* variable, for secrets the file named by WAYMARK_*_FILE, the
// default. Secrets are never flags, because command lines are visible to
// every user of the machine (ps, /proc) and end up in shell history. A secret
// set both directly and through _FILE is refused rather than guessed at.
//
// Load collects every problem before returning, one FieldError per bad
// setting in table order, each naming the variable and the rule it broke,
// so an operator fixes a deployment in one pass. Problems never quote a
// secret, and never quote a value that could be a phone number.
//
// Durations use Go syntax (90s, 15m, 12h; a bare 12 is refused) and are
// bounded, so that a slip cannot produce a deployment that logs staff out
// every few seconds or keeps survivors' data for a century. Usage prints the
// bounds from the validate tags, which are the ones enforced:
//
//	WAYMARK_SESSION_LIFETIME   5m .. 168h    (default 12h)
//	WAYMARK_SESSION_IDLE       1m .. 24h     (default 1h, and not above the lifetime)
//	WAYMARK_CANCEL_WINDOW      5s .. 1h      (default 30s)
//	WAYMARK_ACK_TIMEOUT        1m .. 24h     (default 15m)
//	WAYMARK_AUDITOR_INTERVAL   5s .. 10m     (default 30s)
//	WAYMARK_RETENTION_ALERTS   24h .. 87600h (default 2160h, 90 days)
//	WAYMARK_RETENTION_AUDIT    24h .. 87600h (default 17520h, 2 years)
//	WAYMARK_RETENTION_EVENTS   1h .. 2160h   (default 168h)
//	WAYMARK_CASE_LIFETIME      24h .. 87600h (default 4320h, 180 days)
//	WAYMARK_SHUTDOWN_TIMEOUT   1s .. 10m     (default 15s)
//
// Subcommands that take their own flags as well as the configuration call
// AddFlags on their own flag.FlagSet, parse it, then call Flags.Load:
//
//	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
//	simulate := fs.Bool("simulate", false, "raise demo alerts every few seconds")
//	cf := config.AddFlags(fs)
//	if err := fs.Parse(args); err != nil { ... }
//	cfg, err := cf.Load(getenv)
package config
