package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"waymark/alert"
)

// Close codes the hub ends a connection with. 1000–1015 are RFC 6455's;
// 4401 and 4403 are Waymark's own (the 4000–4999 range is for
// applications) and mirror HTTP 401 and 403, so a dashboard knows to sign
// in again rather than reconnect.
const (
	CloseNormal         = 1000 // the client asked to close
	CloseGoingAway      = 1001 // this instance is shutting down: reconnect elsewhere with since
	CloseUnsupported    = 1003 // a binary frame or an unknown frame type
	CloseInvalidPayload = 1007 // invalid JSON or a field of the wrong shape
	ClosePolicy         = 1008 // no hello in time, a second hello, a frame flood
	CloseTooBig         = 1009 // a frame over the 64 KiB read limit
	CloseInternal       = 1011 // the hub could not serve (Redis away); reconnect with since
	CloseTryAgain       = 1013 // the client read too slowly and its queue filled; reconnect with since
	CloseSessionEnded   = 4401 // ticket refused, or the session ended (sign-out, disabled, expired)
	CloseForbidden      = 4403 // the account may not use the live hub (not a responder)
)

// Frame types the client sends.
const (
	typeHello = "hello"
	typeSeen  = "seen"
	typeDuty  = "duty"
)

// Frame types the server sends.
const (
	TypeSnapshot = "snapshot" // open alerts as of ID; replaces what the client shows
	TypeEvent    = "event"    // one alert event, in stream order
	TypeReady    = "ready"    // replay done: what follows is live
	// TypeHeartbeat comes every 10 s (Limits.Heartbeat) whatever else
	// is sent: a page that has had no frame for 25 s knows it is not live.
	TypeHeartbeat = "heartbeat"
)

// heartbeatJSON is the heartbeat frame, the same bytes every time.
const heartbeatJSON = `{"type":"heartbeat"}`

// inbound is any frame a client sends. Which fields are allowed depends on
// the type; parseFrame checks that.
type inbound struct {
	Type   string `json:"type"`
	Ticket string `json:"ticket,omitempty"`
	Since  string `json:"since,omitempty"`
	Duty   *bool  `json:"duty,omitempty"`
	On     *bool  `json:"on,omitempty"`
	Alert  string `json:"alert,omitempty"`
	Event  string `json:"event,omitempty"`
}

// frameError is why a client frame was refused, with the close code it
// earns. Its text goes into the close frame: it never echoes the frame.
type frameError struct {
	code   int
	reason string
}

func (e *frameError) Error() string { return "push: " + e.reason }

var (
	errBadJSON     = &frameError{CloseInvalidPayload, "frame is not a JSON object of known fields"}
	errUnknownType = &frameError{CloseUnsupported, "unknown frame type"}
	errBadTicket   = &frameError{CloseSessionEnded, "ticket refused"}
	errBadSince    = &frameError{CloseInvalidPayload, "since must be an event id"}
	errBadSeen     = &frameError{CloseInvalidPayload, "seen needs an alert id and an event id"}
	errBadDuty     = &frameError{CloseInvalidPayload, "duty needs on: true or false"}
	errBinary      = &frameError{CloseUnsupported, "text frames only"}
)

// parseFrame decodes one client frame strictly: one JSON object, known
// fields only, each of the right shape for its type.
func parseFrame(b []byte) (inbound, error) {
	if in, ok := fastSeen(b); ok {
		return in, nil
	}
	return parseFrameJSON(b)
}

// fastSeen reads a receipt in exactly the form the clients send,
// {"type":"seen","alert":"a_…","event":"ms-seq"}, without the JSON decoder:
// receipts are most of what clients send. Both ids are checked to hold only
// letters, digits, "_" and "-", so no JSON escape can hide in them and the
// result is what parseFrameJSON would return (a fuzz test checks that).
func fastSeen(b []byte) (inbound, bool) {
	const head, mid, tail = `{"type":"seen","alert":"`, `","event":"`, `"}`
	rest, ok := bytes.CutPrefix(b, []byte(head))
	if !ok {
		return inbound{}, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return inbound{}, false
	}
	alertID := rest[:i]
	rest, ok = bytes.CutPrefix(rest[i:], []byte(mid))
	if !ok {
		return inbound{}, false
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 || string(rest[j:]) != tail {
		return inbound{}, false
	}
	event := rest[:j]
	if !validAlertID(string(alertID)) {
		return inbound{}, false
	}
	if _, ok := parseID(string(event)); !ok {
		return inbound{}, false
	}
	return inbound{Type: typeSeen, Alert: string(alertID), Event: string(event)}, true
}

// parseFrameJSON is parseFrame through the JSON decoder.
func parseFrameJSON(b []byte) (inbound, error) {
	var in inbound
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return inbound{}, errBadJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return inbound{}, errBadJSON
	}
	switch in.Type {
	case typeHello:
		if in.On != nil || in.Alert != "" || in.Event != "" {
			return inbound{}, errBadJSON
		}
		if !validTicket(in.Ticket) {
			return inbound{}, errBadTicket
		}
		if in.Since != "" {
			if _, ok := parseID(in.Since); !ok {
				return inbound{}, errBadSince
			}
		}
	case typeSeen:
		if in.Ticket != "" || in.Since != "" || in.Duty != nil || in.On != nil {
			return inbound{}, errBadJSON
		}
		if _, ok := parseID(in.Event); !ok || !validAlertID(in.Alert) {
			return inbound{}, errBadSeen
		}
	case typeDuty:
		if in.Ticket != "" || in.Since != "" || in.Duty != nil || in.Alert != "" || in.Event != "" {
			return inbound{}, errBadJSON
		}
		if in.On == nil {
			return inbound{}, errBadDuty
		}
	default:
		return inbound{}, errUnknownType
	}
	return in, nil
}

// validTicket accepts what a ticket can look like (base64url of at least
// 16 bytes) so that nothing else reaches the store.
func validTicket(s string) bool {
	if len(s) < 22 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validAlertID accepts alert ids as internal/randid makes them: "a_" and
// lower-case letters. A receipt's alert id reaches a key name.
func validAlertID(s string) bool {
	if len(s) < 3 || len(s) > 64 || !strings.HasPrefix(s, "a_") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// streamID is a Redis stream entry id, "ms-seq", in comparable form.
type streamID struct{ ms, seq uint64 }

// parseID parses "ms-seq" (both decimal, no sign).
func parseID(s string) (streamID, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok || a == "" || b == "" || len(a) > 20 || len(b) > 20 || a[0] == '+' || b[0] == '+' {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, false
	}
	return streamID{ms, seq}, true
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

// Message is one frame from the server, as the Go client reads it.
type Message struct {
	// Type is TypeSnapshot, TypeEvent, TypeReady or TypeHeartbeat.
	Type string `json:"type"`
	// ID is the stream position: the snapshot's, or where the replay
	// ended for TypeReady. Event frames carry theirs in Event.ID.
	ID string `json:"id,omitempty"`
	// Event is set for TypeEvent.
	Event *alert.Event `json:"event,omitempty"`
	// Alerts is the snapshot's list of open alerts, as the alert service
	// shows them.
	Alerts json.RawMessage `json:"alerts,omitempty"`
	// Staff and Teams say who the hub took the ticket for (TypeReady).
	Staff string   `json:"staff,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// mustJSON encodes a value of plain fields, which cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("push: encode frame: " + err.Error())
	}
	return b
}

// encodeEvent is the frame for one event. It is built once per event and
// shared by every connection it goes to.
func encodeEvent(ev *alert.Event) []byte {
	return mustJSON(Message{Type: TypeEvent, Event: ev})
}
