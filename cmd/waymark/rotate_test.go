package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"waymark/casework"
	"waymark/config"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/seal"
	"waymark/staff"
)

// TestKeysRotate: a case enrolled under k1; `waymark keys rotate` with k2
// first moves everything, shows progress and reports k1=0; then a Waymark
// configured with k2 alone reads the case.
func TestKeysRotate(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	ctx := context.Background()
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	k1 := env["WAYMARK_KEYS"]
	k2 := seal.FormatKey("k2", seal.NewRandomKey())

	open := func(keys string) *app {
		t.Helper()
		env["WAYMARK_KEYS"] = keys
		cfg, err := config.Load(nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := buildApp(ctx, cfg, slog.New(slog.DiscardHandler), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.close)
		return a
	}
	a := open(k1)
	p := &staff.Principal{StaffID: randid.New("s_", 20), Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"south"}, AuthAt: time.Now()}
	s := func(v string) *string { return &v }
	c, err := a.cases.Create(ctx, p, casework.CaseInput{Phone: s("07700900123"), Alias: s("Robin"), Team: s("south"),
		RiskLevel: s("high"), CodeWords: []string{"lemon drizzle cake"}, PIN: s("1234"), DuressPIN: s("5678"), Notes: s("notes")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.cases.Reveal(ctx, p, c.ID, "so the audit trail has a sealed reason"); err != nil {
		t.Fatal(err)
	}

	run := func(keys string, args ...string) (string, error) {
		env["WAYMARK_KEYS"] = keys
		var out, errOut syncBuffer
		err := runWith(ctx, append([]string{"waymark"}, args...),
			&cli{getenv: func(k string) string { return env[k] }, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
		return out.String() + errOut.String(), err
	}
	out, err := run(k2+","+k1, "keys", "rotate")
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	for _, want := range []string{"rotating to key k2", "progress ", "re-wrapped 2 data keys", "remaining under non-active keys: k1=0",
		"key k1: 0 records left; it can now be removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var lastProgress string
	for _, l := range lines {
		if strings.HasPrefix(l, "progress ") {
			lastProgress = l
		}
	}
	if f := strings.Fields(lastProgress); len(f) < 2 || strings.Count(f[1], "/") != 1 ||
		strings.Split(f[1], "/")[0] != strings.Split(f[1], "/")[1] {
		t.Errorf("last progress line %q does not reach the total", lastProgress)
	}

	// The old key retired: everything still opens.
	b := open(k2)
	got, err := b.cases.Load(ctx, c.ID)
	if err != nil || got.SafetyNotes.Reveal() != "notes" {
		t.Fatalf("case under k2 only: %v", err)
	}
	if out, err := run(k2, "keys", "rotate"); err != nil || !strings.Contains(out, "only one key (k2)") {
		t.Errorf("rotate with one key: %v\n%s", err, out)
	}
	// Without a Redis it refuses, as every admin command does.
	delete(env, "WAYMARK_REDIS_URL")
	if _, err := run(k2, "keys", "rotate"); err == nil {
		t.Error("keys rotate without WAYMARK_REDIS_URL succeeded")
	}
}
