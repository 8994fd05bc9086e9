// Package push is Waymark's live hub: the WebSocket connections of on-call
// responders, and a small Go client for the same protocol. It is the only
// package that imports gorilla/websocket.
//
// Every instance runs one Hub. Its reader goroutine follows the events
// stream in Redis (blocking reads of a few seconds, never unbounded) and
// fans each event out to the local connections of the event's team, except
// staff excluded from the event's case. Events come from the stream, so
// nothing is delivered that was not stored first.
//
// # Protocol
//
// The client opens GET /v1/ws from an allowed origin and, within five
// seconds, sends its first frame:
//
//	{"type":"hello","ticket":"<from POST /v1/auth/ws-ticket>","since":"<last event id seen, or empty>","duty":true}
//
// The ticket is single use and lives 30 seconds; it never travels in the
// URL. The hub answers, in order: a snapshot of the open alerts when the
// client has no since, or its since is older than the stream keeps, or
// more events were missed than the replay cap
//
//	{"type":"snapshot","id":"<stream id>","alerts":[...]}
//
// then every event after since (or after the snapshot's id), then
//
//	{"type":"ready","id":"<last id replayed>","staff":"s_…","teams":["…"]}
//
// and from then on live events, in stream order:
//
//	{"type":"event","event":{"id":"<stream id>","type":"raised","alert":"a_…","team":"…","priority":3,"at":"…"}}
//
// The client confirms every alert event it has shown with a receipt, and
// may toggle its on-duty state:
//
//	{"type":"seen","alert":"a_…","event":"<stream id>"}
//	{"type":"duty","on":false}
//
// Every 10 seconds (Limits.Heartbeat) the hub sends each socket
//
//	{"type":"heartbeat"}
//
// and a ping behind it, so a page can tell a quiet hub from a frozen one
// (the dashboard says it is not live after 25 s without a frame). A ping
// whose pong has not come back within Limits.LagLimit (15 s) of being
// queued means the client has not read what went before it, however much
// the kernel buffered: the hub closes it with CloseTryAgain, counts it in
// waymark_ws_closed_total{reason="lag"}, and the client resumes. Writes
// that fail or pass WriteWait are counted there too ("write",
// "write-timeout").
//
// A reconnecting client sends the id of the last event it saw as since and
// misses nothing. The close codes are listed with CloseNormal.
package push
