package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waymark/internal/testenv"
	"waymark/oncall"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRotaAndPolicyCLI: `waymark rota set` and `policy set` refuse bad
// files naming the problem and leave what is in force; good ones replace
// it; `rota show` answers who is on call.
func TestRotaAndPolicyCLI(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	if _, errOut, err := staffRun(t, env, "", "team", "add", "--id", "north", "--name", "North"); err != nil {
		t.Fatalf("team add: %v\n%s", err, errOut)
	}
	for u, ph := range map[string]string{"ana": "+447700900150", "ben": "+447700900151"} {
		if _, errOut, err := staffRun(t, env, "", "staff", "add", "--username", u, "--role", "responder", "--team", "north", "--phone", ph); err != nil {
			t.Fatalf("staff add: %v\n%s", err, errOut)
		}
	}
	good := writeFile(t, "good.yaml", `
# Days and nights, wall clock in Europe/London; times unquoted on purpose.
team: north
shifts:
  - {tier: primary, staff: ana, days: daily, start: 08:00, end: 20:00}
  - {tier: primary, staff: ben, days: daily, start: 20:00, end: 08:00}
overrides:
  - {kind: swap, tier: primary, staff: ben, replaces: ana, from: 2026-10-25T08:00, to: 2026-10-25T20:00}
`)
	out, errOut, err := staffRun(t, env, "", "rota", "set", "--team", "north", good)
	if err != nil || !strings.Contains(out, "version 1") {
		t.Fatalf("rota set = %v\n%s%s", err, out, errOut)
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"unknown person", "shifts:\n  - {tier: primary, staff: zed, days: daily, start: 08:00, end: 20:00}\n", "shifts[0].staff: is not a known staff id or username"},
		{"impossible time", "shifts:\n  - {tier: primary, staff: ana, days: daily, start: 08:00, end: 25:00}\n", "shifts[0].end"},
		{"gap, no fallback", "shifts:\n  - {tier: primary, staff: ana, days: daily, start: 08:00, end: 20:00}\n", "nobody on call"},
		{"skipped hour", "shifts:\n  - {tier: primary, staff: ana, days: daily, start: 00:00, end: 24:00}\noverrides:\n  - {kind: cover, tier: secondary, staff: ben, from: 2027-03-28T01:30, to: 2027-03-28T05:00}\n", "overrides[0].from: does not exist"},
		{"unknown field", "shifts: []\nshift: []\n", "unknown field"},
		{"alias", "a: &x {tier: primary}\nshifts: [*x]\n", "aliases are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := staffRun(t, env, "", "rota", "set", "--team", "north", writeFile(t, "bad.yaml", tc.body))
			if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("rota set = %v, want exit 2 naming %q", err, tc.want)
			}
		})
	}
	out, _, err = staffRun(t, env, "", "rota", "show", "--team", "north", "--at", "2026-10-25T09:00")
	if err != nil || !strings.Contains(out, "rota version 1") || !strings.Contains(out, "(ben)") || strings.Contains(out, "(ana)") {
		t.Errorf("rota show during the swap = %v\n%s", err, out)
	}
	out, _, err = staffRun(t, env, "", "rota", "show", "--team", "north", "--at", "2026-10-26T08:00")
	if err != nil || !strings.Contains(out, "(ana)") {
		t.Errorf("rota show after the change, 08:00 GMT = %v\n%s", err, out)
	}

	// A gap is accepted, with a warning, when the 24/7 fallback covers it.
	fb := map[string]string{}
	for k, v := range env {
		fb[k] = v
	}
	fb["WAYMARK_FALLBACK_PHONE"] = "+447700900199"
	out, errOut, err = staffRun(t, fb, "", "rota", "set", "--team", "north", writeFile(t, "gap.yaml", "shifts:\n  - {tier: primary, staff: ana, days: weekdays, start: 09:00, end: 17:00}\n"))
	if err != nil || !strings.Contains(out, "version 2") || !strings.Contains(errOut, "covered only by the 24/7 fallback") {
		t.Errorf("rota set with a covered gap = %v\n%s%s", err, out, errOut)
	}

	_, _, err = staffRun(t, env, "", "policy", "set", "--team", "north", writeFile(t, "p.yaml", "high:\n  steps:\n    - {whom: [oncall:primary], how: [sms], wait: 0s}\n    - {whom: [fallback], how: [voice], wait: 5m}\n"))
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "high.steps[0].wait: must be more than zero") {
		t.Errorf("zero wait = %v", err)
	}
	_, _, err = staffRun(t, env, "", "policy", "set", "--team", "north", writeFile(t, "p.yaml", "high:\n  steps:\n    - {whom: [oncall:primary], how: [sms], wait: 1m}\n"))
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "must page the fallback") {
		t.Errorf("no path to the fallback = %v", err)
	}
	out, errOut, err = staffRun(t, env, "", "policy", "set", "--team", "north", writeFile(t, "p.yaml",
		"high:\n  repeat: 1\n  steps:\n    - {whom: [oncall:primary, case-owner, staff:ben], how: [dashboard, sms], wait: 90s}\n    - {whom: [fallback], how: [voice, sms], wait: 5m}\n"))
	if err != nil || !strings.Contains(out, "version 1") || !strings.Contains(errOut, "WAYMARK_FALLBACK_PHONE is not set") {
		t.Errorf("policy set = %v\n%s%s", err, out, errOut)
	}
	out, _, err = staffRun(t, env, "", "policy", "show", "--team", "north")
	if err != nil || !strings.Contains(out, `"repeat": 1`) || !strings.Contains(out, `"1m30s"`) {
		t.Errorf("policy show = %v\n%s", err, out)
	}
}

func TestDecodeAdminFileKeepsText(t *testing.T) {
	var f oncall.RotaFile
	err := decodeAdminFile([]byte("shifts:\n  - {tier: primary, staff: 007, days: [mon], start: 09:00, end: 17:30}\noverrides:\n  - {kind: cover, tier: primary, staff: x, from: 2026-10-25, to: 2026-10-26T09:00}\n"), &f)
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Shifts[0]; s.Start != "09:00" || s.End != "17:30" || s.Staff != "007" {
		t.Errorf("shift %+v: YAML scalars must keep their text", s)
	}
	if o := f.Overrides[0]; o.From != "2026-10-25" {
		t.Errorf("override from %q: a date must not become a UTC timestamp", o.From)
	}
	if err := decodeAdminFile([]byte("{\"shifts\": [], \"zzz\": 1}"), &f); err == nil {
		t.Error("an unknown field was accepted")
	}
}

// FuzzDecodeAdminFile: no file, however odd, panics the YAML/JSON
// decoding of rota and policy files.
func FuzzDecodeAdminFile(f *testing.F) {
	f.Add([]byte("shifts:\n  - {tier: primary, staff: a, days: daily, start: 08:00, end: 20:00}\n"))
	f.Add([]byte(`{"high":{"steps":[{"whom":["fallback"],"how":["voice"],"wait":"5m"}]}}`))
	f.Add([]byte("a: &x [1, 2]\nb: *x\n"))
	f.Add([]byte("high:\n  repeat: 99999999999999999999\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r oncall.RotaFile
		decodeAdminFile(b, &r)
		var p oncall.PolicyFile
		decodeAdminFile(b, &p)
	})
}
