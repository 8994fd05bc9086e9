package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/config"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/seal"
	"waymark/staff"
	"waymark/store"
)

// TestRecordsCLI: export an alert's closing record, a case bundle that
// verifies with the published key alone, a MARAC share, the report as HTML
// with its chart, and `audit verify` naming a removed entry.
func TestRecordsCLI(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	ctx := context.Background()
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_AUDIT_KEY"] = b64(seal.NewRandomKey())
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(ctx, cfg, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	if _, err := a.staff.AddTeam(ctx, staff.Team{ID: "south", Name: "South"}); err != nil {
		t.Fatal(err)
	}
	acc, _, err := a.staff.Add(ctx, staff.NewAccount{Username: "casey", Roles: []staff.Role{staff.RoleCaseworker, staff.RoleResponder}, Teams: []string{"south"}})
	if err != nil {
		t.Fatal(err)
	}
	p := &staff.Principal{StaffID: acc.ID, DisplayName: "Casey", Roles: acc.Roles, Teams: acc.Teams, AuthAt: time.Now()}
	s := func(v string) *string { return &v }
	c, err := a.cases.Create(ctx, p, casework.CaseInput{Phone: s("07700900123"), Alias: s("Robin"), Team: s("south"),
		RiskLevel: s("high"), CodeWords: []string{"lemon drizzle cake"}, PIN: s("1234"), DuressPIN: s("5678"),
		MARAC: &casework.MARACInput{Referred: true, Date: time.Now().Format(time.DateOnly)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.alerts.App(ctx, c.ID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindMessage, Message: pii.NewText("help")}); err != nil {
		t.Fatal(err)
	}
	list, err := a.alerts.List(ctx, p, "open")
	if err != nil || len(list) != 1 {
		t.Fatalf("open alerts: %v, %v", list, err)
	}
	id := list[0].ID
	if err := a.alerts.Resolve(ctx, p, id, alert.Resolution{Outcome: alert.OutcomeSafe}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.records.Tick(ctx); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		t.Helper()
		out, errOut, err := staffRun(t, env, "", args...)
		return out + errOut, err
	}
	f := func(name string) string { return filepath.Join(dir, name) }

	// The closing record, for a service without an endpoint.
	if out, err := run("export", "alert", id, "--out", f("x.json")); exitCode(err) != 2 || !strings.Contains(out+err.Error(), "--by") {
		t.Errorf("export without --by: %v %s", err, out)
	}
	if _, err := run("export", "alert", id, "--by", "casey", "--out", f("record.json")); err != nil {
		t.Fatal(err)
	}
	rec, _ := os.ReadFile(f("record.json"))
	if !strings.Contains(string(rec), `"possible_repeat": true`) || !strings.Contains(string(rec), `"alias": "Robin"`) {
		t.Errorf("closing record: %s", rec)
	}
	if st, _ := os.Stat(f("record.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("record file mode %v", st.Mode())
	}
	if got, _ := a.store.Alerts.Alert(ctx, id); got.Record.Handoff != alert.HandoffExported {
		t.Errorf("after export: %+v", got.Record)
	}
	if _, err := run("export", "alert", id, "--by", "casey", "--out", f("record.json")); err == nil {
		t.Error("export overwrote a file")
	}

	// The case bundle verifies with the published public key and no secret.
	if _, err := run("export", "case", c.ID, "--by", "casey", "--out", f("bundle.json")); err != nil {
		t.Fatal(err)
	}
	pub, _, err := staffRun(t, env, "", "audit", "pubkey")
	if err != nil || !strings.HasPrefix(pub, "ed25519:") {
		t.Fatalf("pubkey: %q %v", pub, err)
	}
	noSecrets := map[string]string{}
	out, _, err := staffRun(t, noSecrets, "", "audit", "verify-bundle", f("bundle.json"), "--public-key", strings.TrimSpace(pub))
	if err != nil || !strings.HasPrefix(out, "bundle ok: case "+c.ID) {
		t.Errorf("verify-bundle: %q %v", out, err)
	}
	bundle, _ := os.ReadFile(f("bundle.json"))
	os.WriteFile(f("tampered.json"), []byte(strings.Replace(string(bundle), `\"safe\"`, `\"referred\"`, 1)), 0o600)
	if out, _, err := staffRun(t, noSecrets, "", "audit", "verify-bundle", f("tampered.json"), "--public-key", strings.TrimSpace(pub)); exitCode(err) != 1 || !strings.Contains(out, "DOES NOT VERIFY") {
		t.Errorf("tampered bundle: %q %v", out, err)
	}

	// MARAC: refused without a basis, then shared and recorded.
	if _, err := run("export", "marac", "--case", c.ID, "--meeting", "Southampton MARAC", "--basis", "", "--by", "casey", "--out", f("m0.json")); exitCode(err) != 2 {
		t.Errorf("MARAC share without a basis: %v", err)
	}
	if _, err := run("export", "marac", "--case", c.ID, "--meeting", "Southampton MARAC", "--basis", "Crime and Disorder Act 1998 s115", "--by", "casey", "--out", f("marac.json")); err != nil {
		t.Fatal(err)
	}

	// After an audit key rotation a case bundle still builds (entries made
	// before it are checked with the retired key) and verifies with the
	// new public key.
	env["WAYMARK_AUDIT_KEYS_RETIRED"] = env["WAYMARK_AUDIT_KEY"]
	env["WAYMARK_AUDIT_KEY"] = b64(seal.NewRandomKey())
	if out, err := run("export", "case", c.ID, "--by", "casey", "--out", f("bundle2.json")); err != nil {
		t.Fatalf("export case after a rotation: %v %s", err, out)
	}
	pub2, _, err := staffRun(t, env, "", "audit", "pubkey")
	if err != nil || strings.TrimSpace(pub2) == strings.TrimSpace(pub) {
		t.Fatalf("pubkey after the rotation: %q %v", pub2, err)
	}
	if out, _, err := staffRun(t, noSecrets, "", "audit", "verify-bundle", f("bundle2.json"), "--public-key", strings.TrimSpace(pub2)); err != nil || !strings.HasPrefix(out, "bundle ok: case "+c.ID) {
		t.Errorf("verify-bundle after the rotation: %q %v", out, err)
	}

	// The report: JSON by default, an HTML page with the SVG chart on asking.
	if out, err := run("report", "--area", "south"); err != nil || !strings.Contains(out, `"alerts": "<5"`) {
		t.Errorf("report: %v %s", err, out)
	}
	if _, err := run("report", "--html", "--out", f("report.html")); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(f("report.html"))
	if !strings.Contains(string(page), "<svg") || !strings.Contains(string(page), "&lt;5") || strings.Contains(string(page), "Robin") {
		t.Errorf("report page: %.400s", page)
	}

	// The chain verifies; with an entry removed, verify names where it breaks.
	out, _, err = staffRun(t, env, "", "audit", "verify")
	if err != nil || !strings.HasPrefix(out, "audit chain ok: ") {
		t.Fatalf("audit verify: %q %v", out, err)
	}
	recs, err := store.NewRecords(a.store.DB, nil).ReadAudit(ctx, 1000)
	if err != nil || len(recs) < 6 {
		t.Fatalf("audit entries: %d %v", len(recs), err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	for _, want := range []string{"case.create", "alert.export", "case.export", "marac.share", "report.export"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
	victim := recs[2]
	if out, err := exec.Command("redis-cli", "-s", r.Addr(), "XDEL", "wm:{default}:audit", victim.ID).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli: %v %s", err, out)
	}
	out, _, err = staffRun(t, env, "", "audit", "verify")
	want := regexp.MustCompile(`^BROKEN: audit chain broken at entry seq 4 \(stream id ` + regexp.QuoteMeta(recs[3].ID) + `, `)
	if exitCode(err) != 1 || !want.MatchString(out) {
		t.Errorf("audit verify after removing seq 3: %q %v", out, err)
	}
}
