package push

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"waymark/alert"
	"waymark/staff"
)

func eventIDs(ms []Message) []string {
	var ids []string
	for _, m := range ms {
		if m.Type == TypeEvent {
			ids = append(ids, m.Event.ID)
		}
	}
	return ids
}

func TestLiveEventsByTeamAndExclusion(t *testing.T) {
	th := newTestHub(t, Limits{}, fakeAccess{"c_secret": {"s_bob"}})
	alice, _ := th.dial(t, responder("s_alice", "north"), "")
	bob, _ := th.dial(t, responder("s_bob", "north", "south"), "")

	th.stream.add(alert.EventRaised, "south", "", "a_one")          // bob only
	th.stream.add(alert.EventRaised, "north", "c_secret", "a_two")  // alice only: bob is excluded
	th.stream.add(alert.EventRaised, "west", "", "a_three")         // nobody
	last := th.stream.add(alert.EventRaised, "north", "", "a_four") // both

	var gotAlice, gotBob []string
	for range 2 {
		gotAlice = append(gotAlice, next(t, alice).Event.Alert)
		gotBob = append(gotBob, next(t, bob).Event.Alert)
	}
	if diff := cmp.Diff([]string{"a_two", "a_four"}, gotAlice); diff != "" {
		t.Errorf("alice got (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a_one", "a_four"}, gotBob); diff != "" {
		t.Errorf("bob got (-want +got):\n%s", diff)
	}
	if got := alice.LastID(); got != last.ID {
		t.Errorf("LastID = %q, want %q", got, last.ID)
	}
}

// A practice alert's events reach only its caseworker, live and replayed;
// everyone else's cursor still moves past them.
func TestPracticeEventsOnlyForTheirCaseworker(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	casey := responder("s_casey", "north")
	alice := responder("s_alice", "north")
	cc, _ := th.dial(t, casey, "")
	ca, _ := th.dial(t, alice, "")
	th.stream.add(alert.EventRaised, "north", "", "a_zero")
	for _, c := range []*Client{cc, ca} {
		if got := next(t, c).Event.Alert; got != "a_zero" {
			t.Fatalf("setup: got %s", got)
		}
	}
	since := ca.LastID()
	th.stream.addFor(alert.EventRaised, "north", "c_one", "a_practice", "s_casey")
	last := th.stream.add(alert.EventRaised, "north", "c_one", "a_real")
	if got := next(t, cc).Event.Alert; got != "a_practice" {
		t.Errorf("caseworker's first event is %s, want a_practice", got)
	}
	if got := next(t, cc).Event.Alert; got != "a_real" {
		t.Errorf("caseworker's second event is %s, want a_real", got)
	}
	if got := next(t, ca).Event.Alert; got != "a_real" {
		t.Errorf("a colleague got %s, want only a_real", got)
	}
	ca.Close()
	// Replayed after a reconnect: the same filter.
	ca2, before := th.dial(t, alice, since)
	if diff := cmp.Diff([]string{last.ID}, eventIDs(before)); diff != "" {
		t.Errorf("replay to a colleague (-want +got):\n%s", diff)
	}
	ca2.Close()
}

// TestCarriedExclusions: a live event carrying the exclusion list the
// intake read is filtered by that list without a lookup; the same event
// replayed is filtered by a fresh lookup (its list may be out of date).
func TestCarriedExclusions(t *testing.T) {
	// The case's exclusions as looked up now: bob.
	th := newTestHub(t, Limits{}, fakeAccess{"c_secret": {"s_bob"}})
	alice := responder("s_alice", "north")
	bob := responder("s_bob", "north")
	ca, _ := th.dial(t, alice, "")
	cb, _ := th.dial(t, bob, "")
	first := th.stream.add(alert.EventRaised, "north", "", "a_zero")
	for _, c := range []*Client{ca, cb} {
		if got := next(t, c).Event.ID; got != first.ID {
			t.Fatalf("setup: got %s", got)
		}
	}
	since := ca.LastID()
	// As read with the signal: alice is the one excluded.
	th.stream.addEvent(alert.Event{Type: alert.EventRaised, Alert: "a_carried", Team: "north", Case: "c_secret",
		Excluded: []string{"s_alice"}, ExcludedKnown: true})
	last := th.stream.add(alert.EventRaised, "north", "", "a_after")
	if got := next(t, cb).Event.Alert; got != "a_carried" {
		t.Errorf("live: bob got %s first, want a_carried (the carried list excludes alice, not him)", got)
	}
	if got := next(t, ca).Event.Alert; got != "a_after" {
		t.Errorf("live: alice got %s, want only a_after", got)
	}
	ca.Close()
	cb.Close()
	// Replayed: the lookup decides (bob excluded, alice not).
	_, before := th.dial(t, alice, since)
	ids := eventIDs(before)
	if len(ids) != 2 || ids[1] != last.ID {
		t.Errorf("replay to alice = %v, want both events", ids)
	}
	_, before = th.dial(t, bob, since)
	if ids := eventIDs(before); len(ids) != 1 || ids[0] != last.ID {
		t.Errorf("replay to bob = %v, want only %s", ids, last.ID)
	}
}

func TestFreshClientGetsSnapshotFirst(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	th.stream.add(alert.EventRaised, "north", "", "a_old")
	_, before := th.dial(t, responder("s_alice", "north"), "")
	if len(before) != 1 || before[0].Type != TypeSnapshot {
		t.Fatalf("frames before ready = %+v, want one snapshot", before)
	}
	if want := "1000-1"; before[0].ID != want {
		t.Errorf("snapshot id = %q, want %q", before[0].ID, want)
	}
	if !strings.Contains(string(before[0].Alerts), "a_snapshot") {
		t.Errorf("snapshot alerts = %s", before[0].Alerts)
	}
}

func TestResumeReplaysInOrderThenLive(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	p := responder("s_alice", "north")
	c, _ := th.dial(t, p, "")
	first := th.stream.add(alert.EventRaised, "north", "", "a_one")
	if got := next(t, c).Event.ID; got != first.ID {
		t.Fatalf("live event = %s, want %s", got, first.ID)
	}
	since := c.LastID()
	c.Close()

	var missed []string
	for _, a := range []string{"a_two", "a_three", "a_four"} {
		missed = append(missed, th.stream.add(alert.EventRaised, "north", "", a).ID)
		th.stream.add(alert.EventRaised, "south", "", "a_other")
	}
	c2, before := th.dial(t, p, since)
	if diff := cmp.Diff(missed, eventIDs(before)); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
	for _, m := range before {
		if m.Type == TypeSnapshot {
			t.Error("a short gap got a snapshot")
		}
	}
	live := th.stream.add(alert.EventRaised, "north", "", "a_five")
	if got := next(t, c2).Event.ID; got != live.ID {
		t.Errorf("after replay got %s, want live %s", got, live.ID)
	}
}

func TestResumeBeyondStreamOrCapGetsSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name string
		trim bool
		cap  int
	}{
		{"since trimmed away", true, 100},
		{"gap over the cap", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := newTestHub(t, Limits{ReplayCap: tc.cap}, nil)
			since := th.stream.add(alert.EventRaised, "north", "", "a_one").ID
			for range 4 {
				th.stream.add(alert.EventRaised, "north", "", "a_more")
			}
			if tc.trim {
				th.stream.trim(2)
			}
			_, before := th.dial(t, responder("s_alice", "north"), since)
			if len(before) != 1 || before[0].Type != TypeSnapshot || before[0].ID != "1000-5" {
				t.Fatalf("frames before ready = %+v, want only a snapshot at 1000-5", before)
			}
		})
	}
}

func TestReceiptsAndDuty(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	c, _ := th.dial(t, responder("s_alice", "north"), "")
	select {
	case ps := <-th.presence:
		if diff := cmp.Diff([]Presence{{Team: "north", Staff: "s_alice", Conn: ps[0].Conn, Duty: false}}, ps); diff != "" {
			t.Errorf("presence on connect (-want +got):\n%s", diff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no presence on connect")
	}
	ev := th.stream.add(alert.EventRaised, "north", "", "a_one")
	next(t, c)
	if err := c.Seen("a_one", ev.ID); err != nil {
		t.Fatal(err)
	}
	// A receipt for an alert the socket was sent is vouched for; one for
	// any other alert (another team's, made up) is left for the store to
	// check.
	if err := c.Seen("a_elsewhere", ev.ID); err != nil {
		t.Fatal(err)
	}
	for _, want := range []Receipt{
		{Alert: "a_one", Event: ev.ID, Staff: "s_alice", Teams: []string{"north"}, At: th.clock.Now(), Sent: true},
		{Alert: "a_elsewhere", Event: ev.ID, Staff: "s_alice", Teams: []string{"north"}, At: th.clock.Now(), Sent: false},
	} {
		select {
		case r := <-th.receipts:
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("receipt not stored")
		}
	}
	if err := c.Duty(true); err != nil {
		t.Fatal(err)
	}
	select {
	case ps := <-th.presence:
		if !ps[0].Duty {
			t.Errorf("presence after duty on = %+v", ps)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no presence after the duty toggle")
	}
}

func TestBadFramesClose(t *testing.T) {
	big := `{"type":"duty","on":true,"x":"` + strings.Repeat("x", MaxFrame) + `"}`
	for _, tc := range []struct {
		name  string
		kind  int
		frame string
		want  int
	}{
		{"too big", websocket.TextMessage, big, CloseTooBig},
		{"invalid json", websocket.TextMessage, `{"type":`, CloseInvalidPayload},
		{"unknown field", websocket.TextMessage, `{"type":"duty","on":true,"extra":1}`, CloseInvalidPayload},
		{"unknown type", websocket.TextMessage, `{"type":"shout"}`, CloseUnsupported},
		{"binary", websocket.BinaryMessage, `{"type":"duty","on":true}`, CloseUnsupported},
		{"second hello", websocket.TextMessage, `{"type":"hello","ticket":"` + strings.Repeat("a", 24) + `"}`, ClosePolicy},
		{"bad receipt", websocket.TextMessage, `{"type":"seen","alert":"a_1; DROP","event":"1-1"}`, CloseInvalidPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := newTestHub(t, Limits{}, nil)
			c, _ := th.dial(t, responder("s_alice", "north"), "")
			c.wmu.Lock()
			err := c.ws.WriteMessage(tc.kind, []byte(tc.frame))
			c.wmu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			if got := closeCode(t, c); got != tc.want {
				t.Errorf("close code = %d, want %d", got, tc.want)
			}
			waitFor(t, func() bool { return th.h.Connected() == 0 })
		})
	}
}

func TestFloodCloses(t *testing.T) {
	th := newTestHub(t, Limits{FrameRate: 1, FrameBurst: 10}, nil)
	c, _ := th.dial(t, responder("s_alice", "north"), "")
	for range 50 {
		if err := c.WriteRaw([]byte(`{"type":"duty","on":true}`)); err != nil {
			break // the hub may already have closed
		}
	}
	if got := closeCode(t, c); got != ClosePolicy {
		t.Errorf("close code = %d, want %d", got, ClosePolicy)
	}
}

func TestReceiptsForSentEventsAreNotAFlood(t *testing.T) {
	th := newTestHub(t, Limits{FrameRate: 1, FrameBurst: 5}, nil)
	c, _ := th.dial(t, responder("s_alice", "north"), "")
	for range 50 {
		th.stream.add(alert.EventRaised, "north", "", "a_one")
	}
	for range 50 {
		m := next(t, c)
		if err := c.Seen(m.Event.Alert, m.Event.ID); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		select {
		case <-th.receipts:
		case <-time.After(5 * time.Second):
			t.Fatal("receipts missing: the socket was closed as a flood")
		}
	}
}

func TestHelloRules(t *testing.T) {
	th := newTestHub(t, Limits{HelloTimeout: 200 * time.Millisecond}, nil)
	ctx := context.Background()

	t.Run("no hello in time", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial(th.url, http.Header{"Origin": {th.origin}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_, _, err = ws.ReadMessage()
		if got := CloseCode(err); got != ClosePolicy {
			t.Errorf("close code = %d (%v), want %d", got, err, ClosePolicy)
		}
	})
	t.Run("reused ticket", func(t *testing.T) {
		ticket := th.auth.ticket(responder("s_alice", "north"))
		c1, err := Dial(ctx, th.url, ticket, ClientOptions{Origin: th.origin})
		if err != nil {
			t.Fatal(err)
		}
		defer c1.Close()
		if m := next(t, c1); m.Type != TypeSnapshot {
			t.Fatalf("first use: %+v", m)
		}
		c2, err := Dial(ctx, th.url, ticket, ClientOptions{Origin: th.origin})
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if got := closeCode(t, c2); got != CloseSessionEnded {
			t.Errorf("reused ticket: close code = %d, want %d", got, CloseSessionEnded)
		}
	})
	t.Run("unknown ticket", func(t *testing.T) {
		c, err := Dial(ctx, th.url, strings.Repeat("Z", 24), ClientOptions{Origin: th.origin})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := closeCode(t, c); got != CloseSessionEnded {
			t.Errorf("close code = %d, want %d", got, CloseSessionEnded)
		}
	})
	t.Run("not a responder", func(t *testing.T) {
		p := &staff.Principal{StaffID: "s_admin", Roles: []staff.Role{staff.RoleAdmin}, Teams: []string{"north"}, SessionTag: "x"}
		c, err := Dial(ctx, th.url, th.auth.ticket(p), ClientOptions{Origin: th.origin})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := closeCode(t, c); got != CloseForbidden {
			t.Errorf("close code = %d, want %d", got, CloseForbidden)
		}
	})
	for _, origin := range []string{"https://evil.example", "", "null"} {
		t.Run("origin "+origin, func(t *testing.T) {
			_, err := Dial(ctx, th.url, th.auth.ticket(responder("s_alice", "north")), ClientOptions{Origin: origin})
			var he *HandshakeError
			if !asHandshake(err, &he) || he.Status != http.StatusForbidden {
				t.Errorf("Dial from %q = %v, want a 403 handshake error", origin, err)
			}
		})
	}
}

func asHandshake(err error, he **HandshakeError) bool {
	h, ok := err.(*HandshakeError)
	*he = h
	return ok
}

func TestRevokeClosesWithinASecond(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	p := responder("s_alice", "north")
	c1, _ := th.dial(t, p, "")
	other, _ := th.dial(t, responder("s_bob", "north"), "")
	start := time.Now()
	th.h.Revoke(p.SessionTag)
	if got := closeCode(t, c1); got != CloseSessionEnded {
		t.Errorf("close code = %d, want %d", got, CloseSessionEnded)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("closed after %v, want within a second", d)
	}
	// Others stay connected.
	ev := th.stream.add(alert.EventRaised, "north", "", "a_one")
	if got := next(t, other).Event.ID; got != ev.ID {
		t.Errorf("bob got %s, want %s", got, ev.ID)
	}
	// A ticket redeemed just now for the revoked session is refused too.
	c2, err := Dial(context.Background(), th.url, th.auth.ticket(p), ClientOptions{Origin: th.origin})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := closeCode(t, c2); got != CloseSessionEnded {
		t.Errorf("just-revoked session: close code = %d, want %d", got, CloseSessionEnded)
	}
	// Revoking by staff id (account disabled) works the same way.
	c3, _ := th.dial(t, responder("s_carol", "north"), "")
	th.h.Revoke("s_carol")
	if got := closeCode(t, c3); got != CloseSessionEnded {
		t.Errorf("by staff id: close code = %d, want %d", got, CloseSessionEnded)
	}
}

func TestSessionEndCloses(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	c, _ := th.dial(t, responder("s_alice", "north"), "")
	th.clock.Set(th.auth.end)
	if got := closeCode(t, c); got != CloseSessionEnded {
		t.Errorf("close code = %d, want %d", got, CloseSessionEnded)
	}
}

func TestSessionCheckCloses(t *testing.T) {
	th := newTestHub(t, Limits{SessionCheck: time.Second}, nil)
	p := responder("s_alice", "north")
	c, _ := th.dial(t, p, "")
	th.auth.mu.Lock()
	th.auth.ended[p.SessionTag] = true
	th.auth.mu.Unlock()
	// Move the clock past the next check; the sweeper runs every second.
	th.clock.Advance(2 * time.Second)
	if got := closeCode(t, c); got != CloseSessionEnded {
		t.Errorf("close code = %d, want %d", got, CloseSessionEnded)
	}
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	th := newTestHub(t, Limits{Queue: 32, ReadBatch: 16}, nil)
	slow, _ := th.dial(t, responder("s_slow", "north"), "")
	fast, _ := th.dial(t, responder("s_fast", "north"), "")
	// The slow client reads nothing while events flow at the pace the fast
	// one reads them: its socket buffers fill, its queue overflows, and it
	// is let go without holding up the fast one.
	big := "a_" + strings.Repeat("x", 4000)
	for range 2000 {
		for range 8 {
			th.stream.add(alert.EventRaised, "north", "", big)
		}
		for range 8 {
			next(t, fast)
		}
		th.h.mu.RLock()
		n := len(th.h.all)
		th.h.mu.RUnlock()
		if n == 1 {
			break
		}
	}
	// A socket that is truly stuck cannot take the close frame: the
	// client sees the connection end (1006, or a reset from a kernel that
	// gave up on the stuck data) once it has read what it had.
	if got := closeCode(t, slow); got != CloseTryAgain && got != websocket.CloseAbnormalClosure && got != 0 {
		t.Errorf("slow client close code = %d, want %d, %d or none", got, CloseTryAgain, websocket.CloseAbnormalClosure)
	}
	waitFor(t, func() bool { return th.h.Connected() == 1 })
	ev := th.stream.add(alert.EventRaised, "north", "", "a_after")
	if got := next(t, fast).Event.ID; got != ev.ID {
		t.Errorf("fast client got %s, want %s", got, ev.ID)
	}
}

// TestReceiptsKeptWhileRedisIsAway: receipts that cannot be stored are
// kept and retried until they are, in the order they came, with those
// that arrived meanwhile; none is dropped.
func TestReceiptsKeptWhileRedisIsAway(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	c, _ := th.dial(t, responder("s_alice", "north"), "")
	ev := th.stream.add(alert.EventRaised, "north", "", "a_one")
	next(t, c)
	th.receiptsDown.Store(4) // about 1.5 s of failures at 100, 200, 400, 800 ms
	if err := c.Seen("a_one", ev.ID); err != nil {
		t.Fatal(err)
	}
	ev2 := th.stream.add(alert.EventRaised, "north", "", "a_two")
	next(t, c)
	if err := c.Seen("a_two", ev2.ID); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		select {
		case r := <-th.receipts:
			got = append(got, r.Alert)
		case <-time.After(10 * time.Second):
			t.Fatalf("receipts stored: %v; want both once Redis is back", got)
		}
	}
	if got[0] != "a_one" || got[1] != "a_two" {
		t.Errorf("receipts stored in the order %v", got)
	}
	if n := th.receiptsDown.Load(); n > 0 {
		t.Errorf("stored with %d failures still to come", n)
	}
}

// TestFirstReceiptObserved: the first receipt of an alert stored here is
// timed from its event's commit (the event id's clock); later receipts
// of the same alert, and receipts the hub cannot vouch for, are not.
func TestFirstReceiptObserved(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(th.h.metrics.first)
	commit := time.UnixMilli(1_765_000_000_000)
	r := Receipt{Alert: "a_one", Event: "1765000000000-0", Staff: "s_alice", At: commit.Add(1500 * time.Millisecond), Sent: true}
	later := r
	later.Staff, later.At = "s_bob", r.At.Add(time.Second)
	forged := Receipt{Alert: "a_two", Event: "1765000000000-0", Staff: "s_bob", At: r.At}
	th.h.firstReceipts([]Receipt{r, later, forged})
	fams, err := reg.Gather()
	if err != nil || len(fams) != 1 {
		t.Fatalf("gather: %v, %d families", err, len(fams))
	}
	h := fams[0].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 1.5 {
		t.Errorf("observed %d receipts summing %vs; want the first only, 1.5 s", h.GetSampleCount(), h.GetSampleSum())
	}
}
