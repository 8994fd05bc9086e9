package live

import (
	"strings"

	"waymark/alert"
)

// The events stream (keys.events()). commitScript appends one entry per
// alert change, in the same atomic step as the change itself, so nothing is
// announced that was not stored and nothing stored goes unannounced. Fields:
//
//	type      alert.EventType
//	alert     alert id ("" for a case-level event such as "checkins")
//	team      team id
//	case      case id, or "" for an unknown sender (the hub uses it only to
//	          leave out staff excluded from the case)
//	only      present on a practice alert's events: the one staff id they
//	          are for (the caseworker who opened the practice window)
//	ex        present on the intake's events: the staff ids the case
//	          excludes, space-separated, as read with the signal (staff ids
//	          only; the case record keeps the same list in plain)
//	priority  integer
//	at        unix ms, from the injected clock
//
// Ids and numbers only: nothing personal. The stream is trimmed by age
// (XTRIM MINID at the new entry's own Redis time minus the retention, exact,
// in the same script), never by count, so a burst of alerts cannot push out
// events a reconnecting dashboard has not seen yet. The hub's reading side
// is in hub.go.

// EventFields are the stream fields of e, in XADD order.
func EventFields(e alert.Event) []any {
	f := []any{"type", string(e.Type), "alert", e.Alert, "team", e.Team, "case", e.Case,
		"priority", e.Priority, "at", e.At.UnixMilli()}
	if e.Only != "" {
		f = append(f, "only", e.Only)
	}
	if e.ExcludedKnown {
		f = append(f, "ex", strings.Join(e.Excluded, " "))
	}
	return f
}
