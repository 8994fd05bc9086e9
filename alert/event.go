package alert

import (
	"time"
)

// EventType says what happened to an alert.
type EventType string

// Event types on the events stream.
const (
	EventRaised       EventType = "raised"       // a new alert
	EventJoined       EventType = "joined"       // a signal joined an open alert (priority may have risen)
	EventLocation     EventType = "location"     // a location update joined the trail
	EventEscalated    EventType = "escalated"    // an escalation step ran
	EventAcknowledged EventType = "acknowledged" // claimed
	EventWorking      EventType = "working"      // marked working
	EventNote         EventType = "note"         // a note was added
	EventReturned     EventType = "returned"     // an unclaimed or timed-out claim went back to the queue
	EventResolved     EventType = "resolved"
	EventCancelled    EventType = "cancelled"
	EventExpired      EventType = "expired"
	EventSeen         EventType = "seen" // a responder's receipt
)

// Event is one entry of the events stream that every instance's hub reads
// and fans out to responders. It carries no personal data: ids, a type, a
// team and a priority. A dashboard that wants more fetches the alert view
// it is allowed to see.
//
// In Redis an event is a stream entry with fields "type", "alert", "team",
// "case" (case id, or empty for an unknown sender; used only to filter out
// staff excluded from the case, never sent to clients), "priority" (integer)
// and "at" (unix milliseconds). ID is the stream entry id, which is also the
// resume point a reconnecting dashboard sends back.
type Event struct {
	ID    string    `json:"id"`
	Type  EventType `json:"type"`
	Alert string    `json:"alert"`
	Team  string    `json:"team"`
	Case  string    `json:"-"`
	// Only, when set, is the one staff member the event is for: a
	// practice alert's caseworker (stream field "only"; never sent).
	Only string `json:"-"`
	// Excluded, when ExcludedKnown, are the staff the case excludes as the
	// intake read them with the signal (stream field "ex"): the hub's live
	// fan-out uses them instead of looking the case up again.
	Excluded      []string  `json:"-"`
	ExcludedKnown bool      `json:"-"`
	Priority      int       `json:"priority"`
	At            time.Time `json:"at"`
}
