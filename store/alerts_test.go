package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/problem"
	"waymark/seal"
	"waymark/staff"
	"waymark/store/internal/kvtest"
)

// alertCases is a CaseSource for store tests: every case is in team south
// with PIN 1111 real and 2222 duress.
type alertCases struct{ risk casework.Risk }

func (c alertCases) Facts(ctx context.Context, caseID, pin string) (casework.CaseFacts, casework.PIN, error) {
	p := casework.PINWrong
	switch pin {
	case "1111":
		p = casework.PINReal
	case "2222":
		p = casework.PINDuress
	}
	risk := c.risk
	if risk == "" {
		risk = casework.RiskMedium
	}
	return casework.CaseFacts{ID: caseID, Team: "south", Risk: risk}, p, nil
}

func (c alertCases) FactsFrom(ctx context.Context, caseID string, rec *casework.Case, pin string) (casework.CaseFacts, casework.PIN, error) {
	return c.Facts(ctx, caseID, pin)
}

func (c alertCases) Brief(ctx context.Context, caseID string) (*casework.CaseBrief, error) {
	f, _, _ := c.Facts(ctx, caseID, "")
	return &casework.CaseBrief{CaseFacts: f}, nil
}

func (c alertCases) FlagReview(ctx context.Context, caseID string) error { return nil }

// alertEnv is an alert service on a real redis-server.
type alertEnv struct {
	t     testing.TB
	s     *testStore
	r     *testenv.Redis
	clk   *testclock.Clock
	svc   *alert.Service
	cases alertCases
}

func newAlertEnv(t *testing.T, opts testenv.RedisOptions) *alertEnv {
	t.Helper()
	s, r := newTestStore(t, opts)
	clk := testclock.New(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	s.Now = clk.Now
	e := &alertEnv{t: t, s: s, r: r, clk: clk}
	e.svc = e.service(s)
	return e
}

// service builds another Service (another "instance") on store st.
func (e *alertEnv) service(st *testStore) *alert.Service {
	return alert.NewService(st, e.cases, alert.Config{TriageTeam: "triage"}, e.clk.Now, nil)
}

// secondStore is another client on the same Redis, as a second instance.
func (e *alertEnv) secondStore() *testStore {
	e.t.Helper()
	return e.openStore(e.s.Crypto)
}

// openStore is another client on the same Redis with keys c.
func (e *alertEnv) openStore(c Crypto) *testStore {
	e.t.Helper()
	s2, err := testOpen(Options{Tenant: "test", URL: e.r.URL(), Now: e.clk.Now, Crypto: c})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s2.Close() })
	return s2
}

// newCase makes a case id with a data key, as enrolment would.
func (e *alertEnv) newCase() string {
	e.t.Helper()
	id := randid.New("c_", 20)
	_, wrapped, err := e.s.Crypto.Keyring.NewDataKey(seal.AD{Key: e.s.k.caseDataKey(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.s.RDB.Set(context.Background(), e.s.k.caseDataKey(id), wrapped, 0).Err(); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *alertEnv) openAlert(caseID string) *alert.Alert {
	e.t.Helper()
	id, err := e.s.RDB.Get(context.Background(), e.s.k.caseOpenAlert(caseID)).Result()
	if err != nil {
		e.t.Fatalf("case %s has no open alert: %v", caseID, err)
	}
	a, err := e.s.Alert(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *alertEnv) countAlerts() int {
	e.t.Helper()
	keys, err := e.s.RDB.Keys(context.Background(), e.s.k.AlertRecord("*")).Result()
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, k := range keys {
		if !strings.Contains(strings.TrimPrefix(k, e.s.k.AlertRecord("")), ":") {
			n++
		}
	}
	return n
}

func who(id string) *staff.Principal {
	return &staff.Principal{StaffID: id, DisplayName: "Name of " + id, Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south"}}
}

func TestRaiseStoresEverythingInOneStep(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	loc, _ := pii.NewLocation(50.9097, -1.4044, 12, e.clk.Now())
	err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	a := e.openAlert(caseID)
	if a.State != alert.StateRaised || a.Team != "south" || a.Class != alert.ClassPanic {
		t.Fatalf("alert %+v", a)
	}
	if len(a.Timeline) != 1 || len(a.Trail) != 1 {
		t.Fatalf("timeline %d trail %d, want 1 and 1", len(a.Timeline), len(a.Trail))
	}
	if lat, _, acc, _ := a.Trail[0].Location.Reveal(); lat != 50.9097 || acc != 12 {
		t.Errorf("trail point %v %v", lat, acc)
	}
	// Plain fields others read.
	h := e.s.RDB.HGetAll(ctx, e.s.k.AlertRecord(a.ID)).Val()
	for _, f := range []string{"case", "team", "state", "owner", "priority", "raised_at"} {
		if _, ok := h[f]; !ok {
			t.Errorf("alert hash lacks plain field %q", f)
		}
	}
	if h["state"] != "raised" || h["case"] != caseID || h["raised_at"] != fmt.Sprint(e.clk.Now().UnixMilli()) {
		t.Errorf("plain fields %v", h)
	}
	// Open index, event, first timer with its fence.
	if ids := e.s.RDB.ZRange(ctx, e.s.k.openAlerts(), 0, -1).Val(); len(ids) != 1 || ids[0] != a.ID {
		t.Errorf("open index = %v", ids)
	}
	evs := readEvents(t, e.s)
	if len(evs) != 1 || evs[0].Type != alert.EventRaised || evs[0].Alert != a.ID || evs[0].Team != "south" || evs[0].Case != caseID {
		t.Errorf("events = %+v", evs)
	}
	entry := e.s.RDB.HGetAll(ctx, e.s.k.ScheduleEntry(a.ID+".step")).Val()
	if entry["fence"] == "" || entry["fence"] != a.Fences[alert.TimerStep] {
		t.Errorf("step entry %v, alert fence %q", entry, a.Fences[alert.TimerStep])
	}
	due := e.s.RDB.ZScore(ctx, e.s.k.Schedule(), a.ID+".step").Val()
	if int64(due) != e.clk.Now().Add(30*time.Second).UnixMilli() {
		t.Errorf("first step due %v, want at the end of the cancel window", due)
	}
}

func TestRaiseLeavesNoPlaintext(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	loc, _ := pii.NewLocation(51.123456, -0.654321, 7, e.clk.Now())
	const body = "canary-message-body"
	for _, in := range []alert.AppSignal{
		{RequestID: randid.Token(16), Kind: alert.KindMessage, Message: pii.NewText(body)},
		{RequestID: randid.Token(16), Kind: alert.KindLocation, Location: loc},
	} {
		if err := e.svc.App(ctx, caseID, in); err != nil {
			t.Fatal(err)
		}
	}
	sender, _ := pii.ParsePhone("+447700900123", "GB")
	if _, err := e.svc.Raise(ctx, alert.Signal{Source: alert.SourceSMS, Kind: alert.KindPanic, Sender: sender, DedupeKey: "sms:SMx", Message: pii.NewText(body)}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Note(ctx, who("s_one"), e.openAlert(caseID).ID, pii.NewText("canary-note")); err != nil {
		t.Fatal(err)
	}
	dump := dumpAll(t, e.s)
	for _, secret := range []string{body, "canary-note", "51.123456", "0.654321", "7700900123", "Name of s_one"} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("redis holds %q in the clear", secret)
		}
	}
}

// dumpAll returns every key, field and value in the tenant, concatenated.
func dumpAll(t *testing.T, s *testStore) []byte { return kvtest.Dump(t, s.RDB) }

func TestRaiseConcurrentRetriesMakeOneAlert(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	in := alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() { errs <- e.svc.App(ctx, caseID, in) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}
	if a := e.openAlert(caseID); len(a.Timeline) != 1 {
		t.Errorf("timeline has %d entries, want 1", len(a.Timeline))
	}
	if evs := readEvents(t, e.s); len(evs) != 1 {
		t.Errorf("%d events, want 1", len(evs))
	}
}

func TestRaiseConcurrentSignalsJoinOneAlert(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts from 10 concurrent panics, want 1", n)
	}
	if a := e.openAlert(caseID); len(a.Timeline) != 10 {
		t.Errorf("timeline has %d entries, want 10", len(a.Timeline))
	}
}

func TestRaiseFrozenRedisAnswersUnavailableThenRetryMakesOne(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{AOF: true})
	ctx := context.Background()
	caseID := e.newCase()
	// Warm the connection and load the script.
	if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindLocation, Location: mustLoc(t)}); err != nil {
		t.Fatal(err)
	}
	in := alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}
	e.r.Freeze()
	start := time.Now()
	err := e.svc.App(ctx, caseID, in)
	took := time.Since(start)
	e.r.Thaw()
	if !errors.Is(err, problem.ErrUnavailable) {
		t.Fatalf("App on frozen redis = %v, want ErrUnavailable", err)
	}
	if took > 3*time.Second {
		t.Errorf("gave up after %v, want within 3 s", took)
	}
	// The retry lands exactly once, whether or not the first attempt did.
	for range 3 {
		if err := e.svc.App(ctx, caseID, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts, want 1", n)
	}
	if a := e.openAlert(caseID); len(a.Timeline) != 1 {
		t.Errorf("timeline has %d entries, want 1", len(a.Timeline))
	}
}

func mustLoc(t *testing.T) pii.Location {
	l, err := pii.NewLocation(50.9, -1.4, 20, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAckFirstWinsAtomically(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}); err != nil {
		t.Fatal(err)
	}
	id := e.openAlert(caseID).ID
	// Two instances, eight responders at once.
	svc2 := e.service(e.secondStore())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	var claimedBy []string
	for i := range 8 {
		svc := e.svc
		if i%2 == 1 {
			svc = svc2
		}
		p := who(fmt.Sprintf("s_%c", 'a'+i))
		wg.Go(func() {
			err := svc.Ack(ctx, p, id)
			mu.Lock()
			defer mu.Unlock()
			var c *problem.Claimed
			switch {
			case err == nil:
				won = append(won, p.StaffID)
			case errors.As(err, &c):
				claimedBy = append(claimedBy, c.By)
			default:
				t.Errorf("ack by %s: %v", p.StaffID, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 || len(claimedBy) != 7 {
		t.Fatalf("winners %v, losers %d; want one winner", won, len(claimedBy))
	}
	for _, c := range claimedBy {
		if c != "Name of "+won[0] {
			t.Errorf("loser told %q, want %q", c, "Name of "+won[0])
		}
	}
	a := e.openAlert(caseID)
	if a.Owner != won[0] || a.State != alert.StateAcknowledged {
		t.Errorf("alert owner %q state %s", a.Owner, a.State)
	}
}

func TestTimersClaimedOnceAndLeased(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(31 * time.Second)
	s2 := e.secondStore()
	now := e.clk.Now()
	got1, err := e.s.ClaimTimers(ctx, now, 30*time.Second, 10)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := s2.ClaimTimers(ctx, now, 30*time.Second, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got1) != 1 || len(got2) != 0 {
		t.Fatalf("claims %d and %d, want 1 and 0", len(got1), len(got2))
	}
	// The claimer "dies": after the lease another instance takes it over.
	got3, _ := s2.ClaimTimers(ctx, now.Add(29*time.Second), 30*time.Second, 10)
	got4, _ := s2.ClaimTimers(ctx, now.Add(31*time.Second), 30*time.Second, 10)
	if len(got3) != 0 || len(got4) != 1 || got4[0].Claim != 2 || got4[0].Fence != got1[0].Fence {
		t.Fatalf("after lease: %v then %v", got3, got4)
	}
	// Meanwhile a responder acknowledges: the stale worker acting now
	// changes nothing, and finishing leaves nothing behind.
	a := e.openAlert(caseID)
	if err := e.svc.Ack(ctx, who("s_one"), a.ID); err != nil {
		t.Fatal(err)
	}
	res, err := e.s.DecideAlert(ctx, a.ID, func(cur *alert.Alert) (*alert.Commit, error) {
		return e.svc.Rules().OnTimer(cur, got1[0], e.clk.Now()), nil
	})
	if err != nil || res.AlertID != "" {
		t.Errorf("stale worker's action = %+v, %v; want nothing", res, err)
	}
	if err := e.s.FinishTimer(ctx, got1[0]); err != nil {
		t.Fatal(err)
	}
	a = e.openAlert(caseID)
	for _, en := range a.Timeline {
		if en.Type == alert.EntryEscalated {
			t.Error("a stale step escalated an acknowledged alert")
		}
	}
	// Only the ack timeout remains, with the alert's fence.
	ids := e.s.RDB.ZRange(ctx, e.s.k.Schedule(), 0, -1).Val()
	if len(ids) != 1 || ids[0] != a.ID+".ack" {
		t.Errorf("schedule = %v, want only the ack timeout", ids)
	}
}

// TestSchedulerEscalatesAndLapsesClaims: steps run from the one
// scheduler; once claimed, the acknowledgement timeout warns the owner,
// and 2 minutes later the claim lapses and the escalation resumes at the
// next tier (issue 16), all through real Redis.
func TestSchedulerEscalatesAndLapsesClaims(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(30 * time.Second)
	if n, err := e.svc.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("Tick = %d, %v; want the first step", n, err)
	}
	a := e.openAlert(caseID)
	if a.Step != 1 {
		t.Errorf("step = %d, want 1", a.Step)
	}
	if err := e.svc.Ack(ctx, who("s_one"), a.ID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(15 * time.Minute)
	if _, err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	a = e.openAlert(caseID)
	if a.State != alert.StateAcknowledged || a.Owner != "s_one" || a.Esc.Warned.IsZero() {
		t.Errorf("after ack timeout: %s owner %q warned %v, want still claimed by s_one, warned", a.State, a.Owner, a.Esc.Warned)
	}
	evs := readEvents(t, e.s)
	var types []alert.EventType
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	want := []alert.EventType{alert.EventRaised, alert.EventEscalated, alert.EventAcknowledged, alert.EventQuiet}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", types, want)
	}
	e.clk.Advance(alert.ClaimLapseGrace)
	// The lapse, then (the serve loop drains until a pass claims nothing)
	// the step it made due at once.
	for range 2 {
		if _, err := e.svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a = e.openAlert(caseID)
	if a.State != alert.StateRaised || a.Owner != "" || a.Esc.Lapsed.IsZero() || a.Step < 2 {
		t.Errorf("after the grace: %s owner %q lapsed %v step %d, want raised, unowned, lapsed, the next step run", a.State, a.Owner, a.Esc.Lapsed, a.Step)
	}
	types = types[:0]
	for _, ev := range readEvents(t, e.s) {
		types = append(types, ev.Type)
	}
	want = append(want, alert.EventReturned, alert.EventEscalated)
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", types, want)
	}
}

func TestResolveSetsLifetimes(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	caseID := e.newCase()
	in := alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic, Location: mustLoc(t)}
	if err := e.svc.App(ctx, caseID, in); err != nil {
		t.Fatal(err)
	}
	a := e.openAlert(caseID)
	if err := e.svc.Resolve(ctx, who("s_one"), a.ID, alert.Resolution{Outcome: alert.OutcomeAccidental}); err != nil {
		t.Fatal(err)
	}
	// Issue 10: the retention clock starts only once the closing record is
	// filed, so a closed alert's records carry no TTL; the close queues the
	// hand-off in the same commit (store/handoff.go, retention.go).
	for _, key := range []string{e.s.k.AlertRecord(a.ID), e.s.k.alertTimeline(a.ID), e.s.k.alertTrail(a.ID), e.s.k.caseLastAlert(caseID)} {
		if ttl := e.s.RDB.PTTL(ctx, key).Val(); ttl != -1 {
			t.Errorf("TTL of %s = %v, want none until the record is filed", key, ttl)
		}
	}
	if ttl := e.s.RDB.PTTL(ctx, e.s.k.dedupe(e.s.Tag("dedupe", "app:"+caseID+"."+in.RequestID))).Val(); ttl <= alert.DedupeFor-time.Minute || ttl > alert.DedupeFor {
		t.Errorf("dedupe TTL = %v, want about %v", ttl, alert.DedupeFor)
	}
	if got, _ := e.s.Alert(ctx, a.ID); got == nil || got.Record.Handoff != alert.HandoffPending || got.Record.Rev != 1 {
		t.Errorf("resolved alert's record state = %+v, want pending revision 1", got.Record)
	}
	if _, err := e.s.RDB.ZScore(ctx, e.s.k.handoffs(), a.ID).Result(); err != nil {
		t.Errorf("resolved alert not queued for hand-off: %v", err)
	}
	if n := e.s.RDB.Exists(ctx, e.s.k.caseOpenAlert(caseID)).Val(); n != 0 {
		t.Error("case still points at a resolved alert")
	}
	if n := e.s.RDB.ZCard(ctx, e.s.k.openAlerts()).Val(); n != 0 {
		t.Error("resolved alert still in the open index")
	}
	counts, _ := e.s.OutcomeCounts(ctx, caseID)
	if counts[alert.OutcomeAccidental] != 1 {
		t.Errorf("outcome counts %v", counts)
	}
	if n, _ := e.s.PendingTimers(ctx); n != 0 {
		t.Errorf("%d timers left after resolve", n)
	}
}

func TestOpenIndexOrder(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	var want []string
	mk := func(pin string, kind alert.Kind) string {
		c := e.newCase()
		in := alert.AppSignal{RequestID: randid.Token(16), Kind: kind, PIN: pin}
		if kind == alert.KindMessage {
			in.Message = pii.NewText("hello")
		}
		if err := e.svc.App(ctx, c, in); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Second)
		return e.openAlert(c).ID
	}
	msg := mk("", alert.KindMessage)
	panicOld := mk("", alert.KindPanic)
	panicNew := mk("", alert.KindPanic)
	duress := mk("2222", alert.KindPanic)
	want = []string{duress, panicOld, panicNew, msg}
	open, err := e.s.OpenAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range open {
		got = append(got, a.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("open order %v, want %v", got, want)
	}
}

func TestEventsTrimmedByAgeNotCount(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	// An event from three weeks ago (by Redis's clock) and 500 recent ones.
	old := time.Now().Add(-21 * 24 * time.Hour).UnixMilli()
	if err := e.s.RDB.XAdd(ctx, &redis.XAddArgs{Stream: e.s.k.Events(), ID: fmt.Sprintf("%d-0", old), Values: []string{"type", "raised"}}).Err(); err != nil {
		t.Fatal(err)
	}
	caseID := e.newCase()
	for range 500 {
		if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}); err != nil {
			t.Fatal(err)
		}
	}
	n := e.s.RDB.XLen(ctx, e.s.k.Events()).Val()
	if n != 500 {
		t.Errorf("stream holds %d events, want the 500 recent ones", n)
	}
	if first := readEvents(t, e.s)[0]; strings.HasPrefix(first.ID, fmt.Sprint(old)) {
		t.Error("the three-week-old event is still there")
	}
}

// readEvents reads the whole events stream.
func readEvents(t *testing.T, s *testStore) []alert.Event {
	t.Helper()
	msgs, err := s.RDB.XRange(context.Background(), s.k.Events(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]alert.Event, len(msgs))
	for i, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		for k := range m.Values {
			switch k {
			case "type", "alert", "team", "case", "priority", "at":
			default:
				t.Errorf("event field %q is not in the contract", k)
			}
		}
		out[i] = alert.Event{ID: m.ID, Type: alert.EventType(str("type")), Alert: str("alert"), Team: str("team"), Case: str("case")}
	}
	return out
}

// TestUnknownSenderFloodIsOneAlert (issue 16): 400 texts from one number
// on no case make one triage alert, not 400; another number raises its
// own; after 30 minutes of silence, or once the alert is closed, the next
// text raises afresh. The number is in no key name.
func TestUnknownSenderFloodIsOneAlert(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	one, _ := pii.ParsePhone("+447700900777", "GB")
	two, _ := pii.ParsePhone("+447700900778", "GB")
	n := 0
	text := func(from pii.Phone) string {
		n++
		res, err := e.svc.Raise(ctx, alert.Signal{Source: alert.SourceSMS, Kind: alert.KindMessage, Sender: from,
			DedupeKey: fmt.Sprintf("sms:SM%032d", n), Message: pii.NewText("are you there")})
		if err != nil {
			t.Fatal(err)
		}
		return res.AlertID
	}
	first := text(one)
	for range 399 {
		e.clk.Advance(time.Second)
		if id := text(one); id != first {
			t.Fatalf("text %d from the same number raised %s, want it to join %s", n, id, first)
		}
	}
	if id := text(two); id == first {
		t.Error("another number joined the first one's alert")
	}
	open, err := e.s.OpenAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 {
		t.Errorf("%d open alerts, want 2 (one per number)", len(open))
	}
	e.clk.Advance(alert.SenderJoinWindow + time.Second)
	if id := text(one); id == first {
		t.Error("a text after 30 minutes of silence joined the old alert")
	}
	for _, k := range e.s.RDB.Keys(ctx, "*").Val() {
		if strings.Contains(k, "7700900777") {
			t.Errorf("key %q holds the number", k)
		}
	}
}
