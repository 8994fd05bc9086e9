package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/problem"
)

// Options are a Hub's dependencies. Stream and Auth are required; a nil
// optional dependency turns its feature off (no exclusions, empty
// snapshots, receipts and presence not kept, no pub/sub revocations), which
// only tests should rely on.
type Options struct {
	Stream      Stream
	Auth        Auth
	Access      Access
	Snapshot    Snapshot
	Receipts    Receipts
	Presence    PresenceStore
	Revocations Revocations
	Logger      *slog.Logger
	// Now is the clock session ends are compared with; nil means time.Now.
	Now func() time.Time
	// Registry receives the hub's metrics; nil means none.
	Registry prometheus.Registerer
	Limits   Limits
}

// Hub serves the live connections of one instance. Build it with New,
// start Run with the server's lifetime and hand it upgrade requests with
// Accept.
type Hub struct {
	o        Options
	lim      Limits
	log      *slog.Logger
	now      func() time.Time
	instance string
	up       websocket.Upgrader
	metrics  *hubMetrics

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.RWMutex
	byTeam  map[string]map[*conn]struct{}
	all     map[*conn]struct{}
	seq     uint64
	running bool
	// recent remembers revocations of the last few seconds, so a socket
	// that redeemed its ticket just before the announcement is closed as
	// it registers.
	recent map[string]time.Time

	// readBufs lends read buffers to the readers only while a frame is
	// read: an idle socket holds none.
	readBufs sync.Pool

	conns    sync.WaitGroup
	receipts chan Receipt
	// firsts are the alerts whose first receipt was observed (only the
	// receipt writer uses it).
	firsts map[string]bool
	excl   exclusionCache

	presMu    sync.Mutex
	presAdd   []Presence
	presDel   []Presence
	presWake  chan struct{}
	checking  atomic.Bool
	sweepTick uint64
}

// New builds a Hub.
func New(o Options) (*Hub, error) {
	if o.Stream == nil || o.Auth == nil {
		return nil, errors.New("push: a hub needs a Stream and an Auth")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Hub{
		o:        o,
		lim:      o.Limits.withDefaults(),
		log:      o.Logger,
		now:      o.Now,
		instance: randid.New("", 8),
		byTeam:   map[string]map[*conn]struct{}{},
		all:      map[*conn]struct{}{},
		recent:   map[string]time.Time{},
		receipts: make(chan Receipt, 4096),
		firsts:   map[string]bool{},
		presWake: make(chan struct{}, 1),
		metrics:  newHubMetrics(o.Registry),
	}
	h.excl.m = map[string]exclEntry{}
	h.readBufs.New = func() any { return new(bytes.Buffer) }
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.up = websocket.Upgrader{
		HandshakeTimeout: 5 * time.Second,
		// Small buffers: an idle responder costs little. Frames larger
		// than the read buffer stream through it; writes borrow a pooled
		// buffer only while writing.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	return h, nil
}

// Run follows the events stream and keeps the connections (pings, session
// checks, presence, receipts) until ctx ends; then it closes every socket
// with CloseGoingAway and returns once they are gone.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.running {
		h.mu.Unlock()
		return errors.New("push: hub already running")
	}
	h.running = true
	h.mu.Unlock()

	var wg sync.WaitGroup
	loops := []func(context.Context){h.follow, h.sweep, h.saveReceipts, h.keepPresence}
	if h.o.Revocations != nil {
		loops = append(loops, h.revocations)
	}
	for _, f := range loops {
		wg.Go(func() { f(ctx) })
	}
	<-ctx.Done()

	h.mu.Lock()
	h.running = false
	conns := make([]*conn, 0, len(h.all))
	for c := range h.all {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.close(CloseGoingAway, "server shutting down; reconnect with since")
	}
	done := make(chan struct{})
	go func() { h.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		for _, c := range conns {
			c.ws.Close()
		}
		<-done
	}
	h.cancel()
	wg.Wait()
	return nil
}

// Refuse answers a handshake refused with status: 400 (not a WebSocket
// upgrade), 403 (Origin missing or not allowed), 503 (the hub is not
// running). The server gives it its own error body.
type Refuse func(w http.ResponseWriter, r *http.Request, status int)

// Accept upgrades r to a WebSocket if its Origin is one of allowed
// (scheme://host[:port], compared without case), then serves it. A
// missing or foreign Origin is refused with 403 before the upgrade.
// refuse answers a refused handshake; nil answers plain text.
func (h *Hub) Accept(w http.ResponseWriter, r *http.Request, allowed []string, refuse Refuse) {
	if refuse == nil {
		refuse = func(w http.ResponseWriter, r *http.Request, status int) {
			http.Error(w, http.StatusText(status), status)
		}
	}
	// Counted under the lock that Run takes to stop, so Run's wait sees
	// every socket that got past this point.
	h.mu.Lock()
	running := h.running
	if running {
		h.conns.Add(1)
	}
	h.mu.Unlock()
	if !running {
		refuse(w, r, http.StatusServiceUnavailable)
		return
	}
	up := h.up
	up.CheckOrigin = func(r *http.Request) bool { return originAllowed(r.Header.Get("Origin"), allowed) }
	up.Error = func(w http.ResponseWriter, r *http.Request, status int, _ error) {
		w.Header().Set("Sec-Websocket-Version", "13")
		refuse(w, r, status)
	}
	ws, err := up.Upgrade(hijacker(w), r, nil)
	if err != nil {
		// The upgrader has answered (403 for the origin, 400 otherwise).
		h.metrics.refused.WithLabelValues("handshake").Inc()
		h.conns.Done()
		return
	}
	c := &conn{h: h, ws: ws}
	ws.SetReadLimit(MaxFrame)
	if !c.hello() {
		c.finish()
		return
	}
	go c.readLoop()
}

// hijacker finds the http.Hijacker under middleware wrappers that expose
// Unwrap (as http.ResponseController does).
func hijacker(w http.ResponseWriter) http.ResponseWriter {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return w
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

func originAllowed(origin string, allowed []string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

// register adds c, authenticated, to the hub. It returns false when the
// session was revoked moments ago or the hub is stopping.
func (h *Hub) register(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		return false
	}
	if _, ok := h.recent[c.p.SessionTag]; ok {
		return false
	}
	if _, ok := h.recent[c.p.StaffID]; ok {
		return false
	}
	h.seq++
	c.seq = h.seq
	c.key = h.instance + "." + strconv.FormatUint(h.seq, 10)
	h.all[c] = struct{}{}
	for _, t := range c.p.Teams {
		m := h.byTeam[t]
		if m == nil {
			m = map[*conn]struct{}{}
			h.byTeam[t] = m
		}
		m[c] = struct{}{}
	}
	h.metrics.conns.Inc()
	h.queuePresence(c.presence(), nil)
	return true
}

// drop removes c from the hub once its socket is gone.
func (h *Hub) drop(c *conn) {
	h.mu.Lock()
	if _, ok := h.all[c]; ok {
		delete(h.all, c)
		for _, t := range c.p.Teams {
			if m := h.byTeam[t]; m != nil {
				delete(m, c)
				if len(m) == 0 {
					delete(h.byTeam, t)
				}
			}
		}
		h.metrics.conns.Dec()
		h.queuePresence(nil, c.presence())
	}
	h.mu.Unlock()
}

// follow reads the events stream from where it stood at start and fans
// each event out, in order. A failed read or exclusion lookup is retried
// from the same position: an instance never skips an event.
func (h *Hub) follow(ctx context.Context) {
	last := ""
	backoff := newBackoff()
	for ctx.Err() == nil {
		if last == "" {
			l, _, err := h.o.Stream.Bounds(ctx)
			if err != nil {
				h.warn(ctx, "events stream: bounds", err)
				backoff.wait(ctx)
				continue
			}
			last = l
		}
		evs, err := h.o.Stream.Tail(ctx, last, h.lim.Block, h.lim.ReadBatch)
		if err != nil {
			h.warn(ctx, "events stream: read", err)
			backoff.wait(ctx)
			continue
		}
		if len(evs) == 0 {
			backoff.reset()
			continue
		}
		ex, err := h.exclusions(ctx, evs, true)
		if err != nil {
			h.warn(ctx, "events stream: exclusions", err)
			backoff.wait(ctx)
			continue
		}
		backoff.reset()
		h.fanout(evs, ex)
		last = evs[len(evs)-1].ID
	}
}

func (h *Hub) warn(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil {
		h.log.Warn(msg, "err", err)
	}
}

// fanout queues each event to the sockets of its team, skipping staff
// excluded from its case.
func (h *Hub) fanout(evs []alert.Event, ex map[string][]string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for i := range evs {
		ev := &evs[i]
		id, ok := parseID(ev.ID)
		if !ok {
			continue
		}
		conns := h.byTeam[ev.Team]
		h.metrics.events.Inc()
		if len(conns) == 0 {
			continue
		}
		data := encodeEvent(ev)
		out := ex[ev.Case]
		for c := range conns {
			if len(out) > 0 && slices.Contains(out, c.p.StaffID) {
				continue
			}
			if ev.Only != "" && ev.Only != c.p.StaffID {
				continue // a practice alert: its caseworker's only
			}
			c.deliver(id, ev.Alert, data)
		}
	}
}

// exclusions looks up (through a short cache) who is excluded from the
// cases of evs. For live events, a case whose every event carries the list
// the intake read with it (Event.ExcludedKnown) needs no lookup: that read
// is as fresh as the event. Replays look every case up: an old event's
// list may be out of date.
func (h *Hub) exclusions(ctx context.Context, evs []alert.Event, live bool) (map[string][]string, error) {
	if h.o.Access == nil {
		return nil, nil
	}
	var cases []string
	carried := map[string][]string{}
	for i := range evs {
		c := evs[i].Case
		if c == "" {
			continue
		}
		if live && evs[i].ExcludedKnown && !slices.Contains(cases, c) {
			carried[c] = evs[i].Excluded
			continue
		}
		if !slices.Contains(cases, c) {
			cases = append(cases, c)
			delete(carried, c)
		}
	}
	if len(cases) == 0 {
		return carried, nil
	}
	out, err := h.excl.get(ctx, h.o.Access, cases, h.now(), h.lim.ExclusionTTL)
	if err != nil {
		return nil, err
	}
	for c, ex := range carried {
		out[c] = ex
	}
	return out, nil
}

type exclEntry struct {
	staff []string
	at    time.Time
}

// exclusionCache keeps case exclusions for a few seconds: fan-out asks
// once per new case, not once per event and socket.
type exclusionCache struct {
	mu sync.Mutex
	m  map[string]exclEntry
}

const exclusionCacheMax = 50000

func (x *exclusionCache) get(ctx context.Context, a Access, cases []string, now time.Time, ttl time.Duration) (map[string][]string, error) {
	out := make(map[string][]string, len(cases))
	var miss []string
	x.mu.Lock()
	for _, c := range cases {
		e, ok := x.m[c]
		if ok && now.Sub(e.at) < ttl && !now.Before(e.at) {
			out[c] = e.staff
		} else {
			miss = append(miss, c)
		}
	}
	x.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	got, err := a.Excluded(qctx, miss)
	cancel()
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	if len(x.m)+len(miss) > exclusionCacheMax {
		clear(x.m)
	}
	for _, c := range miss {
		out[c] = got[c]
		x.m[c] = exclEntry{staff: got[c], at: now}
	}
	x.mu.Unlock()
	return out, nil
}

// sweep runs once a second: it closes sockets whose session has reached
// its end or that lag too far behind, sends a slice of the sockets their
// heartbeat (each every Heartbeat) and starts the periodic session
// re-checks.
func (h *Hub) sweep(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	slots := uint64(max(1, h.lim.Heartbeat/time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.sweepTick++
		now := h.now()
		var due []*conn
		h.mu.Lock()
		for k, at := range h.recent {
			if now.Sub(at) > 10*time.Second || at.After(now.Add(time.Minute)) {
				delete(h.recent, k)
			}
		}
		conns := make([]*conn, 0, len(h.all))
		for c := range h.all {
			conns = append(conns, c)
		}
		h.mu.Unlock()
		for _, c := range conns {
			expired, check := c.timers(now, h.lim.SessionCheck)
			switch {
			case expired:
				h.metrics.closed.WithLabelValues("session").Inc()
				c.close(CloseSessionEnded, "session ended")
				continue
			case check:
				due = append(due, c)
			}
			if c.lagging(time.Now(), h.lim.LagLimit) {
				h.metrics.closed.WithLabelValues("lag").Inc()
				c.close(CloseTryAgain, "lagging; reconnect with since")
				continue
			}
			if c.seq%slots == h.sweepTick%slots {
				c.heartbeat()
			}
		}
		if len(due) > 0 && h.checking.CompareAndSwap(false, true) {
			go func() {
				defer h.checking.Store(false)
				h.checkSessions(ctx, due)
			}()
		}
	}
}

// checkSessions re-reads the sessions behind conns (once per session).
// Redis being away keeps the sockets: a blip must not drop every responder.
func (h *Hub) checkSessions(ctx context.Context, conns []*conn) {
	type result struct {
		end time.Time
		err error
	}
	seen := map[string]result{}
	for _, c := range conns {
		r, ok := seen[c.p.SessionTag]
		if !ok {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			r.end, r.err = h.o.Auth.Check(cctx, c.p)
			cancel()
			seen[c.p.SessionTag] = r
		}
		switch {
		case r.err == nil:
			c.setExpires(r.end)
		case errors.Is(r.err, problem.ErrUnavailable) || ctx.Err() != nil:
		default:
			h.metrics.closed.WithLabelValues("session").Inc()
			c.close(CloseSessionEnded, "session ended")
		}
	}
}

// revocations closes, on this instance, the sockets of every session or
// staff member announced as ended.
func (h *Hub) revocations(ctx context.Context) {
	backoff := newBackoff()
	for ctx.Err() == nil {
		err := h.o.Revocations.Revoked(ctx, h.Revoke)
		if ctx.Err() != nil {
			return
		}
		h.warn(ctx, "revocations: subscription ended", err)
		backoff.wait(ctx)
	}
}

// Revoke closes the sockets of a session tag or staff id at once, and
// refuses ones that register in the next few seconds.
func (h *Hub) Revoke(who string) {
	if who == "" {
		return
	}
	var hit []*conn
	h.mu.Lock()
	h.recent[who] = h.now()
	for c := range h.all {
		if c.p.SessionTag == who || c.p.StaffID == who {
			hit = append(hit, c)
		}
	}
	h.mu.Unlock()
	for _, c := range hit {
		h.metrics.closed.WithLabelValues("session").Inc()
		c.close(CloseSessionEnded, "session ended")
	}
}

// queuePresence records presence changes for the presence loop. Callers
// hold h.mu or nothing; presMu is taken alone.
func (h *Hub) queuePresence(add, del []Presence) {
	if h.o.Presence == nil || len(add)+len(del) == 0 {
		return
	}
	h.presMu.Lock()
	h.presAdd = append(h.presAdd, add...)
	h.presDel = append(h.presDel, del...)
	h.presMu.Unlock()
	select {
	case h.presWake <- struct{}{}:
	default:
	}
}

// keepPresence writes presence changes as they come (at most a few times
// a second) and refreshes every socket's entries every third of their TTL.
func (h *Hub) keepPresence(ctx context.Context) {
	if h.o.Presence == nil {
		return
	}
	refresh := time.NewTicker(h.lim.PresenceTTL / 3)
	defer refresh.Stop()
	for {
		full := false
		select {
		case <-ctx.Done():
			return
		case <-h.presWake:
		case <-refresh.C:
			full = true
		}
		h.presMu.Lock()
		add, del := h.presAdd, h.presDel
		h.presAdd, h.presDel = nil, nil
		h.presMu.Unlock()
		if full {
			add = add[:0]
			h.mu.RLock()
			for c := range h.all {
				add = append(add, c.presence()...)
			}
			h.mu.RUnlock()
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if len(del) > 0 {
			if err := h.o.Presence.ClearPresence(pctx, del); err != nil {
				h.warn(ctx, "presence: clear", err)
			}
		}
		if len(add) > 0 {
			if err := h.o.Presence.SetPresence(pctx, add, h.now().Add(h.lim.PresenceTTL)); err != nil {
				h.warn(ctx, "presence: set", err)
			}
		}
		cancel()
		// Coalesce bursts of connects into one write.
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// snapshotFrame is the snapshot message for id.
func snapshotFrame(id string, alerts json.RawMessage) []byte {
	if len(alerts) == 0 {
		alerts = json.RawMessage("[]")
	}
	b, err := json.Marshal(Message{Type: TypeSnapshot, ID: id, Alerts: alerts})
	if err != nil {
		b, _ = json.Marshal(Message{Type: TypeSnapshot, ID: id, Alerts: json.RawMessage("[]")})
	}
	return b
}

// backoff waits 100 ms, doubling to 2 s, between failed attempts.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) reset() { b.d = 0 }

func (b *backoff) wait(ctx context.Context) {
	b.d = min(max(2*b.d, 100*time.Millisecond), 2*time.Second)
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
