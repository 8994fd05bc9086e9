package alert

import (
	"time"

	"waymark/casework"
	"waymark/pii"
	"waymark/problem"
)

// Source is where a signal came from.
type Source string

// Sources of signals.
const (
	SourceApp     Source = "app"
	SourceSMS     Source = "sms"
	SourceCheckin Source = "checkin" // the scheduler noticing a missed check-in
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return s == SourceApp || s == SourceSMS || s == SourceCheckin }

// Kind is what a signal asks for.
type Kind string

// Kinds of signals. Panic, message and missed check-in raise an alert (or
// join the case's open one); the others act on the open alert or the
// check-in schedule and raise only when they carry a duress PIN.
const (
	KindPanic    Kind = "panic"
	KindCheckin  Kind = "checkin"
	KindCancel   Kind = "cancel"
	KindLocation Kind = "location"
	KindMessage  Kind = "message"
	KindMissed   Kind = "missed-checkin"
	// KindSchedule is a change to the check-in schedule (PUT or DELETE
	// /v1/app/checkins): it needs the real PIN like a check-in.
	KindSchedule Kind = "schedule"
	// KindSettings is the disguised app opening its hidden settings (or
	// forgetting the phone) with a PIN: the real PIN changes nothing, the
	// duress PIN raises a duress alert, a wrong one counts as wrong.
	KindSettings Kind = "settings"
)

// AppKinds are the kinds the disguised app may send to /v1/app/signal.
var appKinds = []Kind{KindPanic, KindCheckin, KindCancel, KindLocation, KindMessage}

// ValidAppKind reports whether k may come from the app's signal endpoint.
func ValidAppKind(k Kind) bool {
	for _, a := range appKinds {
		if a == k {
			return true
		}
	}
	return false
}

// Signal is one input from a survivor or about one: an SMS code word, an app
// button, a location fix, a check-in, a missed check-in.
type Signal struct {
	Source Source
	Kind   Kind
	// CaseID is the survivor's case; "" for an unknown sender (an SMS code
	// word from a number not enrolled goes to triage).
	CaseID string
	// Team routes an unknown sender's alert (the triage team); a case's
	// alert always goes to the case's team.
	Team string
	// PIN is the result of checking the PIN the signal carried.
	PIN casework.PIN
	// DuressWord is set when an SMS carried a duress code word.
	DuressWord bool
	// Unconfirmed is set when an SMS only nearly matched a code word: it
	// still raises (unclear goes to a human), marked for the responder.
	Unconfirmed bool
	Location    pii.Location
	// Message is the survivor's text. Responders see it for app signals
	// and SMS messages; for an SMS that matched a code word it is never
	// shown (it holds the word, perhaps a PIN): Hint is shown instead.
	Message pii.Text
	// Hint is an SMS's free text around the matched code word, with the
	// word and any PIN removed (codeword.Match.Hint).
	Hint pii.Text
	// Sender is an unknown SMS sender's number, kept sealed on the alert so
	// triage can reveal it; zero for cases.
	Sender pii.Phone
	// Media counts the attachments an SMS carried. Twilio holds them;
	// Waymark never downloads them by itself, so the alert only says they
	// exist.
	Media int
	// At is when Waymark received the signal.
	At time.Time
	// SentAt is when the phone says it raised the signal (the app's outbox
	// may hold it while offline); zero when unknown. It is only shown, never
	// used to decide anything: a phone's clock may be wrong.
	SentAt time.Time
	// DedupeKey makes retries harmless: "app:" + request_id, "sms:" +
	// MessageSid, "missed:" + case + fence. The store keeps a keyed tag of
	// it for 48 hours.
	DedupeKey string
	// Schedule is the new check-in schedule for KindSchedule; nil stops
	// check-ins.
	Schedule *casework.Schedule
	// By is the staff id of a caseworker who set the schedule on the
	// case screen; "" for the survivor's own signals.
	By string
}

// Duress reports whether the signal carries duress: a duress PIN or word.
func (s Signal) Duress() bool { return s.PIN == casework.PINDuress || s.DuressWord }

// Validate checks the domain's rules for a signal, whatever its intake:
// it has a route (a case or a team), a known source and kind, what its
// kind needs, no more than a phone can send, a dedupe key and a time.
// Problems name the signal's own fields; each intake has already checked
// its request's fields under the names its callers know (the app API's at
// the HTTP edge), so a problem here is an intake's bug. It never echoes a
// value.
func (s Signal) Validate() error {
	inv := &problem.Invalid{}
	if !s.Source.Valid() {
		inv.Add("source", "unknown source")
	}
	switch s.Kind {
	case KindPanic, KindCheckin, KindCancel, KindLocation, KindMessage, KindMissed, KindSchedule, KindSettings:
	default:
		inv.Add("kind", "unknown kind")
	}
	if s.CaseID == "" && s.Team == "" {
		inv.Add("case", "a signal needs a case or a team to route to")
	}
	if s.CaseID == "" && s.Kind != KindPanic && s.Kind != KindMessage {
		inv.Add("kind", "only panic and message signals may come from an unknown sender")
	}
	if s.Kind == KindLocation && s.Location.IsZero() {
		inv.Add("location", "is required for a location signal")
	}
	// A text is what the survivor's phone sent: empty, or pictures only,
	// it still reaches the team (refusing it would lose an alert Twilio
	// never resends). The app always has words to send.
	if s.Kind == KindMessage && s.Message.IsZero() && s.Source != SourceSMS {
		inv.Add("message", "is required for a message signal")
	}
	if s.Message.Len() > MaxMessage {
		inv.Add("message", "is too long")
	}
	if s.Media < 0 || s.Media > MaxMedia {
		inv.Add("media", "must count 0 to 10 attachments")
	}
	if s.DedupeKey == "" {
		inv.Add("dedupe_key", "is required")
	}
	if s.At.IsZero() {
		inv.Add("at", "is required")
	}
	if s.Schedule != nil {
		sub := &problem.Invalid{}
		s.Schedule.Validate(sub)
		if sub.Err() != nil {
			inv.Add("schedule", "is not a valid check-in schedule")
		}
	}
	return inv.Err()
}

// MaxMessage caps a survivor's message, in bytes: one SMS holds up to
// 1,600 characters, and a character of any script takes at most 4 bytes
// of UTF-8, so any text a phone can send is kept byte-exact.
const MaxMessage = 6400

// MaxMedia is the most attachments one MMS carries (Twilio's limit).
const MaxMedia = 10
