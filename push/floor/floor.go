// Package floor is the benchmark's yardstick: a trivial hub that speaks
// push's protocol to push's client, for measuring the machine's floor
// beside Waymark in the same run (waymark bench --floor). It lives under
// push because push owns gorilla/websocket, but it is no part of serving:
// only the bench lab imports it, and it must never be served beyond
// loopback.
package floor

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"waymark/alert"
	"waymark/push"
)

// Floor is a trivial hub that stores nothing (or, made by NewDurable,
// only one append per alert). It speaks the same protocol to the same
// client: GET /ws?team=T takes any well-formed ticket, answers ready, and sends events; POST /signal with
// {"team","alert"} makes one event and fans it out to that team's sockets
// before answering 202. It has no auth, no origin check, no resume and no
// persistence: never serve it beyond loopback.
type Floor struct {
	up  websocket.Upgrader
	seq atomic.Uint64
	log Log

	mu     sync.RWMutex
	byTeam map[string]map[*floorConn]struct{}
}

type floorConn struct {
	ws   *websocket.Conn
	send chan []byte
}

// Log is where a durable floor stores each alert before it answers, and
// follows to deliver them (the bench puts it on a Redis stream of the store).
type Log interface {
	Append(ctx context.Context, team, alertID string) error
	// End is the position of the log's last entry.
	End(ctx context.Context) (string, error)
	// Follow calls fn for every entry after from, in order, until ctx
	// ends, retrying what fails rather than skipping it.
	Follow(ctx context.Context, from string, fn func(team, alertID string)) error
}

// NewDurable returns a floor hub that, like any durable hub at the
// least, stores each alert in log before its 202 and delivers what log
// holds (waymark bench --floor durable). Start it before serving it.
func NewDurable(log Log) *Floor {
	f := New()
	f.log = log
	return f
}

// Start delivers what a durable floor's log holds from now on, in the
// background until ctx ends; it does nothing for a floor that stores
// nothing. It reads where the log ends before it returns: were that read
// left to the background, alerts stored before it ran would be skipped.
func (f *Floor) Start(ctx context.Context) error {
	if f.log == nil {
		return nil
	}
	from, err := f.log.End(ctx)
	if err != nil {
		return err
	}
	go f.log.Follow(ctx, from, f.fanout)
	return nil
}

// New returns an empty floor hub that stores nothing.
func New() *Floor {
	return &Floor{
		up: websocket.Upgrader{
			ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
			CheckOrigin: func(*http.Request) bool { return true }, // loopback benchmark only
		},
		byTeam: map[string]map[*floorConn]struct{}{},
	}
}

// ServeHTTP serves /ws and /signal.
func (f *Floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/ws" && r.Method == http.MethodGet:
		f.serveWS(w, r)
	case r.URL.Path == "/signal" && r.Method == http.MethodPost:
		f.signal(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *Floor) signal(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Team  string `json:"team"`
		Alert string `json:"alert"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if f.log != nil {
		// Stored before answered; delivered by Run from the log.
		if err := f.log.Append(r.Context(), in.Team, in.Alert); err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
	} else {
		f.fanout(in.Team, in.Alert)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// fanout makes one event and sends it to the team's sockets, one at a
// time, so every socket gets events in id order.
func (f *Floor) fanout(team, alertID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.seq.Add(1)
	ev := alert.Event{ID: "1-" + strconv.FormatUint(n, 10), Type: alert.EventRaised, Alert: alertID, Team: team, At: time.Now().UTC()}
	data := mustJSON(push.Message{Type: push.TypeEvent, Event: &ev})
	for c := range f.byTeam[team] {
		select {
		case c.send <- data:
		default: // a full queue: the floor drops, it does not wait
		}
	}
}

func (f *Floor) serveWS(w http.ResponseWriter, r *http.Request) {
	team := r.URL.Query().Get("team")
	ws, err := f.up.Upgrade(w, r, nil) // served by a bare http.Server: w hijacks
	if err != nil {
		return
	}
	ws.SetReadLimit(push.MaxFrame)
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil {
		ws.Close()
		return
	}
	ws.SetReadDeadline(time.Time{})
	c := &floorConn{ws: ws, send: make(chan []byte, 4096)}
	c.send <- mustJSON(push.Message{Type: push.TypeReady, ID: "0-0", Teams: []string{team}})
	f.mu.Lock()
	m := f.byTeam[team]
	if m == nil {
		m = map[*floorConn]struct{}{}
		f.byTeam[team] = m
	}
	m[c] = struct{}{}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	defer func() {
		f.mu.Lock()
		delete(f.byTeam[team], c)
		f.mu.Unlock()
		ws.Close()
	}()
	for {
		select {
		case <-done:
			return
		case b := <-c.send:
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("floor: encode frame: " + err.Error())
	}
	return b
}
