package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/audit"
	"waymark/casework"
	"waymark/postcode"
	"waymark/records"
	"waymark/staff"
)

// recordsEnv is the alert env with the records service wired (no
// case-management endpoint: records wait for export).
type recordsEnv struct {
	*alertEnv
	Records *records.Records
	admin   *http.Client
}

func newRecordsEnv(t *testing.T) *recordsEnv {
	t.Helper()
	a := newAlertEnv(t)
	recs, err := records.NewRecords(records.RecordsOptions{Store: a.Store, Cases: casework.NewSource(a.Cases), Case: a.Cases,
		AuditKey: a.Store.AuditKey(), Now: a.Clock.Now, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	a.Server = httptest.NewTLSServer(publicHandler(Deps{
		Logger: discard(), Now: a.Clock.Now, Staff: a.Staff, Cases: a.Cases, Alerts: a.Alerts, Postcodes: dir, Records: recs,
	}))
	t.Cleanup(a.Server.Close)
	e := &recordsEnv{alertEnv: a, Records: recs}
	e.admin = a.login(t, "ada", []staff.Role{staff.RoleAdmin}, nil)
	return e
}

func TestAlertRecordRoutes(t *testing.T) {
	e := newRecordsEnv(t)
	ctx := context.Background()
	responder := e.login(t, "rowan", []staff.Role{staff.RoleResponder}, []string{"south"})
	if status, _, b := e.app(t, "POST", "/v1/app/signal", signal("panic")); status != http.StatusAccepted {
		t.Fatalf("signal: %d %s", status, b)
	}
	alerts := e.openAlerts(t, responder)
	if len(alerts) != 1 {
		t.Fatalf("open alerts: %v", alerts)
	}
	id := alerts[0]["id"].(string)
	e.Clock.Advance(45 * time.Second)
	if status, _, b := e.call(t, responder, "POST", "/v1/alerts/"+id+"/ack", nil); status != http.StatusOK {
		t.Fatalf("ack: %d %s", status, b)
	}
	status, _, b := e.call(t, responder, "POST", "/v1/alerts/"+id+"/resolve", map[string]any{
		"outcome": "police-attended", "police_reference": "CAD-1", "childrens_services_reference": "CS-9"})
	if status != http.StatusOK {
		t.Fatalf("resolve: %d %s", status, b)
	}
	var v map[string]any
	json.Unmarshal(b, &v)
	// The case was referred to MARAC in February: a possible repeat; the
	// record has not been filed yet.
	if v["handoff"] != "pending" || v["record_status"] != "record not yet filed" || v["possible_repeat"] != true {
		t.Errorf("resolved view: handoff %v, record_status %v, possible_repeat %v", v["handoff"], v["record_status"], v["possible_repeat"])
	}
	if _, err := e.Records.Tick(ctx); err != nil {
		t.Fatal(err)
	}

	// Reports: admins only, small counts hidden, the chart as SVG.
	if status, _, _ := e.call(t, responder, "GET", "/v1/reports/summary", nil); status != http.StatusForbidden {
		t.Errorf("responder reading the report: %d", status)
	}
	status, _, b = e.call(t, e.admin, "GET", "/v1/reports/summary?area=south", nil)
	if status != http.StatusOK {
		t.Fatalf("report: %d %s", status, b)
	}
	var rep records.Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.Alerts != "<5" {
		t.Errorf("report: %s", b)
	}
	for _, bad := range []string{id, e.caseID, "CAD-1", "Wren"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("report holds %q", bad)
		}
	}
	if status, _, b := e.call(t, e.admin, "GET", "/v1/reports/summary?from=yesterday", nil); status != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"from"`) {
		t.Errorf("bad from: %d %s", status, b)
	}
	status, hdr, b := e.call(t, e.admin, "GET", "/v1/reports/chart.svg", nil)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "image/svg+xml") ||
		!strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") || !strings.HasPrefix(string(b), "<svg") {
		t.Errorf("chart: %d %v %.80s", status, hdr, b)
	}
	status, _, b = e.call(t, e.admin, "GET", "/v1/reports/handoffs", nil)
	if status != http.StatusOK || jsonNumber(t, b, "pending") != 1 {
		t.Errorf("hand-offs: %d %s", status, b)
	}

	// Legal hold on the alert: admin only, audited, shown on the view.
	if status, _, _ := e.call(t, responder, "PUT", "/v1/alerts/"+id+"/legal-hold", map[string]any{"hold": true}); status != http.StatusForbidden {
		t.Errorf("responder setting a hold: %d", status)
	}
	if status, _, b := e.call(t, e.admin, "PUT", "/v1/alerts/"+id+"/legal-hold", map[string]any{"hold": true}); status != http.StatusNoContent {
		t.Fatalf("hold: %d %s", status, b)
	}
	if status, _, _ := e.call(t, e.admin, "PUT", "/v1/alerts/a_nosuchalertnosuchale/legal-hold", map[string]any{"hold": true}); status != http.StatusNotFound {
		t.Errorf("hold on a missing alert: %d", status)
	}
	status, _, b = e.call(t, responder, "GET", "/v1/alerts/"+id, nil)
	json.Unmarshal(b, &v)
	if status != http.StatusOK || v["legal_hold"] != true {
		t.Errorf("view after hold: %d legal_hold=%v", status, v["legal_hold"])
	}

	// Sign-ins, the claim, the resolve and the hold are in the audit chain.
	var got []string
	if err := e.Store.AuditChain(ctx, func(_ *audit.Checkpoint, en *audit.ChainEntry, _ string) error {
		if en != nil {
			got = append(got, en.Action+" "+en.Outcome)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"staff.login ok", "alert.claim ok", "alert.resolve ok", "alert.legal_hold ok: hold=true"} {
		if !strings.Contains(all, want) {
			t.Errorf("audit lacks %q:\n%s", want, all)
		}
	}
	if _, err := e.Records.VerifyAuditKeys(ctx, nil); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestFailedSignInIsAuditedWithoutTheName(t *testing.T) {
	e := newRecordsEnv(t)
	status, _, _ := e.call(t, e.client(), "POST", "/v1/auth/login", map[string]string{
		"username": "ada", "password": "wrong password here", "totp": "000000"})
	if status != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", status)
	}
	e.Clock.Advance(records.SignInWindow)
	if n, err := e.Records.FlushSignInFailures(context.Background()); n != 1 || err != nil {
		t.Fatalf("flush = %d, %v", n, err)
	}
	var last *audit.ChainEntry
	e.Store.AuditChain(context.Background(), func(_ *audit.Checkpoint, en *audit.ChainEntry, _ string) error {
		if en != nil {
			last = en
		}
		return nil
	})
	if last == nil || last.Action != "staff.login" || !strings.HasPrefix(last.Outcome, "refused: bad credentials ×1 from address t:") || last.Actor != "(unknown)" {
		t.Errorf("last audit entry = %+v", last)
	}
	if strings.Contains(last.Outcome, "127.0.0.1") {
		t.Errorf("the summary holds the address: %q", last.Outcome)
	}
}

// TestFailedSignInsSummarised: a flood of failed sign-ins (throttled ones
// included) costs the audit trail one entry per account, address, outcome
// and window, written when the window ends, not one per attempt.
func TestFailedSignInsSummarised(t *testing.T) {
	e := newRecordsEnv(t)
	ctx := context.Background()
	entries := func() (n int, outcomes []string) {
		e.Store.AuditChain(ctx, func(_ *audit.Checkpoint, en *audit.ChainEntry, _ string) error {
			if en != nil {
				n++
				outcomes = append(outcomes, en.Action+" "+en.Outcome)
			}
			return nil
		})
		return n, outcomes
	}
	before, _ := entries()
	// Start just after a window begins, so the 30 s of attempts below
	// fall in one window whatever the time the test runs at (started at
	// the real time, they would span two about once in 30 runs).
	now := e.Clock.Now()
	e.Clock.Advance(now.Truncate(records.SignInWindow).Add(records.SignInWindow).Sub(now) + time.Second)
	wrong := map[string]string{"username": "ada", "password": "wrong password here", "totp": "000000"}
	counts := map[int]int{}
	for range 300 {
		e.Clock.Advance(100 * time.Millisecond)
		status, _, _ := e.call(t, e.client(), "POST", "/v1/auth/login", wrong)
		counts[status]++
	}
	if counts[http.StatusUnauthorized] == 0 || counts[http.StatusTooManyRequests] == 0 {
		t.Fatalf("statuses %v, want both 401s and 429s", counts)
	}
	if n, _ := entries(); n != before {
		t.Errorf("%d audit entries during the window, want none yet", n-before)
	}
	e.Clock.Advance(records.SignInWindow)
	if _, err := e.Records.FlushSignInFailures(ctx); err != nil {
		t.Fatal(err)
	}
	n, outcomes := entries()
	added := outcomes[before:]
	want := []string{
		fmt.Sprintf("staff.login refused: bad credentials ×%d ", counts[http.StatusUnauthorized]),
		fmt.Sprintf("staff.login refused: throttled ×%d ", counts[http.StatusTooManyRequests]),
	}
	slices.Sort(added)
	if n-before != 2 || !strings.HasPrefix(added[0], want[0]) || !strings.HasPrefix(added[1], want[1]) {
		t.Errorf("after the window, %d entries %q; want two: %q", n-before, added, want)
	}
	if n, err := e.Records.FlushSignInFailures(ctx); n != 0 || err != nil {
		t.Errorf("second flush = %d, %v; want nothing left", n, err)
	}
	if _, err := e.Records.VerifyAuditKeys(ctx, nil); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func jsonNumber(t *testing.T, b []byte, name string) float64 {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	n, _ := m[name].(float64)
	return n
}
