package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ClientOptions configure Dial.
type ClientOptions struct {
	// Origin is sent as the Origin header; the hub refuses any origin it
	// does not trust, and a missing one.
	Origin string
	// Since is the id of the last event seen before, "" for a fresh start
	// (the hub then sends a snapshot first).
	Since string
	// Duty is the on-duty state announced in hello.
	Duty bool
	// Receipts makes Next send a seen receipt for every event it returns,
	// as a dashboard does once it has shown the event.
	Receipts bool
	// HandshakeTimeout bounds the upgrade; default 10 s.
	HandshakeTimeout time.Duration
}

// Client is one responder's connection to the live hub. Next must be
// called from one goroutine; Seen and Close may be called from any.
type Client struct {
	ws       *websocket.Conn
	receipts bool
	rbuf     bytes.Buffer // Next's, reused
	wmu      sync.Mutex
	wbuf     []byte // guarded by wmu, reused
}

// newDialer is the dialer every Dial uses: small buffers, no proxy.
func newDialer() websocket.Dialer {
	return websocket.Dialer{Proxy: nil, ReadBufferSize: 2048, WriteBufferSize: 1024}
}

// Dial connects to the hub at url (ws:// or wss://, the /v1/ws endpoint),
// sends hello with ticket and returns. The frames that follow (a snapshot
// perhaps, replayed events, ready, live events) are read with Next.
func Dial(ctx context.Context, url, ticket string, o ClientOptions) (*Client, error) {
	d := newDialer()
	d.HandshakeTimeout = o.HandshakeTimeout
	if d.HandshakeTimeout <= 0 {
		d.HandshakeTimeout = 10 * time.Second
	}
	h := http.Header{}
	if o.Origin != "" {
		h.Set("Origin", o.Origin)
	}
	ws, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			return nil, &HandshakeError{Status: resp.StatusCode}
		}
		return nil, fmt.Errorf("push: dial: %w", err)
	}
	c := &Client{ws: ws, receipts: o.Receipts}
	hello := map[string]any{"type": typeHello, "ticket": ticket}
	if o.Since != "" {
		hello["since"] = o.Since
	}
	if o.Duty {
		hello["duty"] = true
	}
	if err := c.write(hello); err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
}

// HandshakeError is a refused upgrade: 403 for an origin the hub does not
// trust.
type HandshakeError struct{ Status int }

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("push: handshake refused with status %d", e.Status)
}

// Next reads the next frame, passing over heartbeats. A hub's close
// comes back as an error for which CloseCode reports the code. With
// Receipts on, an event's receipt is sent before Next returns it.
func (c *Client) Next(ctx context.Context) (Message, error) {
	for {
		m, err := c.next(ctx)
		if err != nil || m.Type != TypeHeartbeat {
			return m, err
		}
	}
}

func (c *Client) next(ctx context.Context) (Message, error) {
	if d, ok := ctx.Deadline(); ok {
		c.ws.SetReadDeadline(d)
	} else {
		c.ws.SetReadDeadline(time.Time{})
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.ws.SetReadDeadline(time.Now()) })
		defer stop()
	}
	_, r, err := c.ws.NextReader()
	if err == nil {
		c.rbuf.Reset()
		_, err = c.rbuf.ReadFrom(r)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Message{}, ctx.Err()
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return Message{}, &CloseError{Code: ce.Code, Text: ce.Text}
		}
		return Message{}, fmt.Errorf("push: read: %w", err)
	}
	var m Message
	if err := json.Unmarshal(c.rbuf.Bytes(), &m); err != nil {
		return Message{}, fmt.Errorf("push: frame is not JSON: %w", err)
	}
	if m.Type == TypeEvent && m.Event != nil && c.receipts {
		if err := c.Seen(m.Event.Alert, m.Event.ID); err != nil {
			return m, err
		}
	}
	return m, nil
}

// Seen sends the receipt for an event the responder was shown.
func (c *Client) Seen(alertID, eventID string) error {
	if _, ok := parseID(eventID); !ok || !validAlertID(alertID) {
		// Not ids the hub would accept: send them as they are, encoded.
		return c.write(map[string]string{"type": typeSeen, "alert": alertID, "event": eventID})
	}
	// Both ids hold only letters, digits, "_" and "-": nothing to escape.
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = append(append(append(append(append(c.wbuf[:0],
		`{"type":"seen","alert":"`...), alertID...), `","event":"`...), eventID...), `"}`...)
	return c.writeLocked(c.wbuf)
}

func (c *Client) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("push: encode: %w", err)
	}
	return c.WriteRaw(b)
}

// WriteRaw sends b as one text frame, as it is. Tests use it to send what a
// well-behaved client would not.
func (c *Client) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *Client) writeLocked(b []byte) error {
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("push: write: %w", err)
	}
	return nil
}

// Close says goodbye (close code 1000) and closes the connection.
func (c *Client) Close() error {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseNormal, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}

// CloseError is how Next reports the socket's end: Code is the hub's close
// code (one of the Close* constants), or 1006 for a connection lost
// without a close frame. Callers need not know the WebSocket library.
type CloseError struct {
	Code int
	Text string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("push: closed: %d %s", e.Code, e.Text)
}
