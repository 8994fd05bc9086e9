package push

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"waymark/alert"
	"waymark/problem"
	"waymark/staff"
)

// conn is one responder's socket. Its reader goroutine (readLoop) owns
// reading; at most one writer goroutine runs at a time, started when the
// queue gets a frame and gone when it is empty, so an idle socket costs one
// goroutine and a few small structs.
type conn struct {
	h   *Hub
	ws  *websocket.Conn
	seq uint64
	key string
	// p is set by hello before the conn is registered and never changes.
	p *staff.Principal

	// credits are receipts the client may send without spending its frame
	// budget: one per event it was sent.
	credits atomic.Int64
	// dead mirrors closed for the writer, which checks it between frames
	// without taking mu.
	dead atomic.Bool
	// extended is when the read deadline was last moved (unix ns): moving
	// it at most once a second is plenty against a 60 s pong wait.
	extended atomic.Int64
	// pingOut is when the oldest ping not yet answered by a pong was
	// queued (unix ns), 0 when none is out: how far behind the client
	// reads (lagging).
	pingOut atomic.Int64

	mu        sync.Mutex
	q         []outFrame
	writing   bool
	closed    bool
	syncing   bool
	pending   []outFrame
	last      streamID
	expires   time.Time
	nextCheck time.Time
	duty      bool
	// sent holds the alert ids of the last events queued on this socket
	// (a ring): a receipt for one of them needs no check in Redis that
	// the alert exists and is on the responder's teams.
	sent   [sentRing]string
	sentAt int
}

// sentRing is how many recent alerts a socket remembers sending.
const sentRing = 32

// wasSent reports whether an event of alert was queued on this socket
// lately.
func (c *conn) wasSent(alert string) bool {
	if alert == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.sent {
		if a == alert {
			return true
		}
	}
	return false
}

// outFrame is a queued text frame, or a ping when data is nil.
type outFrame struct {
	data  []byte
	id    streamID
	alert string // the event's alert, for the sent ring
}

// hello reads and checks the first frame, redeems the ticket, registers the
// socket and sends what the client missed. It runs on the upgrade
// request's goroutine; false means the socket is finished.
func (c *conn) hello() bool {
	h := c.h
	c.ws.SetReadDeadline(time.Now().Add(h.lim.HelloTimeout))
	mt, b, err := c.ws.ReadMessage()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.refuse(ClosePolicy, "hello expected within 5 s", "hello timeout")
		} else {
			h.metrics.refused.WithLabelValues("hello").Inc()
		}
		return false
	}
	if mt != websocket.TextMessage {
		c.refuse(errBinary.code, errBinary.reason, "hello")
		return false
	}
	in, err := parseFrame(b)
	if err != nil {
		var fe *frameError
		errors.As(err, &fe)
		c.refuse(fe.code, fe.reason, "hello")
		return false
	}
	if in.Type != typeHello {
		c.refuse(ClosePolicy, "hello must come first", "hello")
		return false
	}
	ctx, cancel := context.WithTimeout(h.ctx, 3*time.Second)
	p, end, err := h.o.Auth.Redeem(ctx, in.Ticket)
	timedOut := ctx.Err() != nil
	cancel()
	switch {
	case err == nil:
	case errors.Is(err, problem.ErrUnavailable) || timedOut:
		c.refuse(CloseInternal, "try again", "unavailable")
		return false
	default:
		c.refuse(CloseSessionEnded, "ticket refused", "ticket")
		return false
	}
	if p == nil || !p.Has(staff.RoleResponder) {
		c.refuse(CloseForbidden, "responders only", "role")
		return false
	}
	c.p = p
	now := h.now()
	c.expires = end
	c.nextCheck = now.Add(h.lim.SessionCheck)
	c.duty = in.Duty != nil && *in.Duty
	c.syncing = true
	if !h.register(c) {
		c.refuse(CloseSessionEnded, "session ended", "revoked")
		return false
	}
	if err := c.resume(in.Since); err != nil {
		if h.ctx.Err() == nil {
			h.log.Warn("resume failed", "staff", c.p.StaffID, "err", err)
		}
		c.close(CloseInternal, "try again")
	}
	c.extend()
	c.ws.SetPongHandler(func(string) error {
		c.pingOut.Store(0)
		c.extend()
		return nil
	})
	return true
}

// refuse closes a socket that never registered: a close frame with code
// and reason, then the TCP connection.
func (c *conn) refuse(code int, reason, metric string) {
	c.h.metrics.refused.WithLabelValues(metric).Inc()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

// finish releases a socket whose reading has ended.
func (c *conn) finish() {
	c.mu.Lock()
	c.closed = true
	c.q, c.pending = nil, nil
	c.mu.Unlock()
	c.ws.Close()
	if c.p != nil {
		c.h.drop(c)
	}
	c.h.conns.Done()
}

// extend moves the read deadline: the client has shown it is alive.
func (c *conn) extend() {
	now := time.Now()
	if now.UnixNano()-c.extended.Load() < int64(time.Second) || c.dead.Load() {
		return
	}
	c.extended.Store(now.UnixNano())
	c.ws.SetReadDeadline(now.Add(c.h.lim.PongWait))
}

// resume sends a snapshot when needed, then the events after since, then
// ready, then whatever arrived live meanwhile. Live events that reached
// the socket while it was syncing wait in pending; ids already sent are
// skipped, so the client sees each event once and in order.
func (c *conn) resume(since string) error {
	h := c.h
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	var from streamID
	snapshot := since == ""
	var evs []eventFrame
	if !snapshot {
		from, _ = parseID(since)
		_, removed, err := h.o.Stream.Bounds(ctx)
		if err != nil {
			return err
		}
		if rid, ok := parseID(removed); ok && from.less(rid) {
			snapshot = true
		} else {
			got, err := h.o.Stream.Range(ctx, since, h.lim.ReplayCap+1)
			if err != nil {
				return err
			}
			if len(got) > h.lim.ReplayCap {
				snapshot = true
			} else if evs, err = c.filter(ctx, got); err != nil {
				return err
			}
		}
	}
	if snapshot {
		last, _, err := h.o.Stream.Bounds(ctx)
		if err != nil {
			return err
		}
		var alerts []byte
		if h.o.Snapshot != nil {
			if alerts, err = h.o.Snapshot.OpenAlerts(ctx, c.p); err != nil {
				return err
			}
		}
		from, _ = parseID(last)
		c.push(outFrame{data: snapshotFrame(from.String(), alerts)})
		evs = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if c.last.less(from) {
		c.last = from
	}
	for _, e := range evs {
		if c.last.less(e.id) {
			c.last = e.id
			if e.data != nil {
				c.pushLocked(outFrame{data: e.data, id: e.id, alert: e.alert})
			}
		}
	}
	c.pushLocked(outFrame{data: readyFrame(c.last.String(), c.p)})
	for _, f := range c.pending {
		if c.last.less(f.id) {
			c.last = f.id
			c.pushLocked(f)
		}
	}
	c.pending = nil
	c.syncing = false
	return nil
}

// eventFrame is a replayed event: data is nil when the event is not for
// this socket (another team, or a case it may not see) but still moves the
// cursor.
type eventFrame struct {
	id    streamID
	data  []byte
	alert string
}

func (c *conn) filter(ctx context.Context, got []alert.Event) ([]eventFrame, error) {
	ex, err := c.h.exclusions(ctx, got, false)
	if err != nil {
		return nil, err
	}
	out := make([]eventFrame, 0, len(got))
	for i := range got {
		ev := &got[i]
		id, ok := parseID(ev.ID)
		if !ok {
			continue
		}
		f := eventFrame{id: id}
		if c.p.InTeam(ev.Team) && !slices.Contains(ex[ev.Case], c.p.StaffID) && (ev.Only == "" || ev.Only == c.p.StaffID) {
			f.data, f.alert = encodeEvent(ev), ev.Alert
		}
		out = append(out, f)
	}
	return out, nil
}

// deliver queues a live event of alert unless the socket has already had
// it.
func (c *conn) deliver(id streamID, alert string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.last.less(id) {
		return
	}
	f := outFrame{data: data, id: id, alert: alert}
	if c.syncing {
		if len(c.pending) >= c.h.lim.Queue {
			c.slowLocked()
			return
		}
		c.pending = append(c.pending, f)
		return
	}
	c.last = id
	c.pushLocked(f)
}

func (c *conn) push(f outFrame) {
	c.mu.Lock()
	c.pushLocked(f)
	c.mu.Unlock()
}

// heartbeat queues the heartbeat frame, which the page reads to know it
// is live, and a ping behind it, whose pong shows the client has read
// everything queued before.
func (c *conn) heartbeat() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.pushLocked(outFrame{data: []byte(heartbeatJSON)})
	c.pingOut.CompareAndSwap(0, time.Now().UnixNano())
	c.pushLocked(outFrame{})
}

// lagging reports whether a ping has gone unanswered for longer than
// limit at now.
func (c *conn) lagging(now time.Time, limit time.Duration) bool {
	out := c.pingOut.Load()
	return out != 0 && !c.dead.Load() && now.UnixNano()-out > int64(limit)
}

// pushLocked appends f to the queue and starts the writer if none runs.
func (c *conn) pushLocked(f outFrame) {
	if c.closed {
		return
	}
	if len(c.q) >= c.h.lim.Queue {
		c.slowLocked()
		return
	}
	if f.id != (streamID{}) {
		if c.credits.Load() < int64(2*c.h.lim.Queue) {
			c.credits.Add(1)
		}
		c.h.metrics.delivered.Inc()
	}
	if f.alert != "" && c.sent[(c.sentAt+sentRing-1)%sentRing] != f.alert {
		c.sent[c.sentAt%sentRing] = f.alert
		c.sentAt++
	}
	c.q = append(c.q, f)
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// slowLocked disconnects a client that does not keep up: it resumes with
// since, and nobody else waits for it.
func (c *conn) slowLocked() {
	c.h.metrics.closed.WithLabelValues("slow").Inc()
	c.closeLocked(CloseTryAgain, "too slow; reconnect with since")
}

// writeLoop writes queued frames until the queue is empty, then exits.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		batch := c.q
		c.q = nil
		if len(batch) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		deadline := time.Now().Add(c.h.lim.WriteWait)
		c.ws.SetWriteDeadline(deadline)
		for _, f := range batch {
			if c.dead.Load() {
				break
			}
			var err error
			if f.data == nil {
				err = c.ws.WriteControl(websocket.PingMessage, nil, deadline)
			} else {
				err = c.ws.WriteMessage(websocket.TextMessage, f.data)
			}
			if err != nil {
				reason := "write"
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					reason = "write-timeout"
				}
				c.mu.Lock()
				if !c.closed {
					c.h.metrics.closed.WithLabelValues(reason).Inc()
				}
				c.closed = true
				c.writing = false
				c.q = nil
				c.mu.Unlock()
				// Unblock the reader; it finishes the socket.
				c.ws.NetConn().SetReadDeadline(time.Now())
				return
			}
		}
	}
}

// close ends the socket with code: no more frames are queued, the close
// frame goes out as soon as the writer lets it, and the reader, which
// finishes the socket, waits at most a second for the client's answer.
func (c *conn) close(code int, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
}

func (c *conn) closeLocked(code int, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	c.dead.Store(true)
	c.q, c.pending = nil, nil
	go func() {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		c.ws.NetConn().SetReadDeadline(time.Now().Add(time.Second))
	}()
}

// readLoop reads client frames until the socket ends. After a close has
// started, frames are read and dropped until the client answers or the
// deadline passes.
func (c *conn) readLoop() {
	defer c.finish()
	h := c.h
	tokens := float64(h.lim.FrameBurst)
	lastFill := time.Now()
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		buf := h.readBufs.Get().(*bytes.Buffer)
		buf.Reset()
		_, err = buf.ReadFrom(r)
		in, perr := parseFrame(buf.Bytes())
		if buf.Cap() <= 4096 {
			h.readBufs.Put(buf) // parseFrame copied what it kept
		}
		if err != nil {
			return
		}
		if c.dead.Load() {
			continue
		}
		c.extend()
		now := time.Now()
		tokens = min(float64(h.lim.FrameBurst), tokens+now.Sub(lastFill).Seconds()*h.lim.FrameRate)
		lastFill = now
		if mt != websocket.TextMessage {
			h.metrics.closed.WithLabelValues("frame").Inc()
			c.close(errBinary.code, errBinary.reason)
			continue
		}
		if perr != nil {
			var fe *frameError
			errors.As(perr, &fe)
			h.metrics.closed.WithLabelValues("frame").Inc()
			c.close(fe.code, fe.reason)
			continue
		}
		// A receipt for an event the client was sent is free; anything
		// else spends the frame budget.
		if in.Type == typeSeen && c.credits.Load() > 0 {
			c.credits.Add(-1)
		} else if tokens >= 1 {
			tokens--
		} else {
			h.metrics.closed.WithLabelValues("flood").Inc()
			c.close(ClosePolicy, "too many frames")
			continue
		}
		switch in.Type {
		case typeHello:
			h.metrics.closed.WithLabelValues("frame").Inc()
			c.close(ClosePolicy, "one hello per connection")
		case typeSeen:
			h.receipt(Receipt{Alert: in.Alert, Event: in.Event, Staff: c.p.StaffID, Teams: c.p.Teams, At: h.now(),
				Sent: c.wasSent(in.Alert)})
		case typeDuty:
			c.setDuty(*in.On)
		}
	}
}

// setDuty records the on-duty toggle and announces it to presence.
func (c *conn) setDuty(on bool) {
	c.mu.Lock()
	changed := c.duty != on
	c.duty = on
	c.mu.Unlock()
	if changed {
		c.h.queuePresence(c.presence(), nil)
	}
}

// presence is c's entry in each of its teams.
func (c *conn) presence() []Presence {
	c.mu.Lock()
	duty := c.duty
	c.mu.Unlock()
	ps := make([]Presence, len(c.p.Teams))
	for i, t := range c.p.Teams {
		ps[i] = Presence{Team: t, Staff: c.p.StaffID, Conn: c.key, Duty: duty}
	}
	return ps
}

// timers reports whether c's session has ended at now and whether its
// periodic re-check is due (and, if so, schedules the next one).
func (c *conn) timers(now time.Time, every time.Duration) (expired, check bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, false
	}
	if !c.expires.IsZero() && !now.Before(c.expires) {
		return true, false
	}
	if !now.Before(c.nextCheck) {
		c.nextCheck = now.Add(every)
		return false, true
	}
	return false, false
}

func (c *conn) setExpires(end time.Time) {
	c.mu.Lock()
	c.expires = end
	c.mu.Unlock()
}

// readyFrame tells the client that the replay is done.
func readyFrame(id string, p *staff.Principal) []byte {
	return mustJSON(Message{Type: TypeReady, ID: id, Staff: p.StaffID, Teams: p.Teams})
}
