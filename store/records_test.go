package store

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casefile"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/records"
	"waymark/staff"
	"waymark/store/internal/kv"
)

// endpoint is a case-management endpoint on loopback whose answers the test
// scripts: a status, or "hang" (no answer until the client gives up).
type endpoint struct {
	mu      sync.Mutex
	script  []string
	got     [][]byte
	headers []http.Header
	srv     *httptest.Server
}

func newEndpoint(t *testing.T, script ...string) *endpoint {
	ep := &endpoint{script: script}
	ep.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ep.mu.Lock()
		next := "200"
		if len(ep.script) > 0 {
			next, ep.script = ep.script[0], ep.script[1:]
		}
		ep.got = append(ep.got, body)
		ep.headers = append(ep.headers, r.Header.Clone())
		ep.mu.Unlock()
		switch next {
		case "hang":
			<-r.Context().Done() // the client's timeout ends it
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "400":
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(ep.srv.Close)
	return ep
}

func (ep *endpoint) requests() ([][]byte, []http.Header) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return append([][]byte(nil), ep.got...), append([]http.Header(nil), ep.headers...)
}

var testSecret = []byte("a shared secret for the endpoint")

// newRecords builds the records service on e's store; filer may be nil.
func newRecords(t *testing.T, e *alertEnv, filer records.Filer, retention time.Duration) *records.Records {
	t.Helper()
	r, err := records.NewRecords(records.RecordsOptions{Store: e.s, Cases: e.cases, Filer: filer, AuditKey: e.s.AuditKey(),
		Retention: retention, AuditRetention: 400 * 24 * time.Hour, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *alertEnv) filer(t *testing.T, ep *endpoint) records.Filer {
	t.Helper()
	c, err := casefile.New(casefile.Options{Endpoint: ep.srv.URL + "/records", Secret: testSecret,
		Timeout: 300 * time.Millisecond, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// resolvedAlert raises an app panic with a location on a new case, claims
// it and resolves it with a police reference.
func (e *alertEnv) resolvedAlert(t *testing.T) (caseID string, a *alert.Alert) {
	t.Helper()
	ctx := context.Background()
	caseID = e.newCase()
	if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic, Location: mustLoc(t)}); err != nil {
		t.Fatal(err)
	}
	a = e.openAlert(caseID)
	e.clk.Advance(40 * time.Second)
	if err := e.svc.Ack(ctx, who("s_one"), a.ID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Minute)
	if err := e.svc.Resolve(ctx, who("s_one"), a.ID, alert.Resolution{Outcome: alert.OutcomePoliceAttended,
		PoliceRef: pii.NewText("CAD-4471-22NOV"), Note: pii.NewText("Canary-note: officers attended")}); err != nil {
		t.Fatal(err)
	}
	return caseID, a
}

func (e *alertEnv) exists(t *testing.T, key string) bool {
	t.Helper()
	n, err := e.s.RDB.Exists(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func (e *alertEnv) record(t *testing.T, id string) alert.RecordState {
	t.Helper()
	a, err := e.s.Alert(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Record
}

func TestHandoffRetriedUntilFiledThenRetentionRuns(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	ep := newEndpoint(t, "503", "hang", "400", "200")
	const retention = 30 * 24 * time.Hour
	recs := newRecords(t, e, e.filer(t, ep), retention)
	_, a := e.resolvedAlert(t)

	// A year on, nothing filed yet: the sealed details are all still there.
	e.clk.Advance(365 * 24 * time.Hour)
	if rep, err := recs.Sweep(ctx); err != nil || rep.Erased != 0 {
		t.Fatalf("sweep before filing = %+v, %v; want nothing erased", rep, err)
	}
	if !e.exists(t, e.s.k.alertTimeline(a.ID)) || !e.exists(t, e.s.k.AlertRecord(a.ID)) {
		t.Fatal("sealed details gone before the hand-off was confirmed")
	}

	// The endpoint refuses, hangs, refuses: each failure is recorded and
	// retried after a growing wait; the record stays pending throughout.
	for i, want := range []struct {
		problem string
		wait    time.Duration
	}{
		{"casefile: endpoint answered 503", 30 * time.Second},
		{"casefile: no answer in time", time.Minute},
		{"casefile: endpoint answered 400", 2 * time.Minute},
	} {
		if n, err := recs.Tick(ctx); n != 1 || err != nil {
			t.Fatalf("try %d: tick = %d, %v", i+1, n, err)
		}
		rs := e.record(t, a.ID)
		if rs.Handoff != alert.HandoffPending || rs.Tries != i+1 || rs.LastError != want.problem {
			t.Fatalf("after try %d: %+v, want pending, %d tries, %q", i+1, rs, i+1, want.problem)
		}
		if got := rs.NextTry.Sub(e.clk.Now()); got != want.wait {
			t.Errorf("after try %d: next try in %v, want %v", i+1, got, want.wait)
		}
		// Not due again before the backoff ends.
		e.clk.Advance(want.wait - time.Millisecond)
		if n, _ := recs.Tick(ctx); n != 0 {
			t.Fatalf("after try %d: retried before its backoff", i+1)
		}
		e.clk.Advance(time.Millisecond)
	}
	stats, err := recs.HandoffStats(ctx)
	if err != nil || stats.Pending != 1 || stats.Failing != 1 {
		t.Errorf("hand-off stats = %+v, %v; want one pending, failing", stats, err)
	}
	if n, err := recs.Tick(ctx); n != 1 || err != nil {
		t.Fatalf("fourth try: %d, %v", n, err)
	}
	filedAt := e.clk.Now()
	rs := e.record(t, a.ID)
	if rs.Handoff != alert.HandoffFiled || !rs.FiledAt.Equal(filedAt) {
		t.Fatalf("after acknowledgement: %+v, want filed at %v", rs, filedAt)
	}

	// Every attempt carried the same record, signed over its exact bytes.
	bodies, hdrs := ep.requests()
	if len(bodies) != 4 {
		t.Fatalf("endpoint saw %d requests, want 4", len(bodies))
	}
	last := bodies[3]
	ts, err := strconv.ParseInt(hdrs[3].Get(casefile.HeaderTimestamp), 10, 64)
	if err != nil || hdrs[3].Get(casefile.HeaderSignature) != casefile.Sign(testSecret, ts, last) {
		t.Errorf("signature %q over timestamp %q does not match the body", hdrs[3].Get(casefile.HeaderSignature), hdrs[3].Get(casefile.HeaderTimestamp))
	}
	if got := hdrs[3].Get(casefile.HeaderRecordID); got != a.ID+".1" {
		t.Errorf("record id header = %q", got)
	}
	var rec records.ClosingRecord
	if err := json.Unmarshal(last, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.PoliceIncidentNumber != "CAD-4471-22NOV" || rec.Outcome != "police-attended" || len(rec.Actions) < 2 ||
		!strings.Contains(string(last), "Canary-note") {
		t.Errorf("closing record lacks what happened: %s", last)
	}
	if strings.Contains(string(last), "50.9") {
		t.Error("closing record carries a location fix")
	}
	// The trail ended with the alert; the rest waits for retention.
	if e.exists(t, e.s.k.alertTrail(a.ID)) {
		t.Error("location trail outlived its alert")
	}

	// Receipts, in both their forms, go with the alert.
	if err := e.s.SaveReceipts(ctx, []Receipt{{Alert: a.ID, Staff: "s_prim", Teams: []string{a.Team}, At: e.clk.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.RDB.HSet(ctx, e.s.k.AlertSeen(a.ID), "s_earlier", e.clk.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	if !e.exists(t, e.s.k.AlertReceipts(a.ID)) {
		t.Fatal("setup: no receipts stored")
	}

	// Retention counts from the filing, not the close.
	e.clk.Advance(retention - time.Millisecond)
	if rep, _ := recs.Sweep(ctx); rep.Erased != 0 || !e.exists(t, e.s.k.alertTimeline(a.ID)) {
		t.Fatal("erased before the retention period after filing")
	}
	e.clk.Advance(time.Millisecond)
	rep, err := recs.Sweep(ctx)
	if err != nil || rep.Erased != 1 {
		t.Fatalf("sweep at retention = %+v, %v; want one erased", rep, err)
	}
	for _, k := range []string{e.s.k.AlertRecord(a.ID), e.s.k.alertTimeline(a.ID), e.s.k.AlertReceipts(a.ID), e.s.k.AlertSeen(a.ID)} {
		if e.exists(t, k) {
			t.Errorf("%s survived retention", k)
		}
	}
	// What remains is counts without identity.
	counts, err := e.s.ReportCounts(ctx)
	if err != nil || len(counts) == 0 {
		t.Fatalf("report counters = %v, %v", counts, err)
	}
	for k := range counts {
		if strings.Contains(k, a.ID) || strings.Contains(k, "c_") {
			t.Errorf("counter %q holds an id", k)
		}
	}
	var actions []string
	recsAudit, _ := e.s.ReadAudit(ctx, 100)
	for _, r := range recsAudit {
		actions = append(actions, r.Action+" "+r.Outcome)
	}
	for _, want := range []string{"alert.handoff ok: filed revision 1", "alert.erase ok: retention"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit lacks %q: %v", want, actions)
		}
	}
}

func TestLegalHoldKeepsAlertUntilLifted(t *testing.T) {
	for _, on := range []string{"alert", "case"} {
		t.Run(on, func(t *testing.T) {
			e := newAlertEnv(t, testenv.RedisOptions{})
			ctx := context.Background()
			const retention = 24 * time.Hour
			recs := newRecords(t, e, e.filer(t, newEndpoint(t)), retention)
			caseID, a := e.resolvedAlert(t)
			admin := &staff.Principal{StaffID: "s_admin", Roles: []staff.Role{staff.RoleAdmin}}
			hold := func(v bool) {
				t.Helper()
				var err error
				if on == "alert" {
					err = recs.SetAlertHold(ctx, admin, a.ID, v)
				} else {
					// e.newCase makes no case record; the hold is its plain field.
					err = e.s.RDB.HSet(ctx, e.s.k.CaseRecord(caseID), fLegalHold, kv.Flag(v)).Err()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			hold(true)
			if _, err := recs.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if rs := e.record(t, a.ID); rs.Handoff != alert.HandoffFiled {
				t.Fatalf("held alert's record not filed: %+v", rs)
			}
			// The hold also keeps the trail, which otherwise ends at the close.
			if !e.exists(t, e.s.k.alertTrail(a.ID)) {
				t.Error("hold did not keep the location trail")
			}
			e.clk.Advance(10 * retention)
			rep, err := recs.Sweep(ctx)
			if err != nil || rep.Held != 1 || rep.Erased != 0 || !e.exists(t, e.s.k.alertTimeline(a.ID)) {
				t.Fatalf("sweep under hold = %+v, %v; want held and kept", rep, err)
			}
			hold(false)
			if rep, err := recs.Sweep(ctx); err != nil || rep.Erased != 1 || e.exists(t, e.s.k.alertTimeline(a.ID)) || e.exists(t, e.s.k.alertTrail(a.ID)) {
				t.Fatalf("sweep after the hold lifted = %+v, %v; want erased", rep, err)
			}
			if on == "alert" {
				recsAudit, _ := e.s.ReadAudit(ctx, 100)
				var outs []string
				for _, r := range recsAudit {
					if r.Action == "alert.legal_hold" {
						outs = append(outs, r.Outcome)
					}
				}
				if strings.Join(outs, ",") != "ok: hold=true,ok: hold=false" {
					t.Errorf("holds audited as %v", outs)
				}
			}
		})
	}
}

func TestNoteAfterFilingQueuesNewRevision(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	ep := newEndpoint(t)
	recs := newRecords(t, e, e.filer(t, ep), 24*time.Hour)
	_, a := e.resolvedAlert(t)
	if _, err := recs.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Note(ctx, who("s_one"), a.ID, pii.NewText("late note")); err != nil {
		t.Fatal(err)
	}
	if rs := e.record(t, a.ID); rs.Handoff != alert.HandoffPending || rs.Rev != 2 {
		t.Fatalf("after a late note: %+v, want pending revision 2", rs)
	}
	e.clk.Advance(10 * 24 * time.Hour)
	if rep, _ := recs.Sweep(ctx); rep.Erased != 0 {
		t.Fatal("an alert with an unfiled revision was erased")
	}
	if _, err := recs.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	_, hdrs := ep.requests()
	if len(hdrs) != 2 || hdrs[1].Get(casefile.HeaderRecordID) != a.ID+".2" {
		t.Errorf("second delivery = %v", hdrs)
	}
	if rs := e.record(t, a.ID); rs.Handoff != alert.HandoffFiled || !rs.FiledAt.Equal(e.clk.Now()) {
		t.Errorf("revision 2 not filed: %+v", rs)
	}
}

func TestExportAlertMarksExported(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	recs := newRecords(t, e, nil, 24*time.Hour)
	_, a := e.resolvedAlert(t)
	// No endpoint: the hand-off stays pending (and the alert is counted).
	if _, err := recs.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if rs := e.record(t, a.ID); rs.Handoff != alert.HandoffPending || !rs.Summarized {
		t.Fatalf("without an endpoint: %+v", rs)
	}
	var out []byte
	outsider := &staff.Principal{StaffID: "s_out", Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"north"}}
	if err := recs.ExportAlert(ctx, outsider, a.ID, func(b []byte) error { out = b; return nil }); !errors.Is(err, records.ErrExportRefused) || out != nil {
		t.Fatalf("export by another team = %v", err)
	}
	cw := &staff.Principal{StaffID: "s_cw", Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"south"}}
	if err := recs.ExportAlert(ctx, cw, a.ID, func(b []byte) error { out = b; return nil }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "CAD-4471-22NOV") {
		t.Errorf("exported record: %s", out)
	}
	if rs := e.record(t, a.ID); rs.Handoff != alert.HandoffExported || !rs.FiledAt.Equal(e.clk.Now()) {
		t.Errorf("after export: %+v", rs)
	}
	recsAudit, _ := e.s.ReadAudit(ctx, 100)
	var outs []string
	for _, r := range recsAudit {
		if r.Action == "alert.export" {
			outs = append(outs, r.Actor+" "+strings.SplitN(r.Outcome, " sha256", 2)[0])
		}
	}
	if strings.Join(outs, ",") != "s_out refused: no right,s_cw ok: revision 1" {
		t.Errorf("exports audited as %v", outs)
	}
}
