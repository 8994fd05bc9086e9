package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"waymark/cmd/waymark/internal/demoworld"
)

// demoUsage is printed before the settings on `waymark demo -h`.
const demoUsage = `waymark demo [--simulate] [flags]

Runs Waymark on the embedded in-memory Redis with a seeded team, a
responder, a caseworker, three demo cases (one with the app enrolled), the
national helplines and a fictional local directory, and prints how to sign
in. Nothing survives the exit.

  --simulate   raise a signed SMS code word, an app panic with a moving
               location and a missed check-in every few seconds, so the
               dashboard comes alive at once
`

// demo runs Waymark on the embedded Redis with seeded data: the way a
// newcomer meets it. A configured Redis is refused, never silently
// replaced, and never filled with demo data.
func demo(ctx context.Context, c *cli, args []string) error {
	args, simulate := demoFlags(args)
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(c.stdout, demoUsage+"\n")
		}
	}
	token := make([]byte, 16)
	rand.Read(token)
	dc := *c
	dc.getenv = demoEnv(c.getenv, hex.EncodeToString(token))
	return serve(ctx, &dc, args, serveOptions{demo: true, onReady: func(ctx context.Context, a *app, base, appURL string) error {
		w, err := demoworld.Seed(ctx, demoworld.Deps{Config: a.cfg, Staff: a.staff, Cases: a.cases, Alerts: a.alerts, Now: a.now}, base)
		if err != nil {
			return fmt.Errorf("waymark demo: seed: %w", err)
		}
		if appURL != "" {
			if err := w.LinkApp(ctx, appURL); err != nil {
				return fmt.Errorf("waymark demo: app link: %w", err)
			}
		}
		w.Welcome(c.stdout, base, simulate)
		go w.PrintCodes(ctx, c.stdout)
		if simulate {
			go w.Simulate(ctx, base, c.stdout)
		}
		return nil
	}})
}

// demoFlags takes --simulate out of args; the rest are settings.
func demoFlags(args []string) ([]string, bool) {
	var rest []string
	simulate := false
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "simulate", "simulate=true":
			if strings.HasPrefix(a, "-") {
				simulate = true
				continue
			}
		case "simulate=false":
			if strings.HasPrefix(a, "-") {
				simulate = false
				continue
			}
		}
		rest = append(rest, a)
	}
	return rest, simulate
}

// demoEnv fills in what the demo needs and the environment leaves unset:
// plain-http cookies (the demo serves http on loopback only) and a
// throwaway Twilio account whose auth token signs the simulated webhooks.
// Twilio never calls the demo, so the public URL is only the base those
// signatures cover. No From number is set: nothing is ever sent to Twilio.
func demoEnv(getenv func(string) string, token string) func(string) string {
	defaults := map[string]string{
		"WAYMARK_INSECURE_COOKIES":   "true",
		"WAYMARK_TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("0", 32),
		"WAYMARK_TWILIO_AUTH_TOKEN":  token,
		"WAYMARK_PUBLIC_URL":         "http://127.0.0.1",
		// The survivor's app on its own origin, beside the dashboard.
		"WAYMARK_APP_ADDR": "127.0.0.1:0",
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return defaults[k]
	}
}
