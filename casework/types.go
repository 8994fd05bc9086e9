package casework

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata"

	"waymark/pii"
	"waymark/problem"
	"waymark/wallclock"
)

// Sentinel errors of the alert domain.
var (
	ErrNotFound   = fmt.Errorf("alert: %w", problem.ErrNotFound)
	ErrConflict   = fmt.Errorf("alert: %w", problem.ErrConflict)
	ErrForbidden  = fmt.Errorf("alert: %w", problem.ErrForbidden)
	ErrLegalHold  = fmt.Errorf("alert: legal hold: %w", problem.ErrConflict)
	ErrNotAllowed = fmt.Errorf("alert: not allowed: %w", problem.ErrForbidden)
)

// Risk is the case's DASH risk level.
type Risk string

// DASH risk levels.
const (
	RiskStandard Risk = "standard"
	RiskMedium   Risk = "medium"
	RiskHigh     Risk = "high"
)

// Valid reports whether r is a known level.
func (r Risk) Valid() bool { return r == RiskStandard || r == RiskMedium || r == RiskHigh }

// Rank orders risk levels: standard 0, medium 1, high 2.
func (r Risk) Rank() int {
	switch r {
	case RiskHigh:
		return 2
	case RiskMedium:
		return 1
	}
	return 0
}

// Channels are the ways it is safe to contact a survivor.
type Channels struct {
	Call      bool `json:"call"`
	SMS       bool `json:"sms"`
	Voicemail bool `json:"voicemail"`
}

// Window is a weekly safe-contact window in Europe/London wall-clock time.
// To before From means the window runs past midnight into the next day.
type Window struct {
	Days []string `json:"days" validate:"min=1,dive,oneof=mon tue wed thu fri sat sun"`
	From string   `json:"from" validate:"required,len=5"` // "HH:MM"
	To   string   `json:"to" validate:"required,len=5"`   // "HH:MM"; "24:00" allowed
}

// ContactPlan is when and how a responder may contact the survivor, and
// what to say first.
type ContactPlan struct {
	Windows     []Window
	Channels    Channels
	OpeningLine pii.Text
}

// VerdictCode is the server's decision on contacting the survivor now.
type VerdictCode string

// Contact verdicts (discretion rule 4).
const (
	SafeToCall   VerdictCode = "SAFE TO CALL"
	TextOnly     VerdictCode = "TEXT ONLY"
	DoNotContact VerdictCode = "DO NOT CONTACT"
)

// Verdict is a contact verdict with the reason shown to the responder.
type Verdict struct {
	Code   VerdictCode `json:"code"`
	Reason string      `json:"reason"`
	// Until is when the current window ends (SAFE TO CALL / TEXT ONLY) or
	// when the next one starts (DO NOT CONTACT outside a window); zero if none.
	Until time.Time `json:"until,omitzero"`
}

var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Validate checks the windows; field names follow the JSON request
// (safe_contact.windows[i].from).
func (p ContactPlan) Validate(inv *problem.Invalid, field string) {
	for i, w := range p.Windows {
		name := fmt.Sprintf("%s.windows[%d]", field, i)
		if len(w.Days) == 0 {
			inv.Add(name+".days", "must name at least one day")
		}
		for _, d := range w.Days {
			if !slices.Contains(dayNames[:], d) {
				inv.Add(name+".days", "must be days mon, tue, wed, thu, fri, sat or sun")
				break
			}
		}
		from, err := wallclock.ParseClock(w.From)
		if err != nil {
			inv.Add(name+".from", err.Error())
		}
		to, err2 := wallclock.ParseClock(w.To)
		if err2 != nil {
			inv.Add(name+".to", err2.Error())
		}
		if err == nil && err2 == nil && from == to {
			inv.Add(name+".to", "must differ from from")
		}
	}
}

// openAt reports whether the window covers local time t, and when it ends.
func (w Window) openAt(t time.Time) (bool, time.Time) {
	from, err1 := wallclock.ParseClock(w.From)
	to, err2 := wallclock.ParseClock(w.To)
	if err1 != nil || err2 != nil {
		return false, time.Time{}
	}
	// Check the window starting today and the one that started yesterday
	// (overnight windows). Minutes are wall-clock minutes; time.Date
	// normalises the DST gap and picks the first of a repeated hour.
	for back := 0; back <= 1; back++ {
		day := t.AddDate(0, 0, -back)
		if !slices.Contains(w.Days, dayNames[day.Weekday()]) {
			continue
		}
		y, mo, d := day.Date()
		start := time.Date(y, mo, d, from/60, from%60, 0, 0, t.Location())
		endDay := d
		if to <= from {
			endDay++
		}
		end := time.Date(y, mo, endDay, to/60, to%60, 0, 0, t.Location())
		if !t.Before(start) && t.Before(end) {
			return true, end
		}
	}
	return false, time.Time{}
}

// nextStart is the next time at or after t that the window opens.
func (w Window) nextStart(t time.Time) time.Time {
	from, err := wallclock.ParseClock(w.From)
	if err != nil {
		return time.Time{}
	}
	for i := 0; i <= 7; i++ {
		day := t.AddDate(0, 0, i)
		if !slices.Contains(w.Days, dayNames[day.Weekday()]) {
			continue
		}
		y, mo, d := day.Date()
		start := time.Date(y, mo, d, from/60, from%60, 0, 0, t.Location())
		if !start.Before(t) {
			return start
		}
	}
	return time.Time{}
}

// VerdictAt decides whether a responder may contact the survivor at now.
// Any duress signal forces DO NOT CONTACT: someone may be watching the phone.
// With no window recorded the answer is DO NOT CONTACT too: contact happens
// only when the server can say it is safe.
func (p ContactPlan) VerdictAt(now time.Time, duress bool) Verdict {
	if duress {
		return Verdict{Code: DoNotContact, Reason: "duress signal: someone may be watching the phone"}
	}
	if !p.Channels.Call && !p.Channels.SMS {
		return Verdict{Code: DoNotContact, Reason: "no safe channel recorded"}
	}
	if len(p.Windows) == 0 {
		return Verdict{Code: DoNotContact, Reason: "no safe-contact window recorded"}
	}
	local := now.In(wallclock.London())
	var until time.Time
	open := false
	for _, w := range p.Windows {
		if ok, end := w.openAt(local); ok {
			open = true
			if end.After(until) {
				until = end
			}
		}
	}
	if !open {
		var next time.Time
		for _, w := range p.Windows {
			if s := w.nextStart(local); !s.IsZero() && (next.IsZero() || s.Before(next)) {
				next = s
			}
		}
		return Verdict{Code: DoNotContact, Reason: "outside the safe-contact windows", Until: next}
	}
	if p.Channels.Call {
		return Verdict{Code: SafeToCall, Reason: "inside a safe-contact window", Until: until}
	}
	return Verdict{Code: TextOnly, Reason: "inside a safe-contact window; calls are not safe", Until: until}
}

// CommNeed is a communication need recorded on a case.
type CommNeed string

// Communication needs.
const (
	NeedVoice       CommNeed = "voice"
	NeedTextOnly    CommNeed = "text-only"
	NeedBSL         CommNeed = "bsl"
	NeedInterpreter CommNeed = "interpreter"
)

// Children records children in the household: a count and age bands, never
// names.
type Children struct {
	Count    int      `json:"count"`
	AgeBands []string `json:"age_bands,omitempty"` // "0-4", "5-10", "11-15", "16-17"
}

// ChildAgeBands are the age bands a case may record.
var childAgeBands = []string{"0-4", "5-10", "11-15", "16-17"}

// ValidAgeBand reports whether b is one of the recorded age bands.
func ValidAgeBand(b string) bool { return slices.Contains(childAgeBands, b) }

// Communication describes how to communicate with the survivor.
type Communication struct {
	Language          string     `json:"language,omitempty"` // ISO 639-1, e.g. "en", "ur", "pl"
	Needs             []CommNeed `json:"needs,omitempty"`
	InterpreterGender string     `json:"interpreter_gender,omitempty"` // "female", "male", "any"
}

// Summary is a short human summary, e.g. "ur; interpreter (female); text-only".
func (c Communication) Summary() string {
	var parts []string
	if c.Language != "" {
		parts = append(parts, c.Language)
	}
	for _, n := range c.Needs {
		s := string(n)
		if n == NeedInterpreter && c.InterpreterGender != "" && c.InterpreterGender != "any" {
			s += " (" + c.InterpreterGender + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
