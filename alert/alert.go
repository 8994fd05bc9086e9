package alert

import (
	"fmt"
	"time"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
)

// More sentinel errors of the alert domain (types.go has the first ones).
var (
	// ErrUnauthorized is an unknown or revoked device token.
	ErrUnauthorized = fmt.Errorf("alert: %w", problem.ErrUnauthorized)
	// ErrClosed refuses an action on an alert that is already closed.
	ErrClosed = fmt.Errorf("alert: closed: %w", problem.ErrConflict)
	// ErrStale reports that what a decision was based on changed before it
	// could be stored; the store retries.
	ErrStale = fmt.Errorf("alert: changed meanwhile: %w", problem.ErrConflict)
	// ErrNotOwner refuses contact through Waymark by anyone but the
	// responder who holds the alert's claim.
	ErrNotOwner = &problem.Refused{Detail: "Only the responder who has claimed this alert can contact them through Waymark. Claim it first, or ask the responder who has it to hand it over."}
)

// State is where an alert is in its life.
type State string

// Alert states (DESIGN.md, The alert path). The names are stored as the
// alert's plain `state` field, which other parts read.
const (
	StateRaised       State = "raised"
	StateAcknowledged State = "acknowledged"
	StateWorking      State = "working"
	StateResolved     State = "resolved"
	StateCancelled    State = "cancelled"
	StateExpired      State = "expired"
)

// Terminal reports whether s can never change again.
func (s State) Terminal() bool {
	return s == StateResolved || s == StateCancelled || s == StateExpired
}

// Live reports whether s is an alert someone must still act on.
func (s State) Live() bool {
	return s == StateRaised || s == StateAcknowledged || s == StateWorking
}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return s.Live() || s.Terminal() }

// Class is the kind of danger an alert stands for. It only ever goes up: a
// duress signal turns an open panic into duress.
type Class int

// Classes, lowest first (DESIGN.md: duress > panic > missed check-in >
// message).
const (
	ClassMessage Class = 1 + iota
	ClassMissed
	ClassPanic
	ClassDuress
)

var classNames = map[Class]string{
	ClassMessage: "message", ClassMissed: "missed-checkin", ClassPanic: "panic", ClassDuress: "duress",
}

// String is the class's stored name.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return "unknown"
}

// ParseClass reads a stored class name; unknown names read as panic, so a
// damaged record errs towards urgency.
func ParseClass(s string) Class {
	for c, n := range classNames {
		if n == s {
			return c
		}
	}
	return ClassPanic
}

// classOf is the class a signal raises, or 0 when it raises none by itself.
func classOf(sig Signal) Class {
	if sig.Duress() {
		return ClassDuress
	}
	switch sig.Kind {
	case KindPanic:
		return ClassPanic
	case KindMissed:
		return ClassMissed
	case KindMessage:
		return ClassMessage
	}
	return 0
}

// Priority orders alerts: higher first. It is class*100 + risk rank*10 +
// a bump for repeated wrong PINs, so class always dominates and the case's
// DASH risk raises an alert within its class. It stays below 900 so the
// open-alerts score (priority, then age) fits a float64 exactly.
type Priority int

// wrongPINBump is added once the wrong-PIN limit is reached.
const wrongPINBump = 5

// PriorityOf computes an alert's priority.
func PriorityOf(c Class, r casework.Risk, wrongPINs, wrongPINLimit int) Priority {
	p := int(c)*100 + r.Rank()*10
	if wrongPINLimit > 0 && wrongPINs >= wrongPINLimit {
		p += wrongPINBump
	}
	return Priority(p)
}

// Outcome is how a responder closed an alert.
type Outcome string

// Outcomes (issue 4, Responder API).
const (
	OutcomeSafe                Outcome = "safe"
	OutcomePoliceAttended      Outcome = "police-attended"
	OutcomeReferred            Outcome = "referred"
	OutcomeAccidental          Outcome = "accidental"
	OutcomeSuspectedThirdParty Outcome = "suspected-third-party"
	OutcomeUnverified          Outcome = "unverified"
	OutcomeNoContact           Outcome = "no-contact"
)

var outcomes = []Outcome{
	OutcomeSafe, OutcomePoliceAttended, OutcomeReferred, OutcomeAccidental,
	OutcomeSuspectedThirdParty, OutcomeUnverified, OutcomeNoContact,
}

// Outcomes lists the outcome vocabulary in display order.
func Outcomes() []Outcome { return append([]Outcome(nil), outcomes...) }

// Valid reports whether o is in the vocabulary.
func (o Outcome) Valid() bool {
	for _, v := range outcomes {
		if v == o {
			return true
		}
	}
	return false
}

// Review reports whether o counts towards flagging the case for review
// (repeated ones suggest someone else presses the button, or the app is
// being misused); such outcomes never downgrade the case.
func (o Outcome) Review() bool { return o == OutcomeAccidental || o == OutcomeSuspectedThirdParty }

// EntryType names a timeline entry.
type EntryType string

// Timeline entry types.
const (
	EntryRaised       EntryType = "raised"
	EntryJoined       EntryType = "signal"       // another signal joined the alert
	EntryDuress       EntryType = "duress"       // the alert turned into duress
	EntryLocation     EntryType = "location"     // a location fix (also on the trail)
	EntryMessage      EntryType = "message"      // a survivor's message
	EntrySafe         EntryType = "checkin-safe" // a check-in with the real PIN
	EntryCancelled    EntryType = "cancelled"    // real PIN within the cancel window
	EntryCancelLate   EntryType = "cancel-late"  // real PIN after the window: noted only
	EntryWrongPIN     EntryType = "wrong-pin"    // a wrong PIN on cancel or check-in
	EntryAcknowledged EntryType = "acknowledged"
	EntryWorking      EntryType = "working"
	EntryNote         EntryType = "note"
	EntryRequeued     EntryType = "requeued"  // acknowledged but idle past the timeout
	EntryQuiet        EntryType = "quiet"     // no progress within the timeout: the owner is warned
	EntryLapsed       EntryType = "lapsed"    // the claim lapsed: back in the queue, escalating
	EntryEscalated    EntryType = "escalated" // an escalation step ran
	EntryResolved     EntryType = "resolved"
	EntryFollowUp     EntryType = "followup-done" // welfare follow-up after a cancel closed
	EntryExpired      EntryType = "expired"
	EntrySchedule     EntryType = "checkins"        // the check-in schedule changed
	EntryDuressChange EntryType = "checkins-duress" // a schedule change under duress, not applied
	EntryCalled       EntryType = "called"          // the owner rang the survivor through Waymark
	EntryTexted       EntryType = "texted"          // the owner sent the case's agreed text
)

// Entry is one line of an alert's timeline. The whole entry is sealed in
// Redis (under the case's data key), including who did what.
type Entry struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Type   EntryType `json:"type"`
	By     string    `json:"by,omitempty"`      // staff id, "survivor" or "system"
	ByName string    `json:"by_name,omitempty"` // staff display name
	// Text is a survivor's message or a responder's note.
	Text pii.Text `json:"-"`
	// Location is a fix that arrived with no open alert to trail.
	Location pii.Location `json:"-"`
	// Detail is fixed wording chosen by the code, never user input.
	Detail string `json:"detail,omitempty"`
}

// Actors that are not staff.
const (
	BySurvivor = "survivor"
	BySystem   = "system"
)

// TrailPoint is one location fix on an alert's trail.
type TrailPoint struct {
	Seq      int
	Location pii.Location
	// Received is when Waymark got it; the fix's own time is in Location.
	Received time.Time
}

// TimerKind is the kind of a scheduled entry.
type TimerKind string

// Timer kinds. Each target has at most one entry of each kind.
const (
	// TimerStep is the next escalation step of an unacknowledged alert;
	// the first one falls at the end of the cancel window.
	TimerStep TimerKind = "step"
	// TimerAck falls when a claim's owner has shown no progress within
	// the acknowledgement timeout: the first time it warns them, the
	// second (ClaimLapseGrace later) the claim lapses.
	TimerAck TimerKind = "ack"
	// TimerExpire ends a message alert nobody acknowledged.
	TimerExpire TimerKind = "expire"
	// TimerCheckin falls at a case's check-in due time plus grace.
	TimerCheckin TimerKind = "checkin"
	// TimerDeliver checks, once their receipt wait is over, whether the
	// dashboard notifications of an escalation step were seen.
	TimerDeliver TimerKind = "deliver"
)

// Valid reports whether k is a known timer kind.
func (k TimerKind) Valid() bool {
	return k == TimerStep || k == TimerAck || k == TimerExpire || k == TimerCheckin || k == TimerDeliver
}

// Timer is one entry of the one scheduler: a due time, what to do and to
// what, and the fence token that must still be on the target when it runs.
type Timer struct {
	Kind   TimerKind
	Target string // alert id, or case id for TimerCheckin
	Due    time.Time
	Fence  string
	// Claim is set on a claimed timer: which claim of the entry this is.
	Claim int64
}

// ID is the entry id: one per target and kind, so setting a timer again
// replaces it. Targets are letter-only ids, so the id is safe in key names.
func (t Timer) ID() string { return t.Target + "." + string(t.Kind) }

// Mode says whether an alert is real. A practice alert comes from a
// survivor trying the button inside a practice window their caseworker
// opened; a drill is raised by `waymark drill` to test a team's rota and
// phones. Both are shown and paged under their label and counted apart
// from real alerts; anything unclear about them makes them real.
type Mode string

// Alert modes. The zero value is a real alert.
const (
	ModeReal     Mode = ""
	ModePractice Mode = "practice"
	ModeDrill    Mode = "drill"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeReal || m == ModePractice || m == ModeDrill }

// Label is the word a page, notification or dashboard card carries for
// the mode ("" for a real alert).
func (m Mode) Label() string {
	switch m {
	case ModePractice:
		return "PRACTICE"
	case ModeDrill:
		return "DRILL"
	}
	return ""
}

// Alert is one incident: everything a case (or an unknown sender) signalled
// until a responder closes it.
type Alert struct {
	ID     string
	CaseID string // "" for an unknown sender or a drill
	Team   string
	Source Source // what raised it first
	// Mode is real, practice or drill. Only contains the one staff id a
	// practice alert is shown to (the caseworker who opened the window).
	Mode  Mode
	Only  string
	Class Class
	Risk  casework.Risk // the case's DASH risk when raised
	// Priority is kept plain so other readers need not recompute it.
	Priority Priority
	State    State
	Owner    string // staff id of whoever claimed it
	// OwnerName is the claimer's display name (sealed), for "claimed by".
	OwnerName   string
	RaisedAt    time.Time
	PhoneAt     time.Time // the phone's own time for its first signal (app; shown, never used)
	UpdatedAt   time.Time
	AckedAt     time.Time
	ActiveAt    time.Time // last ack, working mark or owner's note
	ClosedAt    time.Time
	CancelUntil time.Time // end of the cancel window; zero when not cancellable
	// FollowUp marks a cancelled high-risk alert that stays visible as
	// "welfare follow-up due" until a responder closes it.
	FollowUp  bool
	Outcome   Outcome
	WrongPINs int
	// Step counts escalation steps run since the alert was last queued.
	Step int
	// Policy is the team's policy set in force when the alert was raised
	// (nil for alerts raised before policies: the defaults apply).
	Policy *oncall.PolicySet
	// Esc is where its escalation stands.
	Esc Escalation
	// Fences are the tokens of the alert's scheduled entries by kind.
	Fences map[TimerKind]string
	// Sender is an unknown sender's number (sealed under the KEK).
	Sender pii.Phone
	// PoliceRef and ChildrenRef are the references given at resolve.
	PoliceRef   pii.Text
	ChildrenRef pii.Text
	// Version counts committed changes; the store commits a change only if
	// the version it read is still current.
	Version int64
	// Record is the closing record's hand-off, retention and hold state
	// (records.go); the alert commit never writes it.
	Record RecordState
	// Seq and TrailSeq count timeline entries and trail points.
	Seq      int
	TrailSeq int

	// Timeline and Trail are loaded only for the full view.
	Timeline []Entry
	Trail    []TrailPoint
}

// Duress reports whether the alert is a duress alert.
func (a *Alert) Duress() bool { return a.Class == ClassDuress }

// Open reports whether the alert is in the queue: live, or cancelled with
// a welfare follow-up due.
func (a *Alert) Open() bool { return a.State.Live() || a.FollowUp }

// clone copies a for a change, so a decision never mutates what was read.
func (a *Alert) clone() *Alert {
	c := *a
	c.Fences = make(map[TimerKind]string, len(a.Fences))
	for k, v := range a.Fences {
		c.Fences[k] = v
	}
	c.Timeline, c.Trail = nil, nil
	c.Esc = a.Esc.clone()
	return &c
}

// Event types this file adds to those in event.go.
const (
	// EventQuiet: a working alert had no note within the acknowledgement
	// timeout; the dashboard nudges its owner.
	EventQuiet EventType = "quiet"
	// EventCheckins: a case's check-in schedule changed; the case owner's
	// dashboard shows it.
	EventCheckins EventType = "checkins"
	// EventReview: repeated accidental or suspected-third-party outcomes
	// flagged the case for review.
	EventReview EventType = "review"
)

// Commit is one atomic change decided by the rules. The store writes all of
// it in one step, and only if nothing it read meanwhile changed; otherwise
// it reads again and asks the rules again.
type Commit struct {
	// DedupeKey, when set, makes the whole commit happen at most once in
	// 48 hours: a second commit with the same key changes nothing and
	// reports the first one's alert.
	DedupeKey string
	// Alert is the alert after the change; nil when none is touched.
	Alert *Alert
	// Created says Alert is new (the case's open alert from now on).
	Created bool
	// Entries and Trail are appended to Alert's timeline and trail.
	Entries []Entry
	Trail   []TrailPoint
	// Events go to the events stream, in order.
	Events []Event
	// Timers are set (replacing any of the same id); Drop are removed.
	Timers []Timer
	Drop   []Timer
	// Pages go to the outbox, in the same atomic step.
	Pages []Page
	// Checkins is the case's check-in state after the change; nil leaves
	// it untouched.
	Checkins *casework.Checkins
	// CheckinLog is appended to the case's check-in log, which the case
	// owner sees.
	CheckinLog []Entry
	// CountOutcome increments the case's count of that outcome.
	CountOutcome Outcome
	// Retain is how long a closed alert's records are kept.
	Retain time.Duration
	// TrailRetain is how long a closed alert's location trail is kept.
	TrailRetain time.Duration
	// EventRetention trims the events stream by age after appending.
	EventRetention time.Duration
	// Retention is the alert retention in force, for trimming indexes.
	Retention time.Duration
	// GuardPolicies commits a new alert only if the policy set snapshotted
	// into it is still the team's version in the store (Store.Policies);
	// otherwise the commit is stale and decided again.
	GuardPolicies bool
}

// Result is what a commit reports back.
type Result struct {
	// AlertID is the alert touched (or, for a duplicate, the one the first
	// commit touched); "" when none.
	AlertID string
	// Duplicate says the dedupe key was seen before: nothing changed.
	Duplicate bool
	// EventID is the stream id of the last event appended.
	EventID string
}

// ValidAlertID reports whether id has the shape of an alert id.
func ValidAlertID(id string) bool { return randid.Valid(id, "a_", 20) }
