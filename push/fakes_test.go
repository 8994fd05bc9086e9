package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/problem"
	"waymark/staff"
)

// fakeStream is an in-memory events stream with Redis's id order.
type fakeStream struct {
	mu      sync.Mutex
	evs     []alert.Event
	removed streamID
	wake    chan struct{}
	n       uint64
}

func newFakeStream() *fakeStream { return &fakeStream{wake: make(chan struct{})} }

func (s *fakeStream) add(typ alert.EventType, team, caseID, alertID string) alert.Event {
	return s.addFor(typ, team, caseID, alertID, "")
}

// addFor adds an event for one staff member only (a practice alert's).
func (s *fakeStream) addFor(typ alert.EventType, team, caseID, alertID, only string) alert.Event {
	return s.addEvent(alert.Event{Type: typ, Alert: alertID, Team: team, Case: caseID, Only: only})
}

// addEvent appends ev with the next id.
func (s *fakeStream) addEvent(ev alert.Event) alert.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	ev.ID, ev.Priority, ev.At = streamID{1000, s.n}.String(), 3, time.UnixMilli(1000).UTC()
	s.evs = append(s.evs, ev)
	close(s.wake)
	s.wake = make(chan struct{})
	return ev
}

// trim drops every event up to and including the n-th oldest.
func (s *fakeStream) trim(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removed, _ = parseID(s.evs[n-1].ID)
	s.evs = append([]alert.Event(nil), s.evs[n:]...)
}

func (s *fakeStream) after(after string, count int) []alert.Event {
	from, _ := parseID(after)
	var out []alert.Event
	for _, e := range s.evs {
		id, _ := parseID(e.ID)
		if from.less(id) && len(out) < count {
			out = append(out, e)
		}
	}
	return out
}

func (s *fakeStream) Tail(ctx context.Context, after string, block time.Duration, count int) ([]alert.Event, error) {
	t := time.NewTimer(block)
	defer t.Stop()
	for {
		s.mu.Lock()
		out, wake := s.after(after, count), s.wake
		s.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return nil, nil
		case <-wake:
		}
	}
}

func (s *fakeStream) Range(ctx context.Context, after string, count int) ([]alert.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.after(after, count), nil
}

func (s *fakeStream) Bounds(ctx context.Context) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.removed
	if len(s.evs) > 0 {
		last, _ = parseID(s.evs[len(s.evs)-1].ID)
	}
	return last.String(), s.removed.String(), nil
}

// fakeAuth hands out single-use tickets for principals.
type fakeAuth struct {
	mu      sync.Mutex
	tickets map[string]*staff.Principal
	ended   map[string]bool
	end     time.Time
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{tickets: map[string]*staff.Principal{}, ended: map[string]bool{}}
}

func (a *fakeAuth) ticket(p *staff.Principal) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := randid.Token(18)
	a.tickets[t] = p
	return t
}

func (a *fakeAuth) Redeem(ctx context.Context, ticket string) (*staff.Principal, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.tickets[ticket]
	delete(a.tickets, ticket)
	if !ok || a.ended[p.SessionTag] {
		return nil, time.Time{}, fmt.Errorf("fake: %w", problem.ErrUnauthorized)
	}
	return p, a.end, nil
}

func (a *fakeAuth) Check(ctx context.Context, p *staff.Principal) (time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended[p.SessionTag] {
		return time.Time{}, fmt.Errorf("fake: %w", problem.ErrUnauthorized)
	}
	return a.end, nil
}

type fakeAccess map[string][]string

func (f fakeAccess) Excluded(ctx context.Context, cases []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, c := range cases {
		out[c] = f[c]
	}
	return out, nil
}

type fakeSnapshot struct{}

func (fakeSnapshot) OpenAlerts(ctx context.Context, p *staff.Principal) (json.RawMessage, error) {
	return json.RawMessage(`[{"id":"a_snapshot","team":"` + p.Teams[0] + `"}]`), nil
}

// fakeReceipts stores receipts on ch; while down is above zero each call
// fails (as with Redis away) and counts it down.
type fakeReceipts struct {
	ch   chan Receipt
	down *atomic.Int64
}

func (f fakeReceipts) SaveReceipts(ctx context.Context, rs []Receipt) error {
	if f.down != nil && f.down.Add(-1) >= 0 {
		return errors.New("redis: connection refused")
	}
	for _, r := range rs {
		f.ch <- r
	}
	return nil
}

type fakePresence struct{ ch chan []Presence }

func (f fakePresence) SetPresence(ctx context.Context, ps []Presence, until time.Time) error {
	f.ch <- ps
	return nil
}

func (f fakePresence) ClearPresence(ctx context.Context, ps []Presence) error { return nil }

// testHub is a Hub behind an httptest server, with fakes.
type testHub struct {
	h        *Hub
	url      string
	origin   string
	stream   *fakeStream
	auth     *fakeAuth
	receipts chan Receipt
	// receiptsDown makes the next n receipt writes fail.
	receiptsDown atomic.Int64
	presence     chan []Presence
	clock        *testclock.Clock
}

func newTestHub(t *testing.T, lim Limits, access fakeAccess) *testHub {
	t.Helper()
	th := &testHub{
		stream:   newFakeStream(),
		auth:     newFakeAuth(),
		receipts: make(chan Receipt, 1000),
		presence: make(chan []Presence, 1000),
		clock:    testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
	}
	th.auth.end = th.clock.Now().Add(time.Hour)
	h, err := New(Options{
		Stream:   th.stream,
		Auth:     th.auth,
		Access:   access,
		Snapshot: fakeSnapshot{},
		Receipts: fakeReceipts{th.receipts, &th.receiptsDown},
		Presence: fakePresence{th.presence},
		Now:      th.clock.Now,
		Limits:   lim,
	})
	if err != nil {
		t.Fatal(err)
	}
	th.h = h
	var allowed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Accept(w, r, allowed, nil)
	}))
	allowed = []string{srv.URL}
	th.origin = srv.URL
	th.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	waitFor(t, func() bool { h.mu.RLock(); defer h.mu.RUnlock(); return h.running })
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return th
}

// waitFor polls cond (it must become true within 5 s). It yields with a
// short timer rather than sleeping a guessed duration.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		<-time.After(time.Millisecond)
	}
}

func responder(id string, teams ...string) *staff.Principal {
	return &staff.Principal{StaffID: id, Roles: []staff.Role{staff.RoleResponder}, Teams: teams, SessionTag: "tag" + id}
}

// dial connects p and reads up to ready, returning the frames before it.
func (th *testHub) dial(t *testing.T, p *staff.Principal, since string) (*Client, []Message) {
	t.Helper()
	c, err := Dial(context.Background(), th.url, th.auth.ticket(p), ClientOptions{Origin: th.origin, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var before []Message
	for {
		m := next(t, c)
		if m.Type == TypeReady {
			return c, before
		}
		before = append(before, m)
	}
}

func next(t *testing.T, c *Client) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("next frame: %v", err)
	}
	if m.Type == TypeEvent && m.Event != nil {
		lastIDs.Store(c, m.Event.ID)
	}
	return m
}

// lastIDs is the id of the last event next read from each client.
var lastIDs sync.Map // *Client → string

// LastID is the id of the last event next read from c: the since for a
// reconnect.
func (c *Client) LastID() string {
	id, _ := lastIDs.Load(c)
	s, _ := id.(string)
	return s
}

// Duty sets c's on-duty state, as a dashboard's duty switch does.
func (c *Client) Duty(on bool) error {
	return c.write(map[string]any{"type": typeDuty, "on": on})
}

// CloseCode returns the close code inside err (from Client.Next, or from
// a bare gorilla connection's read), or 0 when err is not a close.
func CloseCode(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var wce *websocket.CloseError
	if errors.As(err, &wce) {
		return wce.Code
	}
	return 0
}

// closeCode reads until the hub closes c and returns the code.
func closeCode(t *testing.T, c *Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, err := c.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("hub did not close the socket within 5s")
			}
			if CloseCode(err) == 0 {
				t.Logf("socket ended without a close code: %v", err)
			}
			return CloseCode(err)
		}
	}
}

// Connected returns how many sockets this instance holds.
func (h *Hub) Connected() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.all)
}
