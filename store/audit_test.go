package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/audit"
	"waymark/casework"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/records"
	"waymark/seal"
	"waymark/staff"
	"waymark/store/internal/kv"
)

func appendN(t *testing.T, s *testStore, n int, caseID string) {
	t.Helper()
	for i := range n {
		e := audit.AuditEntry{Actor: "s_someone", Action: "case.reveal", CaseID: caseID, Outcome: "ok"}
		if i%2 == 0 {
			e.Reason = pii.NewText(fmt.Sprintf("reason %d", i))
		}
		if err := s.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// rewriteStream replaces the audit stream with its entries as edit leaves
// them (same ids), as someone with write access to Redis could.
func rewriteStream(t *testing.T, s *testStore, edit func(i int, m *redis.XMessage) bool) {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.RDB.XRange(ctx, s.k.audit(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RDB.Del(ctx, s.k.audit()).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if !edit(i, &msgs[i]) {
			continue
		}
		var vals []any
		for k, v := range msgs[i].Values {
			vals = append(vals, k, v)
		}
		if err := s.RDB.XAdd(ctx, &redis.XAddArgs{Stream: s.k.audit(), ID: msgs[i].ID, Values: vals}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditVerifyNamesTheEditedEntry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(i int, m *redis.XMessage) bool
		wantSeq int64
		problem string
	}{
		{"outcome changed", func(i int, m *redis.XMessage) bool {
			if i == 3 {
				m.Values["outcome"] = "refused: no claim"
			}
			return true
		}, 4, "hash does not match"},
		{"entry removed", func(i int, m *redis.XMessage) bool { return i != 2 }, 4, "sequence number 4 where 3 was due"},
		{"reason swapped", func(i int, m *redis.XMessage) bool {
			if i == 4 {
				m.Values["reason"] = m.Values["reason"].(string)[:10] + "x"
			}
			return true
		}, 5, "reason does not match"},
		{"hash recomputed without the key", func(i int, m *redis.XMessage) bool {
			if i == 1 {
				m.Values["actor"] = "s_other"
				m.Values["h"] = strings.Repeat("0", 64)
			}
			return true
		}, 2, "hash does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAlertEnv(t, testenv.RedisOptions{})
			recs := newRecords(t, e, nil, time.Hour*24)
			appendN(t, e.s, 6, "c_abcdefghijklmnopqrst")
			rep, err := recs.VerifyAuditKeys(context.Background(), nil)
			if err != nil || rep.Entries != 6 || rep.FirstSeq != 1 || rep.LastSeq != 6 {
				t.Fatalf("untouched chain: %+v, %v", rep, err)
			}
			msgs, _ := e.s.RDB.XRange(context.Background(), e.s.k.audit(), "-", "+").Result()
			rewriteStream(t, e.s, tc.edit)
			_, err = recs.VerifyAuditKeys(context.Background(), nil)
			var b *audit.Break
			if !errors.As(err, &b) {
				t.Fatalf("verify after %s = %v, want a break", tc.name, err)
			}
			if b.Seq != tc.wantSeq || b.StreamID != msgs[tc.wantSeq-1].ID || !strings.Contains(b.Problem, tc.problem) {
				t.Errorf("break = %+v, want seq %d (%s) with %q", b, tc.wantSeq, msgs[tc.wantSeq-1].ID, tc.problem)
			}
			if !strings.Contains(b.Error(), fmt.Sprintf("seq %d", tc.wantSeq)) {
				t.Errorf("message %q does not name the entry", b.Error())
			}
		})
	}
}

func TestAuditConcurrentAppendsStayOneChain(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	s2 := e.secondStore()
	var wg sync.WaitGroup
	for w := range 8 {
		st := e.s
		if w%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			for range 25 {
				if err := st.AppendAudit(context.Background(), audit.AuditEntry{Actor: "system", Action: "test.append", Outcome: "ok"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rep, err := newRecords(t, e, nil, 24*time.Hour).VerifyAuditKeys(context.Background(), nil)
	if err != nil || rep.Entries != 200 || rep.LastSeq != 200 {
		t.Fatalf("verify = %+v, %v; want 200 chained entries", rep, err)
	}
}

// TestAuditHeavyContentionLosesNothing: many writers at once (as when a
// bench or an import creates cases in parallel) may slow appends down but
// never drop one.
func TestAuditHeavyContentionLosesNothing(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	s2 := e.secondStore()
	const writers, each = 32, 10
	var wg sync.WaitGroup
	for w := range writers {
		st := e.s
		if w%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			for range each {
				if err := st.AppendAudit(context.Background(), audit.AuditEntry{Actor: "system", Action: "test.append", Outcome: "ok"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rep, err := newRecords(t, e, nil, 24*time.Hour).VerifyAuditKeys(context.Background(), nil)
	if err != nil || rep.Entries != writers*each || rep.LastSeq != writers*each {
		t.Fatalf("verify = %+v, %v; want %d chained entries", rep, err, writers*each)
	}
}

func TestAuditTrimKeepsAVerifiableCheckpoint(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	recs := newRecords(t, e, nil, 24*time.Hour)
	held := "c_heldheldheldheldheld"
	day := 24 * time.Hour
	for d := range 10 {
		caseID := ""
		if d == 6 {
			caseID = held
		}
		if err := e.s.AppendAudit(ctx, audit.AuditEntry{Actor: "system", Action: "test.day", CaseID: caseID, Outcome: fmt.Sprintf("ok: day %d", d)}); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(day)
	}
	start := e.clk.Now().Add(-10 * day)
	noHold := func(string, string) (bool, error) { return false, nil }
	n, err := e.s.TrimAudit(ctx, start.Add(4*day), noHold)
	if err != nil || n != 4 {
		t.Fatalf("trim = %d, %v; want 4", n, err)
	}
	rep, err := recs.VerifyAuditKeys(ctx, nil)
	if err != nil || rep.FirstSeq != 5 || rep.Checkpoint == nil || rep.Checkpoint.Seq != 4 {
		t.Fatalf("verify after trim = %+v, %v", rep, err)
	}
	// An entry about a held case stops trimming at it.
	isHeld := func(caseID, _ string) (bool, error) { return caseID == held, nil }
	if n, err := e.s.TrimAudit(ctx, start.Add(9*day), isHeld); err != nil || n != 2 {
		t.Fatalf("trim up to a held entry = %d, %v; want 2", n, err)
	}
	if rep, err := recs.VerifyAuditKeys(ctx, nil); err != nil || rep.FirstSeq != 7 {
		t.Fatalf("verify = %+v, %v; want to start at the held entry, seq 7", rep, err)
	}
	// A forged checkpoint is a break.
	if err := e.s.RDB.HSet(ctx, e.s.k.auditCheckpoint(), "seq", 5).Err(); err != nil {
		t.Fatal(err)
	}
	var b *audit.Break
	if _, err := recs.VerifyAuditKeys(ctx, nil); !errors.As(err, &b) || !strings.Contains(b.Problem, "checkpoint") {
		t.Errorf("verify with a forged checkpoint = %v", err)
	}
}

// caseLoader serves one case.
type caseLoader struct{ c *casework.Case }

func (l caseLoader) Load(_ context.Context, id string) (*casework.Case, error) {
	if l.c == nil || id != l.c.ID {
		return nil, casework.ErrNotFound
	}
	c := *l.c
	return &c, nil
}

func TestCaseExportBundleVerifiesWithThePublicKeyOnly(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID, a := e.resolvedAlert(t)
	phone, _ := pii.ParsePhone("07700 900123", "GB")
	c := &casework.Case{ID: caseID, Team: "south", Alias: pii.NewText("Canary-alias"), Phone: phone, Risk: casework.RiskHigh,
		SafetyNotes: pii.NewText("ex-partner drives a red van"), SafeguardingLead: pii.NewText("J. Lead"),
		CreatedAt: e.clk.Now(), ExpiresAt: e.clk.Now().Add(time.Hour)}
	recs, err := records.NewRecords(records.RecordsOptions{Store: e.s, Cases: e.cases, Case: caseLoader{c}, AuditKey: e.s.AuditKey(), Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recs.Tick(ctx); err != nil { // counts the alert into the case history
		t.Fatal(err)
	}
	// Entries about this case, and one about another, in between.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.s.AppendAudit(ctx, audit.AuditEntry{Actor: "s_cw", Action: "case.reveal", CaseID: caseID, Reason: pii.NewText("calling back"), Outcome: "ok"}))
	must(e.s.AppendAudit(ctx, audit.AuditEntry{Actor: "s_cw", Action: "case.update", CaseID: "c_otherotherotherother", Outcome: "ok"}))
	must(e.s.AppendAudit(ctx, audit.AuditEntry{Actor: "system", Action: "alert.handoff", AlertID: a.ID, Outcome: "ok"}))

	cw := &staff.Principal{StaffID: "s_cw", Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"south"}}
	var out []byte
	must(recs.ExportCase(ctx, cw, caseID, func(b []byte) error { out = b; return nil }))
	pub, err := audit.ParsePublicKey(recs.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.VerifyBundle(out, pub)
	if err != nil {
		t.Fatalf("bundle does not verify: %v", err)
	}
	if len(b.Disclosed) != 2 || len(b.Attestation.Manifest.Segment.Entries) != 3 {
		t.Errorf("disclosed %d of a %d-entry segment, want 2 of 3", len(b.Disclosed), len(b.Attestation.Manifest.Segment.Entries))
	}
	if strings.Contains(string(out), "c_otherotherotherother") {
		t.Error("bundle discloses another case's entry")
	}
	var cb records.CaseBundle
	must(json.Unmarshal(out, &cb))
	var paths []string
	for _, r := range cb.Redactions {
		paths = append(paths, r.Path)
	}
	for _, want := range []string{"/content/safeguarding_lead", "/content/safety_notes", "/content/alerts/0/timeline/2/by_name"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("redactions %v lack %s", paths, want)
		}
	}
	// Any change to the content or a disclosed entry is caught.
	for _, tamper := range []func(string) string{
		func(s string) string { return strings.Replace(s, "Canary-alias", "Canary-alia5", 1) },
		func(s string) string { return strings.Replace(s, `\"actor\":\"s_cw\"`, `\"actor\":\"s_xx\"`, 1) },
		func(s string) string { return strings.Replace(s, `"calling back"`, `"calling home"`, 1) },
	} {
		if _, err := audit.VerifyBundle([]byte(tamper(string(out))), pub); !errors.Is(err, audit.ErrBundle) {
			t.Errorf("tampered bundle verified: %v", err)
		}
	}

	// A held case, or a caller without the right, is refused and audited.
	outsider := &staff.Principal{StaffID: "s_out", Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south"}}
	if err := recs.ExportCase(ctx, outsider, caseID, func([]byte) error { return nil }); !errors.Is(err, records.ErrExportRefused) {
		t.Errorf("export by a responder = %v", err)
	}
	c.LegalHold = true
	if err := recs.ExportCase(ctx, cw, caseID, func([]byte) error { return nil }); !errors.Is(err, casework.ErrLegalHold) {
		t.Errorf("export under hold = %v", err)
	}
	if err := recs.ExportMARAC(ctx, cw, caseID, "Southampton MARAC", "Crime and Disorder Act 1998 s115", func([]byte) error { return nil }); !errors.Is(err, casework.ErrLegalHold) {
		t.Errorf("MARAC share under hold = %v", err)
	}
	entries, _ := e.s.ReadAudit(ctx, 100)
	var outs []string
	for _, r := range entries {
		if r.Action == "case.export" || r.Action == "marac.share" {
			outs = append(outs, r.Action+" "+strings.SplitN(r.Outcome, " sha256", 2)[0])
		}
	}
	if got := strings.Join(outs, ","); got != "case.export ok:,case.export refused: no right,case.export refused: legal hold,marac.share refused: legal hold" {
		t.Errorf("exports audited as %q", got)
	}
}

func TestMARACShareRecordsWhoWhatBasis(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID, _ := e.resolvedAlert(t)
	c := &casework.Case{ID: caseID, Team: "south", Alias: pii.NewText("Sam"), Risk: casework.RiskHigh,
		MARAC: casework.MARAC{Referred: true, Date: e.clk.Now()}, CreatedAt: e.clk.Now(), ExpiresAt: e.clk.Now()}
	recs, err := records.NewRecords(records.RecordsOptions{Store: e.s, Cases: e.cases, Case: caseLoader{c}, AuditKey: e.s.AuditKey(), Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	recs.Tick(ctx)
	cw := &staff.Principal{StaffID: "s_cw", Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"south"}}
	var out []byte
	if err := recs.ExportMARAC(ctx, cw, caseID, "Southampton MARAC 2026-11-26", "Crime and Disorder Act 1998 s115", func(b []byte) error { out = b; return nil }); err != nil {
		t.Fatal(err)
	}
	var sh records.MARACShare
	if err := json.Unmarshal(out, &sh); err != nil || len(sh.Incidents) != 1 || sh.Incidents[0].PoliceRef != "CAD-4471-22NOV" || sh.SharedBy != "s_cw" {
		t.Fatalf("share = %+v, %v", sh, err)
	}
	if strings.Contains(string(out), "Canary-note") {
		t.Error("MARAC share carries timeline text")
	}
	entries, _ := e.s.ReadAudit(ctx, 100)
	last := entries[len(entries)-1]
	if last.Action != "marac.share" || last.Actor != "s_cw" || last.CaseID != caseID ||
		!strings.Contains(last.Reason.Reveal(), "Southampton MARAC") || !strings.Contains(last.Reason.Reveal(), "s115") {
		t.Errorf("share audited as %+v (reason %q)", last, last.Reason.Reveal())
	}
}

// BenchmarkAppendAudit measures one chained append (head read, HMAC, CAS
// script) on a real redis-server.
func BenchmarkAppendAudit(b *testing.B) {
	r := testenv.StartRedis(b, testenv.RedisOptions{})
	kr, _ := seal.NewKeyring([]seal.Key{{ID: "k1", Secret: seal.NewRandomKey()}})
	s, err := testOpen(Options{Tenant: "test", URL: r.URL(), Crypto: Crypto{Keyring: kr, TagKey: seal.NewRandomKey()}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	e := audit.AuditEntry{Actor: "s_x", Action: "case.reveal", CaseID: "c_abcdefghijklmnopqrst", Reason: pii.NewText("calling back"), Outcome: "ok"}
	b.ResetTimer()
	for b.Loop() {
		if err := s.AppendAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// withAuditKey is another instance on the same Redis holding audit key k
// (nil: the key derived from the tag key).
func (e *alertEnv) withAuditKey(t *testing.T, k []byte) *testStore {
	t.Helper()
	c := e.s.Crypto
	c.AuditKey = k
	return e.openStore(c)
}

// recordsWith is the records service of an instance holding key k.
func recordsWith(t *testing.T, e *alertEnv, k []byte) *records.Records {
	t.Helper()
	r, err := records.NewRecords(records.RecordsOptions{Store: e.s, Cases: e.cases, AuditKey: k,
		AuditRetention: 400 * 24 * time.Hour, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func auditActions(t *testing.T, s *testStore) []string {
	t.Helper()
	msgs, err := s.RDB.XRange(context.Background(), s.k.audit(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Values["action"].(string))
	}
	return out
}

func TestAuditKeyRotation(t *testing.T) {
	k1, k2, k3 := seal.NewRandomKey(), seal.NewRandomKey(), seal.NewRandomKey()
	id1, id2 := audit.AuditKeyID(k1), audit.AuditKeyID(k2)
	// setup writes three entries under k1, then two under k2 through an
	// instance that holds k1 as retired: the first of them rotates.
	setup := func(t *testing.T) (*alertEnv, *testStore) {
		e := newAlertEnv(t, testenv.RedisOptions{})
		old := e.withAuditKey(t, k1)
		appendN(t, old, 3, "")
		cur := e.withAuditKey(t, k2)
		for range 2 {
			if err := cur.WithAuditKeys([][]byte{k1}).AppendAudit(context.Background(), audit.AuditEntry{Actor: "s_x", Action: "case.reveal", Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		return e, cur
	}
	t.Run("verifies across the rotation", func(t *testing.T) {
		e, _ := setup(t)
		want := []string{"case.reveal", "case.reveal", "case.reveal", audit.ActionKeyRotated, "case.reveal", "case.reveal"}
		if got := auditActions(t, e.s); !slices.Equal(got, want) {
			t.Fatalf("chain = %v, want %v", got, want)
		}
		rep, err := recordsWith(t, e, k2).VerifyAuditKeys(context.Background(), [][]byte{k1})
		if err != nil || rep.Entries != 6 || !slices.Equal(rep.Keys, []string{id1, id2}) || rep.Current != id2 {
			t.Fatalf("verify = %+v, %v; want 6 entries under %s then %s", rep, err, id1, id2)
		}
		// Without the retired key the first entry cannot be checked.
		var b *audit.Break
		if _, err := recordsWith(t, e, k2).VerifyAuditKeys(context.Background(), nil); !errors.As(err, &b) || b.Seq != 1 || !strings.Contains(b.Problem, "not configured") {
			t.Errorf("verify without the retired key = %v", err)
		}
	})
	for _, tc := range []struct {
		name    string
		edit    func(i int, m *redis.XMessage) bool
		wantSeq int64
		problem string
	}{
		{"rotation names another key", func(i int, m *redis.XMessage) bool {
			if i == 3 {
				m.Values["nkid"] = audit.AuditKeyID(k3)
			}
			return true
		}, 4, "hash does not match"},
		{"rotation outcome changed", func(i int, m *redis.XMessage) bool {
			if i == 3 {
				m.Values["outcome"] = "ok"
			}
			return true
		}, 4, "hash does not match"},
		{"rotation removed", func(i int, m *redis.XMessage) bool { return i != 3 }, 5, "sequence number 5 where 4 was due"},
		{"entry after the rotation changed", func(i int, m *redis.XMessage) bool {
			if i == 4 {
				m.Values["actor"] = "s_other"
			}
			return true
		}, 5, "hash does not match"},
		{"entry after the rotation claims the old key", func(i int, m *redis.XMessage) bool {
			if i == 5 {
				m.Values["kid"] = id1
			}
			return true
		}, 6, "where the chain's key is " + id2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := setup(t)
			rewriteStream(t, e.s, tc.edit)
			_, err := recordsWith(t, e, k2).VerifyAuditKeys(context.Background(), [][]byte{k1})
			var b *audit.Break
			if !errors.As(err, &b) || b.Seq != tc.wantSeq || !strings.Contains(b.Problem, tc.problem) {
				t.Errorf("verify = %v, want a break at seq %d with %q", err, tc.wantSeq, tc.problem)
			}
		})
	}
	t.Run("an instance without the head's key refuses", func(t *testing.T) {
		e, _ := setup(t)
		for name, s := range map[string]*testStore{"stale instance": e.withAuditKey(t, k1), "old key not retired": e.withAuditKey(t, k3)} {
			if err := s.AppendAudit(context.Background(), audit.AuditEntry{Actor: "system", Action: "test", Outcome: "ok"}); !errors.Is(err, ErrAuditKey) {
				t.Errorf("%s: append = %v, want ErrAuditKey", name, err)
			}
		}
		if _, err := recordsWith(t, e, k2).VerifyAuditKeys(context.Background(), [][]byte{k1}); err != nil {
			t.Errorf("chain after refused appends: %v", err)
		}
	})
	t.Run("a second rotation, with a checkpoint", func(t *testing.T) {
		e, cur := setup(t)
		e.clk.Advance(48 * time.Hour)
		noHold := func(string, string) (bool, error) { return false, nil }
		if n, err := cur.WithAuditKeys([][]byte{k1}).TrimAudit(context.Background(), e.clk.Now().Add(-time.Hour), noHold); err != nil || n != 5 {
			t.Fatalf("trim = %d, %v; want 5", n, err)
		}
		next := e.withAuditKey(t, k3).WithAuditKeys([][]byte{k2, k1})
		if err := next.AppendAudit(context.Background(), audit.AuditEntry{Actor: "system", Action: "test", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		rep, err := recordsWith(t, e, k3).VerifyAuditKeys(context.Background(), [][]byte{k1, k2})
		if err != nil || rep.FirstSeq != 6 || rep.LastSeq != 8 || rep.Checkpoint.Key != audit.AuditKeyID(k3) {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
		// A checkpoint MAC'd under a key the chain later retired (as
		// someone holding a leaked old key could forge) is a break.
		forged := audit.Checkpoint{Seq: 6, Hash: "", At: e.clk.Now()}
		msgs, _ := e.s.RDB.XRange(context.Background(), e.s.k.audit(), "-", "+").Result()
		forged.Hash = msgs[0].Values["h"].(string)
		forged = forged.Signed(k2)
		e.s.RDB.HSet(context.Background(), e.s.k.auditCheckpoint(), "seq", forged.Seq, "h", forged.Hash, "at", kv.MS(forged.At), "kid", forged.Key, "mac", forged.MAC)
		e.s.RDB.XTrimMinID(context.Background(), e.s.k.audit(), msgs[1].ID)
		var b *audit.Break
		if _, err := recordsWith(t, e, k3).VerifyAuditKeys(context.Background(), [][]byte{k1, k2}); !errors.As(err, &b) || !strings.Contains(b.Problem, "retires") {
			t.Errorf("verify with a checkpoint under a retired key = %v", err)
		}
	})
	t.Run("two instances rotate once", func(t *testing.T) {
		e := newAlertEnv(t, testenv.RedisOptions{})
		appendN(t, e.withAuditKey(t, k1), 2, "")
		a, b := e.withAuditKey(t, k2).WithAuditKeys([][]byte{k1}), e.withAuditKey(t, k2).WithAuditKeys([][]byte{k1})
		var wg sync.WaitGroup
		for _, st := range []*Records{a, b, a, b} {
			wg.Go(func() {
				for range 10 {
					if err := st.AppendAudit(context.Background(), audit.AuditEntry{Actor: "system", Action: "test", Outcome: "ok"}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if n := slices.Index(auditActions(t, e.s), audit.ActionKeyRotated); n != 2 || strings.Count(strings.Join(auditActions(t, e.s), " "), audit.ActionKeyRotated) != 1 {
			t.Errorf("rotation entries in %v, want exactly one, third", auditActions(t, e.s))
		}
		if rep, err := recordsWith(t, e, k2).VerifyAuditKeys(context.Background(), [][]byte{k1}); err != nil || rep.Entries != 43 {
			t.Errorf("verify = %+v, %v; want 43 entries", rep, err)
		}
	})
	t.Run("from the derived key and from entries without key ids", func(t *testing.T) {
		e := newAlertEnv(t, testenv.RedisOptions{})
		derived := e.withAuditKey(t, nil)
		// Entries as written before key ids existed (format v1).
		prev := ""
		for i := range 3 {
			ce := audit.ChainEntry{Seq: int64(i + 1), ID: fmt.Sprintf("e_v1entry%d", i), At: e.clk.Now(), Actor: "system", Action: "test.v1", Outcome: "ok"}
			ce.Hash = audit.ChainHash(derived.AuditKey(), prev, ce)
			prev = ce.Hash
			if err := e.s.RDB.XAdd(context.Background(), &redis.XAddArgs{Stream: e.s.k.audit(), Values: auditFields(ce, nil)}).Err(); err != nil {
				t.Fatal(err)
			}
			e.s.RDB.HSet(context.Background(), e.s.k.auditHead(), "seq", ce.Seq, "h", ce.Hash)
		}
		if rep, err := recordsWith(t, e, derived.AuditKey()).VerifyAuditKeys(context.Background(), nil); err != nil || rep.Entries != 3 {
			t.Fatalf("v1 chain = %+v, %v", rep, err)
		}
		// A configured key: the derived one is retired without being named.
		cur := e.withAuditKey(t, k2)
		if err := cur.AppendAudit(context.Background(), audit.AuditEntry{Actor: "system", Action: "test", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		rep, err := recordsWith(t, e, k2).VerifyAuditKeys(context.Background(), [][]byte{derived.AuditKey()})
		if err != nil || rep.Entries != 5 || len(rep.Keys) != 2 || rep.Keys[1] != id2 {
			t.Errorf("verify = %+v, %v", rep, err)
		}
	})
}
