package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/testenv"
	"waymark/store"
)

// faultDrill: `waymark drill` against a running instance, a real
// redis-server and the fake Twilio through the real client. The drill runs
// the whole path of the team's policy, primary, secondary, duty manager,
// then the fallback's phone, and every text and call says DRILL.
func faultDrill(t *testing.T, bin string) {
	e := newFaultEnv(t, bin, faultPolicyFile(""))
	e.start("a")
	t0 := time.Now()
	out, errOut, err := staffRun(t, e.env, "", "drill", "--team", "north", "--by", "mgr")
	if err != nil {
		t.Fatalf("drill: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "drill alert a_") || !strings.Contains(out, "on call now: primary "+e.ids["prim"]) {
		t.Errorf("drill output:\n%s", out)
	}
	open := e.openAlerts()
	if len(open) != 1 || open[0].Mode != alert.ModeDrill || open[0].Source != alert.SourceDrill || open[0].CaseID != "" {
		t.Fatalf("open alerts after the drill: %+v", open)
	}
	waitFor(t, 40*time.Second, "the drill to reach the fallback's phone", func() bool { return e.rec.count("call", "fallback", t0) > 0 })
	for _, who := range []string{"prim", "sec", "mgr"} {
		if n := e.rec.count("message", who, t0); n != 1 {
			t.Errorf("%d texts to %s, want 1", n, who)
		}
	}
	reqs := e.fake.Requests()
	if len(reqs) < 4 {
		t.Fatalf("%d requests reached Twilio, want at least 4", len(reqs))
	}
	for _, r := range reqs {
		text := r.Form.Get("Body") + r.Form.Get("Twiml")
		if !strings.HasPrefix(r.Form.Get("Body"), "DRILL. ") && !strings.Contains(r.Form.Get("Twiml"), "DRILL. ") {
			t.Errorf("a %s to %s does not say DRILL: %q", r.Kind, faultWho(r.Form.Get("To")), text)
		}
	}
	e.assertAuditAction(t, "alert.drill", e.ids["mgr"])
}

// assertAuditAction checks the audit trail holds action by actor.
func (e *faultEnv) assertAuditAction(t *testing.T, action, actor string) {
	t.Helper()
	recs, err := store.NewRecords(e.app.store.DB, nil).ReadAudit(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == action && r.Actor == actor {
			return
		}
	}
	t.Errorf("no audit entry %s by %s in %d entries", action, actor, len(recs))
}

// TestDrillRefusals: a drill for no team, an unknown team or risk, or by
// an unknown member of staff is refused and stores nothing.
func TestDrillRefusals(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	if _, errOut, err := staffRun(t, env, "", "team", "add", "--id", "north", "--name", "North"); err != nil {
		t.Fatalf("team add: %v\n%s", err, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no team", []string{"drill"}, "usage: waymark drill"},
		{"unknown team", []string{"drill", "--team", "south"}, `no team "south"`},
		{"bad risk", []string{"drill", "--team", "north", "--risk", "extreme"}, "--risk must be"},
		{"unknown staff", []string{"drill", "--team", "north", "--by", "nobody"}, "no active staff account"},
		{"stray argument", []string{"drill", "--team", "north", "now"}, "usage: waymark drill"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := staffRun(t, env, "", tc.args...)
			if err == nil {
				t.Fatalf("accepted: %s", out)
			}
			if msg := err.Error() + errOut; !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to say %q", msg, tc.want)
			}
		})
	}
	testenv.RequireBinary(t, "redis-cli", "apt-get install -y redis-tools")
	keys, err := exec.Command("redis-cli", "-s", r.Addr(), "--scan", "--pattern", "*alert*").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli: %v %s", err, keys)
	}
	if strings.TrimSpace(string(keys)) != "" {
		t.Errorf("a refused drill stored %s", keys)
	}
}
