package alert

import (
	"time"
)

// Records and practice (DESIGN.md). Waymark is the live layer, not the case
// file: when an alert closes, its closing record goes to the service's
// case-management system, signed, retried until that system acknowledges
// it, and only then does the retention clock for the alert's sealed details
// start. What outlives an alert is a set of counts without identity, for the
// commissioners' report. A legal hold on the alert or its case stops every
// expiry and erasure.

// Handoff is where an alert's closing record is.
type Handoff string

// Hand-off states, stored as the alert hash's plain `handoff` field.
const (
	// HandoffNone: the alert has not closed yet.
	HandoffNone Handoff = ""
	// HandoffPending: closed; the record is not yet filed ("record not yet
	// filed" on the dashboard). Retention has not started.
	HandoffPending Handoff = "pending"
	// HandoffFiled: the case-management endpoint acknowledged the record.
	HandoffFiled Handoff = "filed"
	// HandoffExported: `waymark export alert` wrote the record to a file.
	HandoffExported Handoff = "exported"
)

// Done reports whether the record has left Waymark (filed or exported), so
// the retention clock runs.
func (h Handoff) Done() bool { return h == HandoffFiled || h == HandoffExported }

// RecordState is the records side of an alert: its hand-off, the retention
// clock and any legal hold. The store keeps it in plain fields of the alert
// hash that the alert commit never writes, so the two cannot clobber each
// other.
type RecordState struct {
	Handoff Handoff
	// Rev counts closing-record revisions: a note added after the close
	// queues the record again with the next revision.
	Rev int
	// Tries counts failed deliveries of the current revision; LastError
	// is the last failure in fixed wording (never personal data).
	Tries     int
	LastError string
	NextTry   time.Time
	// FiledAt is when the current revision was filed or exported: the
	// start of the retention clock.
	FiledAt time.Time
	// Hold is a legal hold on this alert (the case's hold is on the case).
	Hold bool
	// Summarized says the alert is already counted in the report.
	Summarized bool
}
