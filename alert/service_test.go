package alert

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

type harness struct {
	t     *testing.T
	st    *memStore
	cases *fakeCases
	clk   *testclock.Clock
	svc   *Service
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, st: newMemStore(), cases: &fakeCases{}, clk: testclock.New(london("2026-11-23 10:00"))}
	h.svc = NewService(h.st, h.cases, Config{TriageTeam: "triage"}, h.clk.Now, nil)
	return h
}

func (h *harness) app(caseID string, kind Kind, pin string) {
	h.t.Helper()
	if err := h.svc.App(context.Background(), caseID, AppSignal{RequestID: randid.Token(16), Kind: kind, PIN: pin}); err != nil {
		h.t.Fatalf("App(%s, pin %q): %v", kind, pin, err)
	}
}

// only returns the case's single open alert, failing if there is not one.
func (h *harness) open(caseID string) *Alert {
	h.t.Helper()
	id := h.st.open[caseID]
	if id == "" {
		h.t.Fatalf("case %s has no open alert", caseID)
	}
	a, err := h.st.Alert(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) tick() {
	h.t.Helper()
	if _, err := h.svc.Tick(context.Background()); err != nil {
		h.t.Fatalf("Tick: %v", err)
	}
}

func responder(id string) *staff.Principal {
	return &staff.Principal{StaffID: id, DisplayName: "Responder " + id, Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south"}}
}

func entryTypes(a *Alert) []EntryType {
	var out []EntryType
	for _, e := range a.Timeline {
		out = append(out, e.Type)
	}
	return out
}

const caseA = "c_aaaaaaaaaaaaaaaaaaaa"

func TestPanicRaisesThenJoins(t *testing.T) {
	h := newHarness(t)
	h.app(caseA, KindPanic, "")
	a := h.open(caseA)
	if a.State != StateRaised || a.Class != ClassPanic || a.Team != "south" {
		t.Fatalf("alert = %s %s %s, want raised panic of south", a.State, a.Class, a.Team)
	}
	if got, want := a.Priority, PriorityOf(ClassPanic, casework.RiskMedium, 0, 3); got != want {
		t.Errorf("priority = %d, want %d", got, want)
	}
	if !a.CancelUntil.Equal(h.clk.Now().Add(30 * time.Second)) {
		t.Errorf("cancel window ends %v, want 30 s after raise", a.CancelUntil)
	}
	if err := h.svc.App(context.Background(), caseA, AppSignal{RequestID: "msg-abcdefghijklmnop", Kind: KindMessage, Message: pii.NewText("he is back")}); err != nil {
		t.Fatal(err)
	}
	h.app(caseA, KindPanic, "")
	if n := len(h.st.alerts); n != 1 {
		t.Fatalf("%d alerts after three signals, want 1 (one incident, one alert)", n)
	}
	// A duress PIN on check-in turns it into duress.
	h.app(caseA, KindCheckin, "2222")
	a = h.open(caseA)
	if !a.Duress() || a.Priority < PriorityOf(ClassDuress, casework.RiskStandard, 0, 3) {
		t.Errorf("after duress check-in: class %s priority %d, want duress", a.Class, a.Priority)
	}
	if !a.CancelUntil.IsZero() {
		t.Error("a duress alert still has a cancel window")
	}
	want := []EntryType{EntryRaised, EntryJoined, EntryMessage, EntryJoined, EntryJoined, EntryDuress}
	if diff := cmp.Diff(want, entryTypes(a)); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
}

func TestCancelWindow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		risk      casework.Risk
		after     time.Duration
		pin       string
		wantState State
		wantOpen  bool // still in the queue
		wantClass Class
	}{
		{"real PIN inside window cancels", casework.RiskMedium, 29 * time.Second, "1111", StateCancelled, false, ClassPanic},
		{"real PIN at window end cancels", casework.RiskMedium, 30 * time.Second, "1111", StateCancelled, false, ClassPanic},
		{"real PIN after window is noted", casework.RiskMedium, 31 * time.Second, "1111", StateRaised, true, ClassPanic},
		{"high risk cancel leaves welfare follow-up", casework.RiskHigh, 5 * time.Second, "1111", StateCancelled, true, ClassPanic},
		{"duress PIN turns into duress", casework.RiskMedium, 5 * time.Second, "2222", StateRaised, true, ClassDuress},
		{"wrong PIN does not cancel", casework.RiskMedium, 5 * time.Second, "9999", StateRaised, true, ClassPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.cases.risk = tc.risk
			h.app(caseA, KindPanic, "")
			id := h.st.open[caseA]
			h.clk.Advance(tc.after)
			h.app(caseA, KindCancel, tc.pin)
			a, _ := h.st.Alert(context.Background(), id)
			if a.State != tc.wantState || a.Open() != tc.wantOpen || a.Class != tc.wantClass {
				t.Errorf("got %s open=%v %s, want %s open=%v %s", a.State, a.Open(), a.Class, tc.wantState, tc.wantOpen, tc.wantClass)
			}
			if len(h.st.alerts) != 1 {
				t.Errorf("%d alerts, want 1", len(h.st.alerts))
			}
		})
	}
}

func TestDuressCannotBeCancelled(t *testing.T) {
	h := newHarness(t)
	h.app(caseA, KindPanic, "2222")
	h.app(caseA, KindCancel, "1111")
	a := h.open(caseA)
	if !a.Duress() || a.State != StateRaised {
		t.Errorf("duress alert after a real-PIN cancel: %s %s, want raised duress", a.State, a.Class)
	}
}

func TestRealAndDuressLookAlike(t *testing.T) {
	// The app's answer is nil either way; what differs is only in Redis.
	h := newHarness(t)
	for _, kind := range []Kind{KindCheckin, KindCancel} {
		for _, pin := range []string{"1111", "2222", "9999"} {
			if err := h.svc.App(context.Background(), caseA, AppSignal{RequestID: randid.Token(16), Kind: kind, PIN: pin}); err != nil {
				t.Errorf("App(%s, %s) = %v, want nil", kind, pin, err)
			}
		}
	}
}

func TestWrongPINsRaisePriority(t *testing.T) {
	h := newHarness(t)
	h.app(caseA, KindPanic, "")
	base := h.open(caseA).Priority
	for i := 1; i <= 3; i++ {
		h.app(caseA, KindCheckin, "9999")
	}
	a := h.open(caseA)
	if a.Priority <= base || a.WrongPINs != 3 {
		t.Errorf("after 3 wrong PINs: priority %d (was %d), wrong %d", a.Priority, base, a.WrongPINs)
	}
}

func TestWrongPINsWithNoAlertRaiseOne(t *testing.T) {
	h := newHarness(t)
	h.app(caseA, KindCheckin, "9999")
	h.app(caseA, KindCheckin, "9999")
	if len(h.st.alerts) != 0 {
		t.Fatal("two wrong PINs raised an alert")
	}
	h.app(caseA, KindCheckin, "9999")
	a := h.open(caseA)
	if a.Class != ClassMessage {
		t.Errorf("class = %s, want message", a.Class)
	}
	h.app(caseA, KindCheckin, "9999")
	if len(h.st.alerts) != 1 {
		t.Errorf("%d alerts, want 1", len(h.st.alerts))
	}
}

func TestDedupe(t *testing.T) {
	h := newHarness(t)
	in := AppSignal{RequestID: "same-request-id-abcdefgh", Kind: KindPanic}
	for range 5 {
		if err := h.svc.App(context.Background(), caseA, in); err != nil {
			t.Fatal(err)
		}
	}
	a := h.open(caseA)
	if len(a.Timeline) != 1 {
		t.Errorf("timeline has %d entries after 5 retries, want 1", len(a.Timeline))
	}
}

func TestAckFirstWins(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.app(caseA, KindPanic, "")
	id := h.st.open[caseA]
	if err := h.svc.Ack(ctx, responder("s_one"), id); err != nil {
		t.Fatal(err)
	}
	err := h.svc.Ack(ctx, responder("s_two"), id)
	var claimed *problem.Claimed
	if !errors.As(err, &claimed) || claimed.By != "Responder s_one" {
		t.Fatalf("second ack = %v, want Claimed by Responder s_one", err)
	}
	if err := h.svc.Ack(ctx, responder("s_one"), id); err != nil {
		t.Errorf("owner's second ack = %v, want nil", err)
	}
}

// TestAckTimeoutWarnsThenLapses (issue 16; it replaces issue 9's "a
// claim stands for ever"): an owner who shows no progress within the
// acknowledgement timeout is warned and keeps the claim for a short grace;
// still nothing, and the claim lapses: back in the queue, escalating again
// at once from the step the claim interrupted.
func TestAckTimeoutWarnsThenLapses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.app(caseA, KindPanic, "")
	id := h.st.open[caseA]
	if err := h.svc.Ack(ctx, responder("s_one"), id); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(14 * time.Minute)
	h.tick()
	if a := h.open(caseA); a.State != StateAcknowledged || !a.Esc.Warned.IsZero() {
		t.Fatalf("after 14 min: %s warned %v, want acknowledged, not warned", a.State, a.Esc.Warned)
	}
	h.clk.Advance(2 * time.Minute)
	h.tick()
	a := h.open(caseA)
	if a.State != StateAcknowledged || a.Owner != "s_one" || a.Esc.Warned.IsZero() {
		t.Fatalf("after the ack timeout: %s owner %q warned %v, want still s_one's, warned", a.State, a.Owner, a.Esc.Warned)
	}
	if a.Fences[TimerStep] != "" {
		t.Error("a claimed alert has an escalation step")
	}
	h.clk.Advance(ClaimLapseGrace)
	h.tick()
	a = h.open(caseA)
	if a.State != StateRaised || a.Owner != "" || a.Esc.Lapsed.IsZero() {
		t.Fatalf("after the grace: %s owner %q lapsed %v, want raised, unowned, marked lapsed", a.State, a.Owner, a.Esc.Lapsed)
	}
	if a.Step == 0 && a.Fences[TimerStep] == "" {
		t.Error("a lapsed claim has no escalation step")
	}
}

func TestWorkingAndNotesRenew(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.app(caseA, KindPanic, "")
	id := h.st.open[caseA]
	p := responder("s_one")
	if err := h.svc.Ack(ctx, p, id); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(10 * time.Minute)
	if err := h.svc.Working(ctx, p, id); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(10 * time.Minute)
	if err := h.svc.Note(ctx, p, id, pii.NewText("called police")); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(10 * time.Minute)
	h.tick()
	if a := h.open(caseA); a.State != StateWorking || a.Owner != "s_one" {
		t.Fatalf("after notes: %s %q, want working by s_one", a.State, a.Owner)
	}
	h.clk.Advance(10 * time.Minute)
	h.tick()
	a := h.open(caseA)
	if a.State != StateWorking || a.Owner != "s_one" {
		t.Errorf("quiet working alert: %s %q, want still working by s_one", a.State, a.Owner)
	}
	if got := entryTypes(a); got[len(got)-1] != EntryQuiet {
		t.Errorf("last entry %s, want quiet", got[len(got)-1])
	}
	// Someone else cannot mark it working or resolve it.
	var claimed *problem.Claimed
	if err := h.svc.Working(ctx, responder("s_two"), id); !errors.As(err, &claimed) {
		t.Errorf("other's working = %v, want Claimed", err)
	}
	// Still nothing from the owner within the grace: the claim lapses,
	// back to the queue, escalating again at once.
	h.clk.Advance(ClaimLapseGrace)
	h.tick()
	a = h.open(caseA)
	if a.State != StateRaised || a.Owner != "" || a.Esc.Lapsed.IsZero() {
		t.Fatalf("after the grace: %s owner %q lapsed %v, want raised, unowned, lapsed", a.State, a.Owner, a.Esc.Lapsed)
	}
	if got := entryTypes(a); !slices.Contains(got, EntryLapsed) {
		t.Errorf("entries %v lack the lapse", got)
	}
}

// TestWorkingWithdrawsTheWarning: marking working after the warning keeps
// the claim for one more timeout.
func TestWorkingWithdrawsTheWarning(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.app(caseA, KindPanic, "")
	id := h.st.open[caseA]
	p := responder("s_one")
	if err := h.svc.Ack(ctx, p, id); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(16 * time.Minute)
	h.tick()
	if a := h.open(caseA); a.Esc.Warned.IsZero() || a.Owner != "s_one" {
		t.Fatalf("after the timeout: warned %v owner %q, want warned and still s_one's", a.Esc.Warned, a.Owner)
	}
	h.clk.Advance(time.Minute)
	if err := h.svc.Working(ctx, p, id); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(ClaimLapseGrace + time.Minute)
	h.tick()
	if a := h.open(caseA); a.Owner != "s_one" || a.State != StateWorking || !a.Esc.Warned.IsZero() {
		t.Errorf("after working and the old grace: %s owner %q warned %v, want still s_one's, working", a.State, a.Owner, a.Esc.Warned)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		children int
		res      Resolution
		field    string
	}{
		{"safe", 0, Resolution{Outcome: OutcomeSafe}, ""},
		{"unknown outcome", 0, Resolution{Outcome: "fine"}, "outcome"},
		{"police with children needs reference", 2, Resolution{Outcome: OutcomePoliceAttended, PoliceRef: pii.NewText("ref")}, "childrens_services_reference"},
		{"police with children and reference", 2, Resolution{Outcome: OutcomePoliceAttended, ChildrenRef: pii.NewText("cs-ref")}, ""},
		{"police without children", 0, Resolution{Outcome: OutcomePoliceAttended}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.cases.children = tc.children
			h.app(caseA, KindPanic, "")
			id := h.st.open[caseA]
			err := h.svc.Resolve(ctx, responder("s_one"), id, tc.res)
			if tc.field != "" {
				var inv *problem.Invalid
				if !errors.As(err, &inv) || inv.Fields[0].Name != tc.field {
					t.Fatalf("Resolve = %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, _ := h.st.Alert(ctx, id)
			if a.State != StateResolved || a.Outcome != tc.res.Outcome || len(h.st.timers) != 0 {
				t.Errorf("resolved: %s %s timers %d", a.State, a.Outcome, len(h.st.timers))
			}
			if h.st.open[caseA] != "" {
				t.Error("case still points at the resolved alert")
			}
			// The next signal starts a new alert.
			h.app(caseA, KindPanic, "")
			if h.st.open[caseA] == id || h.st.open[caseA] == "" {
				t.Error("a resolved alert reopened or no new alert started")
			}
		})
	}
}

func TestRepeatedOutcomesFlagReview(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for i := range 2 {
		h.app(caseA, KindPanic, "")
		if err := h.svc.Resolve(ctx, responder("s_one"), h.st.open[caseA], Resolution{Outcome: OutcomeAccidental}); err != nil {
			t.Fatal(err)
		}
		if got, want := h.cases.flagged[caseA], i == 1; got != want {
			t.Errorf("after %d accidental outcomes flagged = %v, want %v", i+1, got, want)
		}
	}
}

func TestVisibility(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.app(caseA, KindPanic, "")
	id := h.st.open[caseA]
	other := &staff.Principal{StaffID: "s_north", Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"north"}}
	excluded := responder("s_excluded")
	h.cases.excluded = []string{"s_excluded"}
	for _, p := range []*staff.Principal{other, excluded, nil} {
		if _, err := h.svc.Get(ctx, p, id); !errors.Is(err, casework.ErrNotFound) {
			t.Errorf("Get by %v = %v, want not found", p, err)
		}
		if err := h.svc.Ack(ctx, p, id); !errors.Is(err, casework.ErrNotFound) {
			t.Errorf("Ack by %v = %v, want not found", p, err)
		}
		list, err := h.svc.List(ctx, p, "open")
		if err != nil || len(list) != 0 {
			t.Errorf("List by %v = %d alerts, %v; want none", p, len(list), err)
		}
	}
	list, err := h.svc.List(ctx, responder("s_one"), "open")
	if err != nil || len(list) != 1 {
		t.Errorf("List by a team responder = %d alerts, %v; want 1", len(list), err)
	}
	v, err := h.svc.Get(ctx, responder("s_one"), id)
	if err != nil || v.Verdict.Code != casework.SafeToCall {
		t.Errorf("Get = %+v, %v; want verdict SAFE TO CALL", v, err)
	}
}

func TestMessageExpires(t *testing.T) {
	h := newHarness(t)
	h.svc.App(context.Background(), caseA, AppSignal{RequestID: "r1-abcdefghijklmnop", Kind: KindMessage, Message: pii.NewText("are you there")})
	id := h.st.open[caseA]
	for range 200 {
		h.clk.Advance(30 * time.Minute)
		h.tick()
	}
	a, _ := h.st.Alert(context.Background(), id)
	if a.State != StateExpired {
		t.Errorf("message alert after 100 h: %s, want expired", a.State)
	}
}

func TestUnknownSenderGoesToTriage(t *testing.T) {
	h := newHarness(t)
	res, err := h.svc.Raise(context.Background(), Signal{Source: SourceSMS, Kind: KindPanic, DedupeKey: "sms:SMabc", Sender: pii.Phone{}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := h.st.Alert(context.Background(), res.AlertID)
	if a.Team != "triage" || a.CaseID != "" {
		t.Errorf("unknown sender alert: team %q case %q, want triage and no case", a.Team, a.CaseID)
	}
}

func TestLocationWithoutOpenAlert(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	loc, _ := pii.NewLocation(50.9, -1.4, 10, h.clk.Now())
	// No alert at all: accepted, nothing stored.
	if err := h.svc.App(ctx, caseA, AppSignal{RequestID: "loc-one-abcdefghijk", Kind: KindLocation, Location: loc}); err != nil {
		t.Fatal(err)
	}
	h.app(caseA, KindPanic, "")
	id := h.st.open[caseA]
	if err := h.svc.App(ctx, caseA, AppSignal{RequestID: "loc-two-abcdefghijk", Kind: KindLocation, Location: loc}); err != nil {
		t.Fatal(err)
	}
	if a := h.open(caseA); len(a.Trail) != 1 {
		t.Errorf("trail has %d points, want 1", len(a.Trail))
	}
	h.svc.Resolve(ctx, responder("s_one"), id, Resolution{Outcome: OutcomeSafe})
	if err := h.svc.App(ctx, caseA, AppSignal{RequestID: "loc-three-abcdefghi", Kind: KindLocation, Location: loc}); err != nil {
		t.Fatal(err)
	}
	a, _ := h.st.Alert(ctx, id)
	if got := entryTypes(a); got[len(got)-1] != EntryLocation || a.State != StateResolved {
		t.Errorf("closed alert: %s, last entry %s; want resolved with a location entry", a.State, got[len(got)-1])
	}
}

func TestSMSCodeWordTextNeverShown(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sig := Signal{Source: SourceSMS, Kind: KindPanic, CaseID: caseA, DedupeKey: "sms:SM1",
		Message: pii.NewText("OK 2468 rose garden near SO14 7DU"), Hint: pii.NewText("near SO14 7DU")}
	if _, err := h.svc.Raise(ctx, sig); err != nil {
		t.Fatal(err)
	}
	for _, e := range h.open(caseA).Timeline {
		if txt := e.Text.Reveal(); txt != "" && txt != "near SO14 7DU" {
			t.Errorf("timeline shows %q, want only the hint", txt)
		}
	}
	// A check-in word without its PIN is a wrong PIN, not an error.
	if _, err := h.svc.Raise(ctx, Signal{Source: SourceSMS, Kind: KindCheckin, CaseID: caseA, DedupeKey: "sms:SM2"}); err != nil {
		t.Fatalf("SMS check-in without PIN = %v", err)
	}
	if a := h.open(caseA); a.WrongPINs != 1 {
		t.Errorf("wrong PINs = %d, want 1", a.WrongPINs)
	}
}
