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

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/problem"
	"waymark/seal"
)

// clusterTenants are two tenants whose hash tags map to slots served by
// different masters of a three-master cluster (slots 16314 and 277; the
// test checks it rather than trusting this comment).
var clusterTenants = []string{"hampshire", "dorset"}

// TestClusterAlertPathStaysInTenantSlot runs the whole alert path — raise
// (app and unknown sender, with a retried duplicate), the events stream read
// by another instance, receipts and presence, escalation by the scheduler
// on two instances at once, a contested claim, the acknowledgement timer,
// a missed check-in and a resolve — for two tenants against a real
// three-master Redis Cluster through store.Open with ClusterAddrs. Every
// multi-key step is a script or pipeline over keys the Cluster would refuse
// (CROSSSLOT) if they did not share a slot, so running them proves they do;
// afterwards every key the run created is checked to sit in its tenant's
// slot, on its tenant's master, and the two tenants on different masters.
// Key rotation, which scans every master, then moves everything to a new
// key-encryption key.
func TestClusterAlertPathStaysInTenantSlot(t *testing.T) {
	c := testenv.StartCluster(t, 3)
	old := seal.Key{ID: "kold", Secret: seal.NewRandomKey()}
	crypto := testCrypto(t)
	crypto.Keyring = mustKeyring(t, old)
	slots, masters := map[string]int{}, map[string]string{}
	for _, tn := range clusterTenants {
		slot, err := c.KeySlot(newKeyspace(tn).p)
		if err != nil {
			t.Fatal(err)
		}
		node, err := c.NodeForSlot(slot)
		if err != nil {
			t.Fatal(err)
		}
		slots[tn], masters[tn] = slot, node
	}
	a, b := clusterTenants[0], clusterTenants[1]
	if slots[a] == slots[b] || masters[a] == masters[b] {
		t.Fatalf("tenants %s and %s share slot %d / master %s; pick others", a, b, slots[a], masters[a])
	}
	t.Logf("tenant %s: slot %d on %s; tenant %s: slot %d on %s", a, slots[a], masters[a], b, slots[b], masters[b])

	raised := map[string]string{}
	for _, tn := range clusterTenants {
		t.Run(tn, func(t *testing.T) { raised[tn] = clusterAlertPath(t, c.Addrs(), tn, crypto) })
	}

	// Key rotation scans every master for the tenant's keys and re-seals
	// them; afterwards the old key can go and everything still opens.
	fresh := seal.Key{ID: "knew", Secret: seal.NewRandomKey()}
	for _, tn := range clusterTenants {
		rot := crypto
		rot.Keyring = mustKeyring(t, fresh, old)
		s := openCluster(t, c.Addrs(), tn, rot, time.Now)
		rep, err := s.Rotate(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Retirable(old.ID) || rep.Resealed+rep.Rewrapped == 0 || rep.Unreadable != 0 {
			t.Errorf("tenant %s rotation: %+v", tn, rep)
		}
		after := crypto
		after.Keyring = mustKeyring(t, fresh)
		s = openCluster(t, c.Addrs(), tn, after, time.Now)
		if a, err := s.Alert(context.Background(), raised[tn]); err != nil || len(a.Timeline) == 0 || len(a.Trail) == 0 {
			t.Errorf("tenant %s: alert after rotation without the old key: %v", tn, err)
		}
	}

	keys, err := c.Keys()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for node, ks := range keys {
		for _, k := range ks {
			tn := tenantOf(k)
			if tn == "" {
				t.Errorf("key %q on %s belongs to no tenant", k, node)
				continue
			}
			slot, err := c.KeySlot(k)
			if err != nil {
				t.Fatal(err)
			}
			if slot != slots[tn] {
				t.Errorf("key %q is in slot %d, want tenant %s's slot %d", k, slot, tn, slots[tn])
			}
			if node != masters[tn] {
				t.Errorf("key %q is on %s, want tenant %s's master %s", k, node, tn, masters[tn])
			}
			if digitRun.MatchString(k) {
				t.Errorf("redis key %q holds a run of 7+ digits", k)
			}
			counts[tn]++
		}
	}
	for _, tn := range clusterTenants {
		// Alerts, timelines, trails, schedule entries, events, dedupe keys…
		if counts[tn] < 15 {
			t.Errorf("tenant %s left %d keys, want the alert path's many", tn, counts[tn])
		}
	}
	t.Logf("keys checked: %v", counts)
}

// tenantOf returns the tenant of a Waymark key name, or "".
func tenantOf(key string) string {
	rest, ok := strings.CutPrefix(key, "wm:{")
	if !ok {
		return ""
	}
	tn, _, ok := strings.Cut(rest, "}:")
	if !ok {
		return ""
	}
	return tn
}

func mustKeyring(t *testing.T, keys ...seal.Key) *seal.Keyring {
	t.Helper()
	kr, err := seal.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// openCluster is one instance's store on the cluster.
func openCluster(t *testing.T, addrs []string, tenant string, crypto Crypto, now func() time.Time) *testStore {
	t.Helper()
	s, err := testOpen(Options{Tenant: tenant, ClusterAddrs: addrs, Now: now, Crypto: crypto})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clusterAlertPath is the alert path for one tenant, through two "instances"
// (two cluster clients and two services) sharing a clock. It returns the
// id of the app alert it raised.
func clusterAlertPath(t *testing.T, addrs []string, tenant string, crypto Crypto) string {
	ctx := context.Background()
	clk := testclock.New(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	sa, sb := openCluster(t, addrs, tenant, crypto, clk.Now), openCluster(t, addrs, tenant, crypto, clk.Now)
	if err := sa.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cases := alertCases{}
	svcA := alert.NewService(sa, cases, alert.Config{TriageTeam: "triage"}, clk.Now, nil)
	svcB := alert.NewService(sb, cases, alert.Config{TriageTeam: "triage"}, clk.Now, nil)
	newCase := func() string {
		t.Helper()
		id := randid.New("c_", 20)
		_, wrapped, err := crypto.Keyring.NewDataKey(seal.AD{Key: sa.k.caseDataKey(id)})
		if err != nil {
			t.Fatal(err)
		}
		if err := sa.RDB.Set(ctx, sa.k.caseDataKey(id), wrapped, 0).Err(); err != nil {
			t.Fatal(err)
		}
		return id
	}
	openAlertOf := func(caseID string) *alert.Alert {
		t.Helper()
		id, err := sa.RDB.Get(ctx, sa.k.caseOpenAlert(caseID)).Result()
		if err != nil {
			t.Fatalf("case %s has no open alert: %v", caseID, err)
		}
		al, err := sb.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return al
	}

	// Instance B's hub starts following the stream before anything happens.
	last, _, err := sb.Bounds(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Raise through A: an app panic with a location (sealed timeline and
	// trail under the case's data key), then a retry that changes nothing.
	caseID := newCase()
	loc, err := pii.NewLocation(50.9097, -1.4044, 12, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	reqID := randid.Token(16)
	panicSig := alert.AppSignal{RequestID: reqID, Kind: alert.KindPanic, PIN: "1111", Location: loc}
	for range 2 {
		if err := svcA.App(ctx, caseID, panicSig); err != nil {
			t.Fatal(err)
		}
	}
	al := openAlertOf(caseID)
	if al.State != alert.StateRaised || len(al.Trail) != 1 || len(al.Timeline) != 1 {
		t.Fatalf("raised alert: state %s, trail %d, timeline %d", al.State, len(al.Trail), len(al.Timeline))
	}
	// An unknown sender's code word through B (sealed sender under the KEK).
	ph, err := pii.ParsePhone("07700 900456", "GB")
	if err != nil {
		t.Fatal(err)
	}
	sms := alert.Signal{Source: alert.SourceSMS, Kind: alert.KindPanic, Team: "triage", Sender: ph,
		DedupeKey: "sms:SM" + randid.Token(16), At: clk.Now()}
	res, err := svcB.Raise(ctx, sms)
	if err != nil || res.AlertID == "" {
		t.Fatalf("unknown sender raise = %+v, %v", res, err)
	}
	dup, err := svcA.Raise(ctx, sms)
	if err != nil || !dup.Duplicate || dup.AlertID != res.AlertID {
		t.Errorf("retried SMS = %+v, %v; want the same alert as a duplicate", dup, err)
	}

	// Fan-out: B's reader sees both raises, in order.
	evs, err := sb.Tail(ctx, last, 2*time.Second, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Alert != al.ID || evs[1].Alert != res.AlertID || evs[0].Type != alert.EventRaised {
		t.Fatalf("events read by B = %+v, want the two raises", evs)
	}

	// Receipts and presence, as the hub stores them.
	if err := sb.SaveReceipts(ctx, []Receipt{{Alert: al.ID, Staff: "s_one", Teams: []string{"south"}, At: clk.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := sa.SeenAt(ctx, al.ID, "s_one"); err != nil || !ok {
		t.Errorf("receipt stored through B not seen through A: %v, %v", ok, err)
	}
	if err := sb.SetPresence(ctx, []Presence{{Team: "south", Staff: "s_one", Conn: "x", Duty: true}}, clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if p, err := sa.TeamPresence(ctx, "south"); err != nil || len(p) != 1 || !p[0].OnDuty {
		t.Errorf("presence = %+v, %v", p, err)
	}
	if _, err := sa.CaseExclusions(ctx, []string{caseID}); err != nil {
		t.Fatal(err)
	}

	// Escalate: both instances tick at the end of the cancel window; the
	// first step runs once.
	clk.Advance(30 * time.Second)
	tickAll(t, svcA, svcB)
	if al = openAlertOf(caseID); al.Step != 1 {
		t.Errorf("step after the cancel window = %d, want 1", al.Step)
	}

	// Claim: two responders on two instances; exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, svc := range []*alert.Service{svcA, svcB} {
		wg.Go(func() { errs[i] = svc.Ack(ctx, who(fmt.Sprintf("s_%c", 'a'+i)), al.ID) })
	}
	wg.Wait()
	var claimed *problem.Claimed
	if (errs[0] == nil) == (errs[1] == nil) || !errors.As(errors.Join(errs...), &claimed) {
		t.Fatalf("concurrent claims = %v; want one success and one Claimed", errs)
	}
	winner := who("s_a")
	if errs[0] != nil {
		winner = who("s_b")
	}

	// The acknowledgement timer falls due: whatever the rules decide, the
	// scheduler's claim, the commit and the finish run on the cluster.
	before := openAlertOf(caseID).Version
	clk.Advance(15 * time.Minute)
	tickAll(t, svcA, svcB)
	if al = openAlertOf(caseID); al.Version <= before {
		t.Errorf("the acknowledgement timer changed nothing (version %d)", al.Version)
	}

	// A check-in falls due and is missed: one alert, whichever instance ticks.
	ciCase := newCase()
	err = svcB.App(ctx, ciCase, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindSchedule, PIN: "1111",
		Schedule: &casework.Schedule{Every: time.Hour, Grace: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(70 * time.Minute)
	for range 3 {
		tickAll(t, svcA, svcB)
	}
	if ci := openAlertOf(ciCase); ci.Class != alert.ClassMissed {
		t.Errorf("missed check-in alert class %s", ci.Class)
	}
	if ci, _, err := sa.Checkins(ctx, ciCase); err != nil || !ci.Paused {
		t.Errorf("check-ins after the miss: %+v, %v", ci, err)
	}

	// The claimer resolves: lifetimes, outcome counts, open pointer.
	if err := svcB.Resolve(ctx, winner, al.ID, alert.Resolution{Outcome: alert.OutcomeSafe, Note: pii.NewText("spoke to her")}); err != nil {
		t.Fatal(err)
	}
	if n, err := sa.OutcomeCounts(ctx, caseID); err != nil || n[alert.OutcomeSafe] != 1 {
		t.Errorf("outcome counts = %v, %v", n, err)
	}
	openList, err := sa.OpenAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var openIDs []string
	for _, o := range openList {
		openIDs = append(openIDs, o.ID)
	}
	if slices.Contains(openIDs, al.ID) || len(openIDs) != 2 {
		t.Errorf("open alerts %v: want the SMS and the missed check-in only", openIDs)
	}
	if list, err := sb.TeamAlerts(ctx, "south", clk.Now().Add(-24*time.Hour)); err != nil || len(list) != 2 {
		t.Errorf("team alerts = %d, %v; want 2", len(list), err)
	}

	all, err := sa.Range(ctx, "0-0", 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[alert.EventType]bool{}
	for _, ev := range all {
		seen[ev.Type] = true
	}
	for _, want := range []alert.EventType{alert.EventRaised, alert.EventEscalated, alert.EventAcknowledged,
		alert.EventResolved} {
		if !seen[want] {
			t.Errorf("no %s event in the stream", want)
		}
	}
	if n, err := sa.PendingTimers(ctx); err != nil || n == 0 {
		t.Errorf("pending timers = %d, %v; want the open alerts' timers", n, err)
	}
	return al.ID
}
