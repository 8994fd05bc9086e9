package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/alert"
	"waymark/auditor"
	"waymark/casework"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/oncall"
	"waymark/outbox"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// Escalation end to end on a real redis-server with an injected clock: the
// alert service with paging wired to fakes for people, presence and the
// pager, and the real store for rotas, policies, receipts and the outbox.

// escCases is a CaseSource whose cases are high risk in team south, owned
// by s_owner; excluded staff may be set.
type escCases struct {
	risk     casework.Risk
	excluded []string
}

func (c escCases) Facts(ctx context.Context, caseID, pin string) (casework.CaseFacts, casework.PIN, error) {
	risk := c.risk
	if risk == "" {
		risk = casework.RiskHigh
	}
	return casework.CaseFacts{ID: caseID, Team: "south", Risk: risk, Owner: "s_owner"}, casework.PINWrong, nil
}

func (c escCases) FactsFrom(ctx context.Context, caseID string, rec *casework.Case, pin string) (casework.CaseFacts, casework.PIN, error) {
	return c.Facts(ctx, caseID, pin)
}

func (c escCases) Brief(ctx context.Context, caseID string) (*casework.CaseBrief, error) {
	f, _, _ := c.Facts(ctx, caseID, "")
	return &casework.CaseBrief{CaseFacts: f, Excluded: c.excluded}, nil
}

func (c escCases) FlagReview(ctx context.Context, caseID string) error { return nil }

// fakePeople is every staff member of team south, with phones.
type fakePeople struct{ m map[string]oncall.Person }

func newFakePeople() *fakePeople {
	p := &fakePeople{m: map[string]oncall.Person{}}
	for i, id := range []string{"s_prim", "s_sec", "s_duty", "s_owner", "s_other", "s_nophone"} {
		ph := pii.Phone{}
		if id != "s_nophone" {
			var err error
			ph, err = pii.ParsePhone(fmt.Sprintf("+4477009000%02d", i+1), "GB")
			if err != nil {
				panic(err)
			}
		}
		roles := []staff.Role{staff.RoleResponder}
		if id == "s_owner" {
			roles = []staff.Role{staff.RoleCaseworker}
		}
		p.m[id] = oncall.Person{ID: id, Username: strings.TrimPrefix(id, "s_"), Name: "Name " + id, Roles: roles,
			Teams: []string{"south"}, Active: true, Phone: ph}
	}
	return p
}

func (f *fakePeople) Person(ctx context.Context, ref string) (oncall.Person, error) {
	for _, p := range f.m {
		if p.ID == ref || p.Username == ref {
			return p, nil
		}
	}
	return oncall.Person{}, fmt.Errorf("fake: %w", problem.ErrNotFound)
}

func (f *fakePeople) TeamPeople(ctx context.Context, team string) ([]oncall.Person, error) {
	var out []oncall.Person
	for _, p := range f.m {
		if slices.Contains(p.Teams, team) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakePeople) HasTeam(ctx context.Context, team string) (bool, error) {
	return team == "south", nil
}

func (f *fakePeople) phoneOf(id string) string { return f.m[id].Phone.Reveal() }

// fakePresence is who has the dashboard open.
type fakePresence struct {
	mu sync.Mutex
	m  map[string]bool
}

func (f *fakePresence) set(id string, duty bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[id] = duty
}

func (f *fakePresence) OnDashboard(ctx context.Context, team string) (map[string]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for k, v := range f.m {
		out[k] = v
	}
	return out, nil
}

// sent is one page the fake pager sent.
type sent struct {
	At   time.Duration // since the test's start
	Kind string        // sms or voice
	To   string        // staff id, or "fallback"
}

// fakePager records pages, answering from a per-recipient script.
type fakePager struct {
	mu     sync.Mutex
	clk    *testclock.Clock
	start  time.Time
	who    map[string]string // phone → staff id
	sent   []sent
	script map[string][]error // "kind to" → errors, first first
}

func (f *fakePager) do(kind string, to pii.Phone) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	who := f.who[to.Reveal()]
	key := kind + " " + who
	if errs := f.script[key]; len(errs) > 0 {
		f.script[key] = errs[1:]
		if errs[0] != nil {
			return errs[0]
		}
	}
	f.sent = append(f.sent, sent{At: f.clk.Now().Sub(f.start), Kind: kind, To: who})
	return nil
}

func (f *fakePager) Text(ctx context.Context, to pii.Phone, body string) (string, error) {
	if strings.Contains(body, "+44") {
		panic("page text carries a phone number")
	}
	if err := f.do("sms", to); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("SM%032d", len(f.sent)), nil
}

// fakeStatuses is Twilio's delivery reports: the texts listed are
// undelivered.
type fakeStatuses struct {
	mu          sync.Mutex
	undelivered map[string]bool
	recorded    map[string]string
}

func (f *fakeStatuses) RecordPage(ctx context.Context, sid, alertID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recorded[sid] = alertID
	return nil
}

func (f *fakeStatuses) Undelivered(ctx context.Context, sid string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.undelivered[sid], nil
}

func (f *fakePager) Call(ctx context.Context, to pii.Phone, words string) (string, error) {
	if strings.Contains(words, "+44") {
		panic("voice page carries a phone number")
	}
	if err := f.do("voice", to); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("CA%032d", len(f.sent)), nil
}

func (f *fakePager) pages() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

type escEnv struct {
	*alertEnv
	people   *fakePeople
	presence *fakePresence
	pager    *fakePager
	statuses *fakeStatuses
	start    time.Time
	deps     alert.EscalationDeps
	// pages wires each instance's outbox; runners are the outboxes of
	// the instances escService built.
	pages    outbox.Options
	runners  map[*alert.Service]*outbox.Runner
	outboxes map[*alert.Service]outbox.Store
}

const fallbackPhone = "+447700900099"

func newEscEnv(t *testing.T, cases escCases) *escEnv {
	t.Helper()
	ae := newAlertEnv(t, testenv.RedisOptions{})
	e := &escEnv{alertEnv: ae, people: newFakePeople(), presence: &fakePresence{m: map[string]bool{}}, start: ae.clk.Now(),
		statuses: &fakeStatuses{undelivered: map[string]bool{}, recorded: map[string]string{}}}
	fb, err := pii.ParsePhone(fallbackPhone, "GB")
	if err != nil {
		t.Fatal(err)
	}
	e.pager = &fakePager{clk: ae.clk, start: e.start, who: map[string]string{fb.Reveal(): alert.FallbackWho}, script: map[string][]error{}}
	for id := range e.people.m {
		if ph := e.people.phoneOf(id); ph != "" {
			e.pager.who[ph] = id
		}
	}
	e.deps = alert.EscalationDeps{
		Rotas: ae.s, People: e.people, Presence: e.presence, Receipts: ae.s,
		PhonePages: true, Statuses: e.statuses, Fallback: oncall.Fallback{Phone: fb, Name: "Out of hours"}, Tick: time.Second,
	}
	e.pages = outbox.Options{People: e.people, Pager: e.pager, Statuses: e.statuses, Fallback: e.deps.Fallback,
		ClaimIdle: 10 * time.Second, Now: ae.clk.Now}
	e.runners = map[*alert.Service]*outbox.Runner{}
	e.outboxes = map[*alert.Service]outbox.Store{}
	e.svc = e.escService(ae.s, cases, "test-a")
	return e
}

// escService builds another instance's service on st, and its outbox.
func (e *escEnv) escService(st *testStore, cases escCases, consumer string) *alert.Service {
	d := e.deps
	d.Rotas, d.Receipts = st, st
	svc := alert.NewService(st, cases, alert.Config{TriageTeam: "triage", Escalation: &d}, e.clk.Now, nil)
	o := e.pages
	o.Store, o.Alerts, o.Consumer = st, svc, consumer
	e.runners[svc] = outbox.New(o)
	e.outboxes[svc] = st
	return svc
}

// pump runs one pass of svc's outbox without waiting, as its loop would:
// it takes over stale pages, reads the new ones and sends each in turn.
func (e *escEnv) pump(svc *alert.Service) (int, error) {
	ctx := context.Background()
	if err := e.outboxes[svc].EnsureOutbox(ctx); err != nil {
		return 0, err
	}
	r := e.runners[svc]
	pages, err := r.Take(ctx, 100, 0)
	if err != nil {
		return 0, err
	}
	for _, p := range pages {
		r.Send(ctx, p)
	}
	return len(pages), nil
}

// auditor is an auditor of the first instance's alerts.
func (e *escEnv) auditor() *auditor.Auditor {
	return auditor.New(auditor.Options{Alerts: e.s, Store: e.s, Rules: e.svc.Rules(), Now: e.clk.Now})
}

// fullRota puts s_prim, s_sec and s_duty on call around the clock.
func (e *escEnv) fullRota() {
	e.t.Helper()
	f := oncall.RotaFile{Shifts: []oncall.ShiftFile{
		{Tier: "primary", Staff: "s_prim", Days: oncall.DayNames{"daily"}, Start: "00:00", End: "24:00"},
		{Tier: "secondary", Staff: "s_sec", Days: oncall.DayNames{"daily"}, Start: "00:00", End: "24:00"},
		{Tier: "duty-manager", Staff: "s_duty", Days: oncall.DayNames{"daily"}, Start: "00:00", End: "24:00"},
	}}
	oc := oncall.NewOnCall(e.s, e.people, e.presence, e.deps.Fallback, e.clk.Now)
	if _, _, err := oc.SetRota(context.Background(), "south", f, "test"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *escEnv) setPolicy(f oncall.PolicyFile) {
	e.t.Helper()
	oc := oncall.NewOnCall(e.s, e.people, e.presence, e.deps.Fallback, e.clk.Now)
	if _, err := oc.SetPolicies(context.Background(), "south", f, "test"); err != nil {
		e.t.Fatal(err)
	}
}

// raise raises an SMS panic for a new case (no cancel window: the first
// step is due at once) and returns its alert id.
func (e *escEnv) raise() string {
	e.t.Helper()
	caseID := e.newCase()
	_, err := e.svc.Raise(context.Background(), alert.Signal{Source: alert.SourceSMS, Kind: alert.KindPanic, CaseID: caseID,
		DedupeKey: "sms:" + caseID, At: e.clk.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.openAlert(caseID).ID
}

// run advances the clock in steps of tick up to d, ticking the scheduler
// and pumping the outbox at each step, as the loops would.
func (e *escEnv) run(d, tick time.Duration, svcs ...*alert.Service) {
	e.t.Helper()
	if len(svcs) == 0 {
		svcs = []*alert.Service{e.svc}
	}
	for elapsed := time.Duration(0); ; elapsed += tick {
		for _, s := range svcs {
			for {
				n, err := s.Tick(context.Background())
				if err != nil {
					e.t.Fatalf("tick: %v", err)
				}
				if _, err := e.pump(s); err != nil {
					e.t.Fatalf("pump: %v", err)
				}
				if n == 0 {
					break
				}
			}
		}
		if elapsed+tick > d {
			return
		}
		e.clk.Advance(tick)
	}
}

func (e *escEnv) alert(id string) *alert.Alert {
	e.t.Helper()
	a, err := e.s.Alert(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// TestHighRiskEscalationDoneWhen is issue 9's "done when": a high-risk
// alert nobody claims pages the on-call primary and the case owner at 0 s,
// the secondary at the first wait, the duty manager next, and phones the
// 24/7 fallback at its time.
func TestHighRiskEscalationDoneWhen(t *testing.T) {
	e := newEscEnv(t, escCases{})
	e.fullRota()
	e.raise()
	e.run(8*time.Minute, time.Second)
	want := []sent{
		{0, "sms", "s_owner"}, {0, "sms", "s_prim"}, // step 1 at once: on-call and case owner
		{sec(120), "sms", "s_sec"},             // step 2 after the first wait (2 min)
		{sec(240), "sms", "s_duty"},            // step 3: duty manager
		{sec(420), "voice", alert.FallbackWho}, // step 4: the fallback is phoned
	}
	got := e.pager.pages()
	slices.SortStableFunc(got, func(a, b sent) int {
		if a.At != b.At {
			return int(a.At - b.At)
		}
		return strings.Compare(a.To, b.To)
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// TestFallbackAfterBringsTheFallbackForward: with long waits, a high-risk
// policy's fallback deadline phones the fallback at its time, not after
// the remaining steps.
func TestFallbackAfterBringsTheFallbackForward(t *testing.T) {
	e := newEscEnv(t, escCases{})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{High: &oncall.PolicyLevelFile{FallbackAfter: "6m", Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary"}, How: []string{"sms"}, Wait: "5m"},
		{Whom: []string{"oncall:secondary"}, How: []string{"sms"}, Wait: "5m"},
		{Whom: []string{"duty-manager"}, How: []string{"sms"}, Wait: "5m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "5m"},
	}}})
	e.raise()
	e.run(12*time.Minute, 10*time.Second)
	want := []sent{
		{0, "sms", "s_prim"},
		{sec(300), "sms", "s_sec"},
		{sec(360), "voice", alert.FallbackWho}, // 6 min: brought forward
		{sec(660), "sms", "s_prim"},            // then the sequence starts again
	}
	if diff := cmp.Diff(want, e.pager.pages()); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// TestClaimStopsPagesWhileWorked: claimed at any point, nothing further
// is paged for as long as the owner shows progress (here: marks it
// working every 10 minutes, within the 15-minute timeout).
func TestClaimStopsPagesWhileWorked(t *testing.T) {
	for _, claimAt := range []time.Duration{0, sec(30), sec(121), sec(419)} {
		t.Run(claimAt.String(), func(t *testing.T) {
			e := newEscEnv(t, escCases{})
			e.fullRota()
			id := e.raise()
			e.run(claimAt, time.Second)
			before := len(e.pager.pages())
			ctx := context.Background()
			if err := e.svc.Ack(ctx, who("s_prim"), id); err != nil {
				t.Fatal(err)
			}
			for range 18 {
				e.run(10*time.Minute, 10*time.Second)
				if err := e.svc.Working(ctx, who("s_prim"), id); err != nil {
					t.Fatal(err)
				}
			}
			if got := e.pager.pages()[before:]; len(got) != 0 {
				t.Errorf("pages after the claim at %s: %v", claimAt, got)
			}
			a := e.alert(id)
			if a.State != alert.StateWorking || a.Owner != "s_prim" || !a.Esc.Warned.IsZero() {
				t.Errorf("after 3 h of work: %s by %q (warned %v), want working by s_prim", a.State, a.Owner, a.Esc.Warned)
			}
			// Only the acknowledgement timer is left.
			if n := e.s.RDB.ZCard(ctx, e.s.k.Schedule()).Val(); n != 1 {
				t.Errorf("%d scheduled entries for a worked claim, want the ack timer only", n)
			}
		})
	}
}

// TestIdleClaimLapsesAndPages: a claim whose owner shows no progress is
// warned at the timeout and lapses 2 minutes later; the escalation then
// resumes at the tier the claim interrupted and pages at once.
func TestIdleClaimLapsesAndPages(t *testing.T) {
	for _, claimAt := range []time.Duration{0, sec(121)} {
		t.Run(claimAt.String(), func(t *testing.T) {
			e := newEscEnv(t, escCases{})
			e.fullRota()
			id := e.raise()
			e.run(claimAt, time.Second)
			before := len(e.pager.pages())
			if err := e.svc.Ack(context.Background(), who("s_prim"), id); err != nil {
				t.Fatal(err)
			}
			e.run(15*time.Minute+10*time.Second, 10*time.Second)
			a := e.alert(id)
			if a.Owner != "s_prim" || a.Esc.Warned.IsZero() || len(e.pager.pages()) != before {
				t.Fatalf("at the timeout: owner %q warned %v, %d pages; want still claimed, warned, none", a.Owner, a.Esc.Warned, len(e.pager.pages())-before)
			}
			e.run(alert.ClaimLapseGrace, 10*time.Second)
			a = e.alert(id)
			if a.State != alert.StateRaised || a.Owner != "" || a.Esc.Lapsed.IsZero() {
				t.Fatalf("after the grace: %s by %q lapsed %v, want raised, unowned, lapsed", a.State, a.Owner, a.Esc.Lapsed)
			}
			if got := e.pager.pages()[before:]; len(got) == 0 {
				t.Errorf("the lapsed alert paged nobody")
			}
		})
	}
}

// TestSenderRechecksTheClaim: a page queued by a step and claimed before
// the outbox reached it is not sent.
func TestSenderRechecksTheClaim(t *testing.T) {
	e := newEscEnv(t, escCases{})
	e.fullRota()
	id := e.raise()
	if _, err := e.svc.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.s.RDB.XLen(context.Background(), e.s.k.Outbox()).Val(); n != 2 {
		t.Fatalf("outbox holds %d pages, want 2", n)
	}
	if err := e.svc.Ack(context.Background(), who("s_prim"), id); err != nil {
		t.Fatal(err)
	}
	if n, err := e.pump(e.svc); err != nil || n != 2 {
		t.Fatalf("pump = %d, %v", n, err)
	}
	if got := e.pager.pages(); len(got) != 0 {
		t.Errorf("pages sent after the claim: %v", got)
	}
	if n := e.s.RDB.XLen(context.Background(), e.s.k.Outbox()).Val(); n != 0 {
		t.Errorf("outbox still holds %d pages", n)
	}
}

// TestDashboardNeedsAReceipt: a responder on the dashboard counts as
// reached only if their client confirms the alert within 5 s plus a tick;
// otherwise the next channel goes at once.
func TestDashboardNeedsAReceipt(t *testing.T) {
	t.Run("seen", func(t *testing.T) {
		e := newEscEnv(t, escCases{risk: casework.RiskStandard})
		e.fullRota()
		e.presence.set("s_prim", true)
		id := e.raise()
		e.run(sec(2), time.Second)
		if err := e.s.SaveReceipts(context.Background(), []Receipt{{Alert: id, Staff: "s_prim", Teams: []string{"south"}, At: e.clk.Now()}}); err != nil {
			t.Fatal(err)
		}
		e.run(sec(60), time.Second)
		if got := e.pager.pages(); len(got) != 0 {
			t.Errorf("pages although the dashboard confirmed: %v", got)
		}
		if tg := e.alert(id).Esc.Targets; len(tg) != 1 || tg[0].State != alert.TargetSeen {
			t.Errorf("targets %+v, want s_prim seen", tg)
		}
	})
	t.Run("not seen: text at 6 s", func(t *testing.T) {
		e := newEscEnv(t, escCases{risk: casework.RiskStandard})
		e.fullRota()
		e.presence.set("s_prim", true)
		e.raise()
		e.run(sec(60), time.Second)
		want := []sent{{sec(6), "sms", "s_prim"}}
		if diff := cmp.Diff(want, e.pager.pages()); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
	t.Run("frozen dashboard: the next person at once", func(t *testing.T) {
		e := newEscEnv(t, escCases{risk: casework.RiskStandard})
		e.fullRota()
		e.setPolicy(oncall.PolicyFile{Standard: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
			{Whom: []string{"oncall:primary"}, How: []string{"dashboard"}, Wait: "10m"},
			{Whom: []string{"oncall:secondary"}, How: []string{"sms"}, Wait: "10m"},
			{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
		}}})
		e.presence.set("s_prim", true) // connected, but its client never confirms
		e.raise()
		e.run(sec(60), time.Second)
		want := []sent{{sec(6), "sms", "s_sec"}}
		if diff := cmp.Diff(want, e.pager.pages()); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
}

// TestFallThroughChannels: an unsubscribed number (21610) falls through to
// a call at once; a provider that keeps failing dead-letters the page,
// announces it, and falls through too.
func TestFallThroughChannels(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskMedium})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{Medium: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary", "oncall:secondary"}, How: []string{"sms", "voice"}, Wait: "10m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	e.pager.script["sms s_prim"] = []error{fmt.Errorf("%w: 21610", outbox.ErrPageRefused)}
	e.pager.script["sms s_sec"] = []error{fmt.Errorf("%w: 500s", outbox.ErrPageUndelivered)}
	id := e.raise()
	e.run(sec(5), time.Second)
	want := []sent{{0, "voice", "s_prim"}, {0, "voice", "s_sec"}}
	got := e.pager.pages()
	slices.SortFunc(got, func(a, b sent) int { return strings.Compare(a.To, b.To) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	dead, err := e.s.DeadPages(context.Background(), 10)
	if err != nil || len(dead) != 1 || dead[0].Page.Who != "s_sec" || dead[0].Page.Alert != id {
		t.Fatalf("dead letters = %+v, %v; want the text to s_sec", dead, err)
	}
	var failed bool
	for _, ev := range readEvents(t, e.s) {
		failed = failed || ev.Type == alert.EventPageFailed && ev.Alert == id
	}
	if !failed {
		t.Error("no page-failed event for the operator")
	}
}

// TestUndeliveredTextFallsThrough: a text Twilio accepted but later
// reported undelivered moves its recipient to a call at the status check.
func TestUndeliveredTextFallsThrough(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskMedium})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{Medium: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary", "oncall:secondary"}, How: []string{"sms", "voice"}, Wait: "10m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	id := e.raise()
	e.run(sec(1), time.Second)
	// The primary's text (the first one sent) bounces.
	var primSID string
	for sid, al := range e.statuses.recorded {
		if al != id {
			t.Errorf("text %s recorded for alert %s", sid, al)
		}
	}
	for i, p := range e.pager.pages() {
		if p.To == "s_prim" {
			primSID = fmt.Sprintf("SM%032d", i+1)
		}
	}
	e.statuses.mu.Lock()
	e.statuses.undelivered[primSID] = true
	e.statuses.mu.Unlock()
	e.run(sec(60), time.Second)
	var calls []sent
	for _, p := range e.pager.pages() {
		if p.Kind == "voice" {
			calls = append(calls, p)
		}
	}
	if diff := cmp.Diff([]sent{{alert.SMSCheckAfter, "voice", "s_prim"}}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestNobodyReachableMovesOn: a step whose people cannot be reached (no
// phone, not on the dashboard) runs the next step at once.
func TestNobodyReachableMovesOn(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskStandard})
	e.setPolicy(oncall.PolicyFile{Standard: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"staff:nophone"}, How: []string{"dashboard", "sms"}, Wait: "10m"},
		{Whom: []string{"oncall:secondary"}, How: []string{"sms"}, Wait: "10m"}, // no rota: nobody
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	e.raise()
	e.run(sec(5), time.Second)
	// Both unreachable steps pass in the same tick.
	want := []sent{{0, "voice", alert.FallbackWho}}
	if diff := cmp.Diff(want, e.pager.pages()); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// TestExcludedStaffAreNotPaged: a conflict of interest holds for pages.
func TestExcludedStaffAreNotPaged(t *testing.T) {
	e := newEscEnv(t, escCases{excluded: []string{"s_prim"}})
	e.fullRota()
	e.raise()
	e.run(sec(1), time.Second)
	for _, p := range e.pager.pages() {
		if p.To == "s_prim" {
			t.Errorf("excluded responder paged: %v", p)
		}
	}
}

// TestRestartResumes: a second instance (new service, new store client)
// carries on an escalation the first one started; a duplicate or stale
// instance changes nothing.
func TestRestartResumes(t *testing.T) {
	e := newEscEnv(t, escCases{})
	e.fullRota()
	e.raise()
	e.run(sec(10), time.Second)
	second := e.escService(e.secondStore(), escCases{}, "test-b")
	e.run(8*time.Minute-sec(10), time.Second, second, second)
	got := e.pager.pages()
	var tos []string
	for _, p := range got {
		tos = append(tos, fmt.Sprintf("%s@%s", p.To, p.At))
	}
	want := []string{"s_owner@0s", "s_prim@0s", "s_sec@2m0s", "s_duty@4m0s", "fallback@7m0s"}
	slices.Sort(tos)
	slices.Sort(want)
	if diff := cmp.Diff(want, tos); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestAuditorRearms(t *testing.T) {
	e := newEscEnv(t, escCases{})
	e.fullRota()
	id := e.raise()
	e.run(sec(1), time.Second)
	ctx := context.Background()
	if n, err := e.auditor().Audit(ctx); err != nil || n != 0 {
		t.Fatalf("audit of a healthy alert = %d, %v", n, err)
	}
	// Lose the step (as a bug or a botched restore would).
	step := alert.Timer{Kind: alert.TimerStep, Target: id}.ID()
	e.s.RDB.ZRem(ctx, e.s.k.Schedule(), step)
	e.s.RDB.Del(ctx, e.s.k.ScheduleEntry(step))
	if n, err := e.auditor().Audit(ctx); err != nil || n != 1 {
		t.Fatalf("audit = %d, %v; want one repair", n, err)
	}
	if n, err := e.auditor().Audit(ctx); err != nil || n != 0 {
		t.Fatalf("second audit = %d, %v; want none", n, err)
	}
	before := len(e.pager.pages())
	e.run(sec(1), time.Second)
	if len(e.pager.pages()) == before {
		t.Error("the re-armed step paged nobody")
	}
	a := e.alert(id)
	repair := slices.IndexFunc(a.Timeline, func(en alert.Entry) bool { return en.Type == alert.EntryRepaired })
	if repair < 0 || !slices.ContainsFunc(a.Timeline[repair:], func(en alert.Entry) bool { return en.Type == alert.EntryEscalated }) {
		t.Errorf("timeline lacks the repair: %+v", a.Timeline)
	}
}

func TestAuditorLease(t *testing.T) {
	e := newEscEnv(t, escCases{})
	ctx := context.Background()
	ok1, err1 := e.s.HoldLease(ctx, "auditor", "a", time.Minute)
	ok2, err2 := e.s.HoldLease(ctx, "auditor", "b", time.Minute)
	ok3, err3 := e.s.HoldLease(ctx, "auditor", "a", time.Minute)
	if err := errors.Join(err1, err2, err3); err != nil || !ok1 || ok2 || !ok3 {
		t.Errorf("leases = %v %v %v, %v; want a, not b, a again", ok1, ok2, ok3, err)
	}
}

func TestGoOffDuty(t *testing.T) {
	e := newEscEnv(t, escCases{})
	e.fullRota()
	ctx := context.Background()
	keep, drop := e.raise(), e.raise()
	e.run(sec(1), time.Second)
	prim := who("s_prim")
	for _, id := range []string{keep, drop} {
		if err := e.svc.Ack(ctx, prim, id); err != nil {
			t.Fatal(err)
		}
	}
	// Refusals change nothing.
	for _, tc := range []struct {
		name string
		hs   []oncall.Handover
	}{
		{"no note", []oncall.Handover{{Alert: keep, To: "sec"}}},
		{"to self", []oncall.Handover{{Alert: keep, To: "prim", Note: pii.NewText("x")}}},
		{"to a caseworker", []oncall.Handover{{Alert: keep, To: "owner", Note: pii.NewText("x")}}},
		{"to nobody", []oncall.Handover{{Alert: keep, To: "zed", Note: pii.NewText("x")}}},
		{"not mine", []oncall.Handover{{Alert: "a_nosuchalert", To: "sec", Note: pii.NewText("x")}}},
	} {
		var inv *problem.Invalid
		if _, err := e.svc.GoOffDuty(ctx, prim, tc.hs); !errors.As(err, &inv) {
			t.Errorf("%s: err = %v, want invalid", tc.name, err)
		}
	}
	if a := e.alert(drop); a.Owner != "s_prim" {
		t.Fatalf("a refused hand-over changed the alert: owner %q", a.Owner)
	}
	before := len(e.pager.pages())
	res, err := e.svc.GoOffDuty(ctx, prim, []oncall.Handover{{Alert: keep, To: "sec", Note: pii.NewText("called her back at 10:05")}})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(res, func(a, b oncall.HandoverResult) int { return strings.Compare(a.Alert, b.Alert) })
	want := []oncall.HandoverResult{{Alert: keep, To: "s_sec"}, {Alert: drop, Returned: true}}
	slices.SortFunc(want, func(a, b oncall.HandoverResult) int { return strings.Compare(a.Alert, b.Alert) })
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if a := e.alert(keep); a.Owner != "s_sec" || a.State != alert.StateAcknowledged {
		t.Errorf("handed over: %s by %q", a.State, a.Owner)
	}
	a := e.alert(drop)
	if a.Owner != "" || a.State != alert.StateRaised {
		t.Errorf("not handed over: %s by %q, want raised and unowned", a.State, a.Owner)
	}
	// Returned loudly, and escalating again at once.
	e.run(sec(1), time.Second)
	if len(e.pager.pages()) == before {
		t.Error("the returned alert paged nobody")
	}
	var returned bool
	for _, ev := range readEvents(t, e.s) {
		returned = returned || ev.Type == alert.EventReturned && ev.Alert == drop
	}
	if !returned {
		t.Error("no returned event")
	}
}

// TestFailedTextCallbackMovesAtOnce: a status callback saying a page by
// text failed (30005) moves its recipient to a call at once, not at the
// status check 30 s later, and the timeline says why in plain words; a
// repeated callback moves nobody twice.
func TestFailedTextCallbackMovesAtOnce(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskMedium})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{Medium: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary", "oncall:secondary"}, How: []string{"sms", "voice"}, Wait: "10m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	id := e.raise()
	e.run(sec(1), time.Second)
	var primSID string
	for i, p := range e.pager.pages() {
		if p.To == "s_prim" {
			primSID = fmt.Sprintf("SM%032d", i+1)
		}
	}
	ctx := context.Background()
	for range 2 {
		if err := e.svc.TextFailed(ctx, id, primSID, "the number does not exist"); err != nil {
			t.Fatal(err)
		}
	}
	e.run(sec(2), time.Second)
	var calls []sent
	for _, p := range e.pager.pages() {
		if p.Kind == "voice" {
			calls = append(calls, p)
		}
	}
	if diff := cmp.Diff([]sent{{sec(1), "voice", "s_prim"}}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	a := e.alert(id)
	found := false
	for _, en := range a.Timeline {
		if en.Detail == "Texted Name s_prim \u2014 not delivered (the number does not exist); trying a call now" {
			found = true
		}
	}
	if !found {
		t.Errorf("the timeline does not say the text failed and why")
	}
}

// callSIDs are the provider ids the fake pager gave the calls so far, by
// recipient.
func (e *escEnv) callSIDs() map[string]string {
	out := map[string]string{}
	for i, p := range e.pager.pages() {
		if p.Kind == "voice" {
			out[p.To] = fmt.Sprintf("CA%032d", i+1)
		}
	}
	return out
}

func (e *escEnv) hasEntry(id, detail string) bool {
	return slices.ContainsFunc(e.alert(id).Timeline, func(en alert.Entry) bool { return en.Detail == detail })
}

// TestVoicePageCountsOnlyWhenTaken: a call nobody answers moves its
// recipient to their next channel at once, once; a press of 1 claims the
// alert for the callee, first claim wins; a press for a call that is not
// a current page changes nothing.
func TestVoicePageCountsOnlyWhenTaken(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskMedium})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{Medium: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary", "oncall:secondary"}, How: []string{"voice", "sms"}, Wait: "10m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	id := e.raise()
	e.run(sec(1), time.Second)
	sids := e.callSIDs()
	if sids["s_prim"] == "" || sids["s_sec"] == "" {
		t.Fatalf("calls placed: %v", e.pager.pages())
	}
	if !e.hasEntry(id, "Rang Name s_prim \u2014 ringing; waiting for them to press 1") {
		t.Errorf("the timeline does not say the call is ringing: %+v", e.alert(id).Timeline)
	}
	ctx := context.Background()
	if ans, err := e.svc.CallPressed(ctx, id, "CA"+strings.Repeat("9", 32)); err != nil || ans != alert.AnswerStale {
		t.Errorf("press on a call that was no page = %q, %v; want stale", ans, err)
	}
	for range 2 {
		if err := e.svc.CallUnanswered(ctx, id, sids["s_prim"], "no answer"); err != nil {
			t.Fatal(err)
		}
	}
	e.run(sec(1), time.Second)
	texts := 0
	for _, p := range e.pager.pages() {
		if p.Kind == "sms" && p.To == "s_prim" {
			texts++
		}
	}
	if texts != 1 {
		t.Errorf("after the unanswered call, %d texts to the primary; want 1 at once", texts)
	}
	if !e.hasEntry(id, "Rang Name s_prim \u2014 no answer; trying a text now") {
		t.Errorf("the timeline does not say the call was not answered: %+v", e.alert(id).Timeline)
	}
	if ans, err := e.svc.CallPressed(ctx, id, sids["s_sec"]); err != nil || ans != alert.AnswerTaken {
		t.Fatalf("the secondary's press = %q, %v; want taken", ans, err)
	}
	a := e.alert(id)
	if a.Owner != "s_sec" || a.State != alert.StateAcknowledged {
		t.Errorf("after the press: %s by %q; want acknowledged by s_sec", a.State, a.Owner)
	}
	if !e.hasEntry(id, "Rang Name s_sec \u2014 pressed 1 and took the alert") {
		t.Errorf("the timeline does not say who took it by phone: %+v", a.Timeline)
	}
	// A second press, by anyone, changes nothing.
	if ans, _ := e.svc.CallPressed(ctx, id, sids["s_prim"]); ans != alert.AnswerHeld {
		t.Errorf("a press after the claim = %q; want held", ans)
	}
	if ans, _ := e.svc.CallPressed(ctx, id, sids["s_sec"]); ans != alert.AnswerHeld {
		t.Errorf("a replayed press = %q; want held", ans)
	}
	if b := e.alert(id); b.Owner != "s_sec" || b.Seq != a.Seq {
		t.Errorf("a later press changed the alert: owner %q, seq %d → %d", b.Owner, a.Seq, b.Seq)
	}
}

// TestVoicePageUnheardMovesOn: a call whose outcome never arrives counts
// as unanswered once VoiceAnswerWait has passed; the fallback's press
// counts as delivered without claiming.
func TestVoicePageUnheardMovesOn(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskMedium})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{Medium: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary"}, How: []string{"voice", "sms"}, Wait: "10m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	id := e.raise()
	e.run(sec(1), time.Second)
	e.run(alert.VoiceAnswerWait+sec(5), time.Second)
	var text time.Duration
	for _, p := range e.pager.pages() {
		if p.Kind == "sms" && p.To == "s_prim" {
			text = p.At
		}
	}
	if text < alert.VoiceAnswerWait || text > alert.VoiceAnswerWait+sec(4) {
		t.Errorf("the unheard call moved on to a text at %v; want just after %v", text, alert.VoiceAnswerWait)
	}
	if !e.hasEntry(id, "Rang Name s_prim \u2014 no answer within 1m30s; trying a text now") {
		t.Errorf("the timeline does not say why: %+v", e.alert(id).Timeline)
	}
	// On to the fallback step, 10 minutes after the first.
	fb := ""
	for i := 0; i < 200 && fb == ""; i++ {
		e.run(sec(5), 5*time.Second)
		fb = e.callSIDs()[alert.FallbackWho]
	}
	if fb == "" {
		t.Fatalf("the fallback was not rung: %v", e.pager.pages())
	}
	if ans, err := e.svc.CallPressed(context.Background(), id, fb); err != nil || ans != alert.AnswerNoted {
		t.Fatalf("the fallback's press = %q, %v; want noted", ans, err)
	}
	a := e.alert(id)
	if a.Owner != "" || a.State != alert.StateRaised {
		t.Errorf("the fallback's press claimed the alert: %s by %q", a.State, a.Owner)
	}
	if !e.hasEntry(id, "Rang the 24/7 fallback \u2014 pressed 1: they have it") {
		t.Errorf("the timeline does not say the fallback has it: %+v", a.Timeline)
	}
}

// TestFailedPageMovesToNextStep: where a step says if_unreached:
// next-step, a page refused for good moves on to the next step's person
// at once, without trying the same person's other channels; the default
// tries them.
func TestFailedPageMovesToNextStep(t *testing.T) {
	e := newEscEnv(t, escCases{risk: casework.RiskMedium})
	e.fullRota()
	e.setPolicy(oncall.PolicyFile{Medium: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary"}, How: []string{"sms", "voice"}, Wait: "10m", IfUnreached: "next-step"},
		{Whom: []string{"oncall:secondary"}, How: []string{"sms", "voice"}, Wait: "10m"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "10m"},
	}}})
	e.pager.script["sms s_prim"] = []error{fmt.Errorf("%w: 21610", outbox.ErrPageRefused)}
	e.pager.script["sms s_sec"] = []error{fmt.Errorf("%w: 21610", outbox.ErrPageRefused)}
	id := e.raise()
	e.run(sec(3), time.Second)
	var got []sent
	for _, p := range e.pager.pages() {
		got = append(got, sent{0, p.Kind, p.To})
	}
	// (Refused pages are not recorded as sent.) The primary is not rung:
	// the secondary's step runs at once, and its default tries the
	// secondary's call after their refused text.
	want := []sent{{0, "voice", "s_sec"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if !e.hasEntry(id, "Texted Name s_prim \u2014 could not be sent (refused by the provider); the policy moves on to the next step rather than their other ways") {
		t.Errorf("the timeline does not say why the primary was left: %+v", e.alert(id).Timeline)
	}
}
