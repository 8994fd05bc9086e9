package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/oncall"
	"waymark/outbox"
)

// queuePage commits a raised alert with one page, as a step would, and
// returns the page as queued.
func queuePage(t *testing.T, e *alertEnv) (alert.Page, *alert.Alert) {
	t.Helper()
	ctx := context.Background()
	caseID := e.newCase()
	if err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic}); err != nil {
		t.Fatal(err)
	}
	a := e.openAlert(caseID)
	pg := alert.Page{Ref: randid.New("p_", 12), Alert: a.ID, Team: a.Team, Token: a.Esc.Token, Who: "s_one",
		Channel: oncall.ChannelSMS, Step: 1, Deadline: e.clk.Now().Add(2 * time.Minute)}
	_, err := e.s.DecideAlert(ctx, a.ID, func(cur *alert.Alert) (*alert.Commit, error) {
		return &alert.Commit{Pages: []alert.Page{pg}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pg, a
}

func TestOutboxLifecycle(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	if err := e.s.EnsureOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.s.EnsureOutbox(ctx); err != nil {
		t.Fatalf("second EnsureOutbox: %v", err)
	}
	want, _ := queuePage(t, e)
	got, err := e.s.ReadPages(ctx, "a", 10, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("ReadPages = %v, %v", got, err)
	}
	want.ID, want.Deliveries = got[0].ID, 1
	want.Deadline = want.Deadline.Truncate(time.Millisecond)
	if diff := cmp.Diff(want, got[0], cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
	if again, _ := e.s.ReadPages(ctx, "b", 10, 0); len(again) != 0 {
		t.Errorf("a page handed out twice: %v", again)
	}
	p := got[0]
	if c, err := e.s.BeginPage(ctx, p, "b"); err != nil || c != outbox.PageLost {
		t.Errorf("BeginPage by another consumer = %s, %v; want lost", c, err)
	}
	if c, err := e.s.BeginPage(ctx, p, "a"); err != nil || c != outbox.PageGo {
		t.Errorf("BeginPage = %s, %v; want go", c, err)
	}
	if ok, err := e.s.RefreshPage(ctx, p, "a"); err != nil || !ok {
		t.Errorf("RefreshPage = %v, %v", ok, err)
	}
	if ok, err := e.s.FinishPage(ctx, p, "b"); err != nil || ok {
		t.Errorf("FinishPage by another consumer = %v, %v; want false", ok, err)
	}
	if ok, err := e.s.FinishPage(ctx, p, "a"); err != nil || !ok {
		t.Fatalf("FinishPage = %v, %v", ok, err)
	}
	st, err := e.s.Outbox.Stats(ctx)
	if err != nil || st != (OutboxStats{}) {
		t.Errorf("stats after finishing = %+v, %v", st, err)
	}
}

// TestOutboxDropsPagesOfClaimedAlerts: the check just before sending
// removes a page whose alert was claimed, or queued afresh (new token).
func TestOutboxDropsPagesOfClaimedAlerts(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	e.s.EnsureOutbox(ctx)
	pg, a := queuePage(t, e)
	stale := pg
	stale.Token = "zzzz"
	got, _ := e.s.ReadPages(ctx, "a", 10, 0)
	stale.ID = got[0].ID
	if c, err := e.s.BeginPage(ctx, stale, "a"); err != nil || c != outbox.PageDrop {
		t.Errorf("BeginPage with an old token = %s, %v; want drop", c, err)
	}
	pg2, a2 := queuePage(t, e)
	got, _ = e.s.ReadPages(ctx, "a", 10, 0)
	pg2.ID = got[0].ID
	if err := e.svc.Ack(ctx, who("s_one"), a2.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := e.s.BeginPage(ctx, pg2, "a"); err != nil || c != outbox.PageDrop {
		t.Errorf("BeginPage of a claimed alert = %s, %v; want drop", c, err)
	}
	if n := e.s.RDB.XLen(ctx, e.s.k.Outbox()).Val(); n != 0 {
		t.Errorf("outbox holds %d dropped pages", n)
	}
	_ = a
}

// TestOutboxTakeover: a consumer that stops refreshing loses its page to
// another after the idle time; its own refresh then fails (it sends
// nothing stale); pages handed out too often are counted.
func TestOutboxTakeover(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	e.s.EnsureOutbox(ctx)
	queuePage(t, e)
	got, _ := e.s.ReadPages(ctx, "dead", 10, 0)
	if len(got) != 1 {
		t.Fatalf("read %d pages", len(got))
	}
	const idle = 50 * time.Millisecond
	var taken []alert.Page
	deadline := time.Now().Add(5 * time.Second)
	for len(taken) == 0 && time.Now().Before(deadline) {
		var err error
		if taken, err = e.s.ClaimStalePages(ctx, "live", idle, 10); err != nil {
			t.Fatal(err)
		}
	}
	if len(taken) != 1 || taken[0].ID != got[0].ID || taken[0].Deliveries != 2 {
		t.Fatalf("takeover = %+v", taken)
	}
	if ok, err := e.s.RefreshPage(ctx, got[0], "dead"); err != nil || ok {
		t.Errorf("the old consumer's refresh = %v, %v; want false", ok, err)
	}
	if c, _ := e.s.BeginPage(ctx, got[0], "dead"); c != outbox.PageLost {
		t.Errorf("the old consumer's check = %s, want lost", c)
	}
	if c, _ := e.s.BeginPage(ctx, taken[0], "live"); c != outbox.PageGo {
		t.Errorf("the new consumer's check = %s, want go", c)
	}
}

func TestOutboxDeadLetter(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	e.s.EnsureOutbox(ctx)
	pg, _ := queuePage(t, e)
	got, _ := e.s.ReadPages(ctx, "a", 10, 0)
	if ok, err := e.s.DeadPage(ctx, got[0], "b", "provider failing"); err != nil || ok {
		t.Fatalf("DeadPage by another consumer = %v, %v; want false", ok, err)
	}
	if ok, err := e.s.DeadPage(ctx, got[0], "a", "provider failing"); err != nil || !ok {
		t.Fatalf("DeadPage = %v, %v", ok, err)
	}
	dead, err := e.s.DeadPages(ctx, 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead = %v, %v", dead, err)
	}
	if d := dead[0]; d.Reason != "provider failing" || d.Page.Ref != pg.Ref || d.Page.Alert != pg.Alert || !d.FailedAt.Equal(e.clk.Now().Truncate(time.Millisecond)) {
		t.Errorf("dead letter %+v", d)
	}
	st, _ := e.s.Outbox.Stats(ctx)
	if st != (OutboxStats{Dead: 1}) {
		t.Errorf("stats = %+v", st)
	}
}

func TestTimerFences(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	_, a := queuePage(t, e)
	got, err := e.s.TimerFences(ctx, alert.TimerStep, []string{a.ID, "a_nosuchalert"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{a.ID: a.Fences[alert.TimerStep]}, got); diff != "" {
		t.Errorf("fences (-want +got):\n%s", diff)
	}
}

func TestRotasAndPoliciesAreVersioned(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	if r, err := e.s.Rota(ctx, "south"); r != nil || err != nil {
		t.Fatalf("no rota yet: %v, %v", r, err)
	}
	r1 := &oncall.Rota{Team: "south", Version: 1, Shifts: []oncall.Shift{{Tier: oncall.TierPrimary, Staff: "s_a", Days: []time.Weekday{1}, Start: 540, End: 1020}}}
	if err := e.s.SaveRota(ctx, r1); err != nil {
		t.Fatal(err)
	}
	r2 := *r1
	r2.Version = 2
	r2.Shifts = append(r2.Shifts, oncall.Shift{Tier: oncall.TierSecondary, Staff: "s_b", Days: []time.Weekday{2}, Start: 0, End: 1440})
	if err := e.s.SaveRota(ctx, &r2); err != nil {
		t.Fatal(err)
	}
	// Someone who checked against version 1 cannot overwrite version 2.
	stale := *r1
	stale.Version = 2
	if err := e.s.SaveRota(ctx, &stale); !errors.Is(err, casework.ErrConflict) {
		t.Errorf("stale save = %v, want a conflict", err)
	}
	got, err := e.s.Rota(ctx, "south")
	if err != nil || got.Version != 2 || len(got.Shifts) != 2 {
		t.Errorf("rota in force = %+v, %v", got, err)
	}
	if prev := e.s.RDB.HGet(ctx, e.s.k.rota("south"), "previous").Val(); prev == "" {
		t.Error("the previous version was not kept")
	}
	ps := oncall.DefaultPolicies()
	ps.Team, ps.Version = "south", 1
	if err := e.s.SavePolicies(ctx, ps); err != nil {
		t.Fatal(err)
	}
	back, err := e.s.Policies(ctx, "south")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ps, back); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
}

// TestOutboxPruneConsumers: consumers of stopped instances are forgotten
// once idle, but never one still holding a page (its pages would be lost
// from the group) and never the caller.
func TestOutboxPruneConsumers(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	if err := e.s.EnsureOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	queuePage(t, e)
	if got, err := e.s.ReadPages(ctx, "holder", 10, 0); err != nil || len(got) != 1 {
		t.Fatalf("ReadPages = %v, %v", got, err)
	}
	for _, name := range []string{"gone-one", "gone-two", "self"} {
		if err := e.s.RDB.XGroupCreateConsumer(ctx, e.s.k.Outbox(), outboxGroup, name).Err(); err != nil {
			t.Fatal(err)
		}
	}
	consumers := func() []string {
		t.Helper()
		cs, err := e.s.RDB.XInfoConsumers(ctx, e.s.k.Outbox(), outboxGroup).Result()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cs {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		return names
	}
	// Not idle long enough: nobody goes.
	if n, err := e.s.PruneOutboxConsumers(ctx, "self", time.Hour); err != nil || n != 0 {
		t.Fatalf("prune after an hour's idle = %d, %v; want none", n, err)
	}
	// Any idle time counts (a negative threshold): the two empty ones go.
	n, err := e.s.PruneOutboxConsumers(ctx, "self", -time.Millisecond)
	if err != nil || n != 2 {
		t.Fatalf("prune = %d, %v; want 2", n, err)
	}
	if diff := cmp.Diff([]string{"holder", "self"}, consumers()); diff != "" {
		t.Errorf("consumers left (-want +got):\n%s", diff)
	}
	// The held page is still pending, to be sent or taken over.
	st, err := e.s.Outbox.Stats(ctx)
	if err != nil || st.Pending != 1 {
		t.Errorf("outbox after pruning = %+v, %v; want the held page pending", st, err)
	}
}
