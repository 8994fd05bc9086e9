package live

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/store/internal/kv"
)

// addEvent appends an event as the alert store's commit script does.
func addEvent(t *testing.T, s *Store, typ alert.EventType, alertID, team, caseID string) string {
	t.Helper()
	id, err := s.RDB.XAdd(context.Background(), &redis.XAddArgs{Stream: s.k.Events(), Values: []any{
		"type", string(typ), "alert", alertID, "team", team, "case", caseID, "priority", 3, "at", int64(1700000000123),
	}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEventsTailRangeBounds(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()

	last, removed, err := s.Bounds(ctx)
	if err != nil || last != "0-0" || removed != "0-0" {
		t.Fatalf("Bounds on no stream = %q, %q, %v; want 0-0, 0-0", last, removed, err)
	}
	start := time.Now()
	evs, err := s.Tail(ctx, "0-0", 100*time.Millisecond, 10)
	if err != nil || len(evs) != 0 {
		t.Fatalf("Tail on no stream = %v, %v", evs, err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
		t.Errorf("Tail waited %v, want about 100ms", d)
	}

	var ids []string
	for i := range 5 {
		ids = append(ids, addEvent(t, s, alert.EventRaised, fmt.Sprintf("a_%c", 'a'+i), "north", "c_x"))
	}
	evs, err = s.Tail(ctx, ids[1], time.Second, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []alert.Event{
		{ID: ids[2], Type: alert.EventRaised, Alert: "a_c", Team: "north", Case: "c_x", Priority: 3, At: time.UnixMilli(1700000000123).UTC()},
		{ID: ids[3], Type: alert.EventRaised, Alert: "a_d", Team: "north", Case: "c_x", Priority: 3, At: time.UnixMilli(1700000000123).UTC()},
	}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("Tail (-want +got):\n%s", diff)
	}
	evs, err = s.Range(ctx, ids[1], 10)
	if err != nil || len(evs) != 3 || evs[0].ID != ids[2] || evs[2].ID != ids[4] {
		t.Errorf("Range after the second = %v, %v; want the last three", evs, err)
	}
	last, removed, err = s.Bounds(ctx)
	if err != nil || last != ids[4] || removed != "0-0" {
		t.Errorf("Bounds = %q, %q, %v; want %q, 0-0", last, removed, err, ids[4])
	}
	// Trimming moves the removed mark: a client behind it needs a snapshot.
	if err := s.RDB.XTrimMinID(ctx, s.k.Events(), ids[2]).Err(); err != nil {
		t.Fatal(err)
	}
	_, removed, err = s.Bounds(ctx)
	if err != nil || removed != before(ids[2]) || idLess(removed, ids[1]) {
		t.Errorf("Bounds after trim: removed = %q, %v; want just before %q", removed, err, ids[2])
	}
	// XDEL in the middle moves it too.
	if err := s.RDB.XDel(ctx, s.k.Events(), ids[3]).Err(); err != nil {
		t.Fatal(err)
	}
	if _, removed, _ = s.Bounds(ctx); removed != ids[3] {
		t.Errorf("Bounds after XDEL: removed = %q, want %q", removed, ids[3])
	}
}

func TestTailBlocksUntilAnEvent(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	got := make(chan []alert.Event, 1)
	go func() {
		evs, _ := s.Tail(ctx, "0-0", 5*time.Second, 10)
		got <- evs
	}()
	// The reader may not be blocked yet when this lands; either way Tail
	// after 0-0 sees it.
	id := addEvent(t, s, alert.EventRaised, "a_x", "north", "")
	select {
	case evs := <-got:
		if len(evs) != 1 || evs[0].ID != id {
			t.Errorf("Tail = %v, want the one event", evs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Tail did not return the event")
	}
}

func TestBoundsEmbedded(t *testing.T) {
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := testConn(t, "redis://"+m.Addr(), testCrypto(t))
	c.Prefix = "wm:{demo}:"
	s := New(c)
	ctx := context.Background()
	if last, removed, err := s.Bounds(ctx); err != nil || last != "0-0" || removed != "0-0" {
		t.Fatalf("Bounds on no stream = %q, %q, %v", last, removed, err)
	}
	var ids []string
	for range 3 {
		ids = append(ids, addEvent(t, s, alert.EventRaised, "a_x", "north", ""))
	}
	last, _, err := s.Bounds(ctx)
	if err != nil || last != ids[2] {
		t.Errorf("Bounds last = %q, %v; want %q", last, err, ids[2])
	}
	evs, err := s.Range(ctx, ids[0], 10)
	if err != nil || len(evs) != 2 {
		t.Errorf("Range = %v, %v; want two events", evs, err)
	}
}

// putAlert writes the plain fields the receipt script reads.
func putAlert(t *testing.T, s *Store, id, team string, raisedAt time.Time) {
	t.Helper()
	if err := s.RDB.HSet(context.Background(), s.k.AlertRecord(id), "team", team, "state", "raised", "raised_at", raisedAt.UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestReceipts(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	raised := time.UnixMilli(1700000000000).UTC()
	a, other := randid.New("a_", 20), randid.New("a_", 20)
	putAlert(t, s, a, "north", raised)
	putAlert(t, s, other, "south", raised)
	if err := s.RDB.PExpire(ctx, s.k.AlertRecord(other), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	north := []string{"north"}
	err := s.SaveReceipts(ctx, []Receipt{
		{Alert: a, Staff: "s_alice", Teams: north, At: raised.Add(2 * time.Second)},
		{Alert: a, Staff: "s_alice", Teams: north, At: raised.Add(9 * time.Second)}, // repeat: first wins
		{Alert: a, Staff: "s_bob", Teams: north, At: raised.Add(7 * time.Second)},
		{Alert: other, Staff: "s_alice", Teams: north, At: raised},           // not her team
		{Alert: "a_gone", Staff: "s_alice", Teams: north, At: raised},        // no such alert
		{Alert: other, Staff: "s_sam", Teams: []string{"south"}, At: raised}, // takes the alert's TTL
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SeenBy(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"s_alice": raised.Add(2 * time.Second), "s_bob": raised.Add(7 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SeenBy (-want +got):\n%s", diff)
	}
	if got, _ := s.SeenBy(ctx, other); len(got) != 1 {
		t.Errorf("SeenBy(other) = %v, want only s_sam", got)
	}
	if n := s.RDB.Exists(ctx, s.k.AlertReceipts("a_gone")).Val(); n != 0 {
		t.Error("a receipt for no alert made a key")
	}
	if ttl := s.RDB.PTTL(ctx, s.k.AlertReceipts(other)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("receipts TTL = %v, want the alert's (≤ 1h)", ttl)
	}
	if ttl := s.RDB.PTTL(ctx, s.k.AlertReceipts(a)).Val(); ttl <= 0 {
		t.Errorf("receipts of an open alert have no TTL (%v)", ttl)
	}
	for _, tc := range []struct {
		who  string
		d    time.Duration
		want bool
	}{
		{"s_alice", 5 * time.Second, true},
		{"s_bob", 5 * time.Second, false},
		{"s_bob", 7 * time.Second, true},
		{"s_carol", time.Hour, false},
	} {
		if got, err := s.SeenWithin(ctx, a, tc.who, tc.d); err != nil || got != tc.want {
			t.Errorf("SeenWithin(%s, %v) = %v, %v; want %v", tc.who, tc.d, got, err, tc.want)
		}
	}
	if at, ok, err := s.SeenAt(ctx, a, "s_bob"); err != nil || !ok || !at.Equal(raised.Add(7*time.Second)) {
		t.Errorf("SeenAt = %v, %v, %v", at, ok, err)
	}
	if _, ok, err := s.SeenAt(ctx, a, "s_carol"); err != nil || ok {
		t.Errorf("SeenAt for nobody = %v, %v", ok, err)
	}
}

// TestReceiptsFanOut: a batch holding a whole team's receipts of one alert
// (more than one script chunk), interleaved with another alert's, keeps
// every responder's first receipt, in a later batch too.
func TestReceiptsFanOut(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	raised := time.UnixMilli(1700000000000).UTC()
	a, b := randid.New("a_", 20), randid.New("a_", 20)
	putAlert(t, s, a, "north", raised)
	putAlert(t, s, b, "north", raised)
	north := []string{"east", "north"}
	var batch []Receipt
	for i := range 1200 {
		who := fmt.Sprintf("s_%04d", i)
		batch = append(batch, Receipt{Alert: a, Staff: who, Teams: north, At: raised.Add(time.Duration(i) * time.Millisecond)})
		if i%3 == 0 {
			batch = append(batch, Receipt{Alert: b, Staff: who, Teams: north, At: raised})
		}
	}
	if err := s.SaveReceipts(ctx, batch[:900]); err != nil {
		t.Fatal(err)
	}
	// The second batch repeats the first one's last receipts later: the
	// stored first ones stand.
	again := slices.Clone(batch[800:])
	for i := range again {
		again[i].At = again[i].At.Add(time.Hour)
	}
	if err := s.SaveReceipts(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, err := s.SeenBy(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1200 {
		t.Fatalf("%d receipts of a, want 1200", len(got))
	}
	first := map[string]time.Time{}
	for _, r := range append(slices.Clone(batch[:900]), again...) {
		if _, ok := first[r.Staff]; !ok && r.Alert == a {
			first[r.Staff] = r.At
		}
	}
	for who, want := range first {
		if !got[who].Equal(want) {
			t.Fatalf("%s seen at %v, want the first receipt %v", who, got[who], want)
		}
	}
	if got, _ := s.SeenBy(ctx, b); len(got) != 400 {
		t.Errorf("%d receipts of b, want 400", len(got))
	}
}

// TestReceiptsVouchedFor: receipts the hub vouches for are written without
// the script's check, first one per responder kept, in the same batch as
// checked ones.
func TestReceiptsVouchedFor(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	raised := time.UnixMilli(1700000000000).UTC()
	a, b := randid.New("a_", 20), randid.New("a_", 20)
	putAlert(t, s, a, "north", raised)
	putAlert(t, s, b, "south", raised)
	north := []string{"north"}
	if err := s.SaveReceipts(ctx, []Receipt{
		{Alert: a, Staff: "s_alice", Teams: north, At: raised.Add(time.Second), Sent: true},
		{Alert: a, Staff: "s_alice", Teams: north, At: raised.Add(8 * time.Second), Sent: true}, // later: ignored
		{Alert: a, Staff: "s_bob", Teams: north, At: raised.Add(2 * time.Second)},               // checked path
		{Alert: b, Staff: "s_bob", Teams: north, At: raised.Add(2 * time.Second)},               // checked: not his team
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SeenBy(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"s_alice": raised.Add(time.Second), "s_bob": raised.Add(2 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SeenBy (-want +got):\n%s", diff)
	}
	if got, _ := s.SeenBy(ctx, b); len(got) != 0 {
		t.Errorf("an unvouched receipt for another team's alert was kept: %v", got)
	}
	if ttl := s.RDB.PTTL(ctx, s.k.AlertReceipts(a)).Val(); ttl <= 0 {
		t.Errorf("vouched receipts have no TTL (%v)", ttl)
	}
}

// TestReceiptsEarlierForm: receipts stored as a hash by an earlier version
// are still read, and the earlier of the two forms wins.
func TestReceiptsEarlierForm(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	raised := time.UnixMilli(1700000000000).UTC()
	a := randid.New("a_", 20)
	putAlert(t, s, a, "north", raised)
	if err := s.RDB.HSet(ctx, s.k.AlertSeen(a), "s_old", raised.Add(time.Second).UnixMilli(), "s_both", raised.Add(3*time.Second).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	north := []string{"north"}
	if err := s.SaveReceipts(ctx, []Receipt{
		{Alert: a, Staff: "s_both", Teams: north, At: raised.Add(9 * time.Second)},
		{Alert: a, Staff: "s_new", Teams: north, At: raised.Add(4 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SeenBy(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"s_old": raised.Add(time.Second), "s_both": raised.Add(3 * time.Second), "s_new": raised.Add(4 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SeenBy (-want +got):\n%s", diff)
	}
	if ok, err := s.SeenWithin(ctx, a, "s_both", 5*time.Second); err != nil || !ok {
		t.Errorf("SeenWithin(s_both, 5s) = %v, %v; want the earlier receipt to count", ok, err)
	}
	if at, ok, _ := s.SeenAt(ctx, a, "s_old"); !ok || !at.Equal(raised.Add(time.Second)) {
		t.Errorf("SeenAt(s_old) = %v, %v", at, ok)
	}
}

func TestPresence(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	clk := testclock.New(time.UnixMilli(1700000000000))
	s.Now = clk.Now
	ctx := context.Background()
	until := clk.Now().Add(90 * time.Second)
	err := s.SetPresence(ctx, []Presence{
		{Team: "north", Staff: "s_alice", Conn: "i.1", Duty: true},
		{Team: "north", Staff: "s_alice", Conn: "i.2"},
		{Team: "north", Staff: "s_bob", Conn: "j.1"},
		{Team: "south", Staff: "s_bob", Conn: "j.1"},
	}, until)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TeamPresence(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	want := []Present{{Staff: "s_alice", OnDuty: true}, {Staff: "s_bob"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TeamPresence (-want +got):\n%s", diff)
	}
	// Alice goes off duty; Bob's socket closes.
	if err := s.SetPresence(ctx, []Presence{{Team: "north", Staff: "s_alice", Conn: "i.1"}}, until); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearPresence(ctx, []Presence{{Team: "north", Staff: "s_bob", Conn: "j.1"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.TeamPresence(ctx, "north")
	if diff := cmp.Diff([]Present{{Staff: "s_alice"}}, got); diff != "" {
		t.Errorf("after changes (-want +got):\n%s", diff)
	}
	// Entries not refreshed lapse (an instance that died).
	clk.Advance(91 * time.Second)
	if got, _ := s.TeamPresence(ctx, "south"); len(got) != 0 {
		t.Errorf("lapsed presence = %v, want none", got)
	}
	if ttl := s.RDB.PTTL(ctx, s.k.presence("north")).Val(); ttl <= 0 {
		t.Errorf("presence key TTL = %v, want one", ttl)
	}
}

func TestCaseExclusions(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	if err := s.RDB.HSet(ctx, s.k.CaseRecord("c_one"), kv.CaseExcluded, "s_bob s_eve").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.RDB.HSet(ctx, s.k.CaseRecord("c_two"), "team", "north").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.CaseExclusions(ctx, []string{"c_one", "c_two", "c_gone"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{"c_one": {"s_bob", "s_eve"}}, got); diff != "" {
		t.Errorf("CaseExclusions (-want +got):\n%s", diff)
	}
}

// TestEventFieldsRoundTrip: an event's only and exclusion fields survive
// the stream; an event without them reads back without them.
func TestEventFieldsRoundTrip(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	at := time.UnixMilli(1700000000123).UTC()
	in := []alert.Event{
		{Type: alert.EventRaised, Alert: "a_one", Team: "north", Case: "c_one", Only: "s_casey", Priority: 310, At: at,
			Excluded: []string{"s_bob", "s_sam"}, ExcludedKnown: true},
		{Type: alert.EventRaised, Alert: "a_two", Team: "north", Case: "c_two", Priority: 200, At: at,
			Excluded: []string{}, ExcludedKnown: true},
		{Type: alert.EventAcknowledged, Alert: "a_three", Team: "north", Case: "c_three", Priority: 200, At: at},
	}
	for _, e := range in {
		if err := s.RDB.XAdd(ctx, &redis.XAddArgs{Stream: s.k.Events(), Values: EventFields(e)}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := s.RDB.XRange(ctx, s.k.Events(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	got := parseEvents(msgs)
	for i := range got {
		got[i].ID = ""
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
