package oncall

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"waymark/casework"
	"waymark/pii"
	"waymark/problem"
)

// Channel is how a page reaches someone.
type Channel string

// Channels of a page.
const (
	// ChannelDashboard is the live dashboard: delivered only when the
	// responder's client confirms it within the receipt wait.
	ChannelDashboard Channel = "dashboard"
	ChannelSMS       Channel = "sms"
	// ChannelVoice is a phone call playing a neutral message.
	ChannelVoice Channel = "voice"
	// ChannelWebPush is a browser push notification, where configured.
	ChannelWebPush Channel = "webpush"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	return c == ChannelDashboard || c == ChannelSMS || c == ChannelVoice || c == ChannelWebPush
}

// Phone reports whether c needs a phone number.
func (c Channel) Phone() bool { return c == ChannelSMS || c == ChannelVoice }

// Noun names a page through c in a sentence: "a text", "a call".
func (c Channel) Noun() string {
	switch c {
	case ChannelSMS:
		return "a text"
	case ChannelVoice:
		return "a call"
	case ChannelWebPush:
		return "a notification"
	case ChannelDashboard:
		return "the dashboard"
	}
	return string(c)
}

// Did says in plain words that whom was paged through c: "Texted Ruth
// Okafor", "Rang the 24/7 fallback".
func (c Channel) Did(whom string) string {
	switch c {
	case ChannelSMS:
		return "Texted " + whom
	case ChannelVoice:
		return "Rang " + whom
	case ChannelWebPush:
		return "Sent a notification to " + whom
	case ChannelDashboard:
		return "Showed it on the dashboard of " + whom
	}
	return "Paged " + whom
}

// Whom names who a step pages.
type Whom string

// Whom values. A named person is "staff:<staff id>".
const (
	WhomPrimary     Whom = "oncall:primary"
	WhomSecondary   Whom = "oncall:secondary"
	WhomDutyManager Whom = "duty-manager"
	WhomCaseOwner   Whom = "case-owner"
	WhomTeam        Whom = "team"
	WhomFallback    Whom = "fallback"
	whomStaff            = "staff:"
)

// Tier is the rota tier w pages, if it pages one.
func (w Whom) Tier() (Tier, bool) {
	switch w {
	case WhomPrimary:
		return TierPrimary, true
	case WhomSecondary:
		return TierSecondary, true
	case WhomDutyManager:
		return TierDutyManager, true
	}
	return "", false
}

// Staff is the staff id of a named person, if w names one.
func (w Whom) Staff() (string, bool) {
	return strings.CutPrefix(string(w), whomStaff)
}

// Step is one escalation step: whom to page, through which channels (tried
// in order for each person until one is delivered), and how long to wait
// for a claim before the next step.
type Step struct {
	Whom []Whom    `json:"whom"`
	How  []Channel `json:"how"`
	Wait Duration  `json:"wait"`
	// Unreached is what a failed page does (refused, undelivered, or a
	// call not taken): try the same person's next channel (the default),
	// or leave them for the next step.
	Unreached Unreached `json:"if_unreached,omitempty"`
}

// String says whom the step pages and how: "primary and secondary by
// dashboard, then sms".
func (s Step) String() string {
	whom := make([]string, len(s.Whom))
	for i, w := range s.Whom {
		whom[i] = string(w)
	}
	how := make([]string, len(s.How))
	for i, c := range s.How {
		how[i] = string(c)
	}
	return strings.Join(whom, " and ") + " by " + strings.Join(how, ", then ")
}

// Unreached is what a step does when a page to one of its people fails.
type Unreached string

// What a failed page does.
const (
	// UnreachedNextChannel tries the same person's next channel; the
	// default.
	UnreachedNextChannel Unreached = "next-channel"
	// UnreachedNextStep tries none of their other channels: once nobody
	// in the step can be reached, the next step (the next person) runs
	// at once.
	UnreachedNextStep Unreached = "next-step"
)

// fallback reports whether the step pages the 24/7 fallback.
func (s Step) fallback() bool { return slices.Contains(s.Whom, WhomFallback) }

// Policy is how one risk level of a team escalates. The last step always
// pages the deployment's 24/7 fallback. The steps before it run Repeat+1
// times, then the fallback step; then the whole sequence starts again,
// for as long as nobody claims the alert. FallbackAfter, when set, brings
// the fallback step forward: it runs once the alert has been unclaimed that
// long since it was raised, whatever step it is on.
type Policy struct {
	Steps  []Step `json:"steps"`
	Repeat int    `json:"repeat"`
	// AckTimeout is how long a claim may go unmarked as working; zero
	// means the deployment's (WAYMARK_ACK_TIMEOUT).
	AckTimeout    Duration `json:"ack_timeout,omitempty"`
	FallbackAfter Duration `json:"fallback_after,omitempty"`
}

// period is the length of one pass of the sequence.
func (p Policy) period() int {
	m := len(p.Steps) - 1
	return m*(p.Repeat+1) + 1
}

// StepAt is the step run at position k of the sequence (0 first), and
// whether it is the fallback step.
func (p Policy) StepAt(k int) (Step, bool) {
	if len(p.Steps) == 0 {
		return Step{Whom: []Whom{WhomFallback}, How: []Channel{ChannelVoice, ChannelSMS}, Wait: Duration(5 * time.Minute)}, true
	}
	per := p.period()
	i := k % per
	if i == per-1 {
		return p.Steps[len(p.Steps)-1], true
	}
	return p.Steps[i%(len(p.Steps)-1)], false
}

// fallbackIndex is the position of the next fallback step at or after k.
func (p Policy) FallbackIndex(k int) int {
	per := p.period()
	return k - k%per + per - 1
}

// PolicySet is a team's escalation policies, one per risk level. It is
// snapshotted into every alert when raised, so a change applies to new
// alerts only.
type PolicySet struct {
	Team    string                   `json:"team"`
	Version int64                    `json:"version"`
	Levels  map[casework.Risk]Policy `json:"levels"`
	SetAt   time.Time                `json:"set_at"`
	SetBy   string                   `json:"set_by,omitempty"`
}

// For is the policy of a risk level, the default one when the set has none.
func (ps *PolicySet) For(r casework.Risk) Policy {
	if ps != nil {
		if p, ok := ps.Levels[r]; ok && len(p.Steps) > 0 {
			return p
		}
	}
	return DefaultPolicies().Levels[r]
}

// DefaultPolicies are the policies of a team that set none. High risk pages
// the on-call primary and the case owner at once and moves on quickly; the
// fallback is phoned after ten minutes at the latest.
func DefaultPolicies() *PolicySet {
	mins := func(n int) Duration { return Duration(time.Duration(n) * time.Minute) }
	return &PolicySet{Levels: map[casework.Risk]Policy{
		casework.RiskHigh: {
			Steps: []Step{
				{Whom: []Whom{WhomPrimary, WhomCaseOwner}, How: []Channel{ChannelDashboard, ChannelSMS}, Wait: mins(2)},
				{Whom: []Whom{WhomSecondary}, How: []Channel{ChannelDashboard, ChannelSMS, ChannelVoice}, Wait: mins(2)},
				{Whom: []Whom{WhomDutyManager}, How: []Channel{ChannelSMS, ChannelVoice}, Wait: mins(3)},
				{Whom: []Whom{WhomFallback}, How: []Channel{ChannelVoice, ChannelSMS}, Wait: mins(5)},
			},
			FallbackAfter: mins(10),
		},
		casework.RiskMedium: {
			Steps: []Step{
				{Whom: []Whom{WhomPrimary}, How: []Channel{ChannelDashboard, ChannelSMS}, Wait: mins(5)},
				{Whom: []Whom{WhomPrimary, WhomSecondary}, How: []Channel{ChannelSMS, ChannelVoice}, Wait: mins(5)},
				{Whom: []Whom{WhomDutyManager}, How: []Channel{ChannelSMS, ChannelVoice}, Wait: mins(10)},
				{Whom: []Whom{WhomFallback}, How: []Channel{ChannelVoice, ChannelSMS}, Wait: mins(10)},
			},
		},
		casework.RiskStandard: {
			Steps: []Step{
				{Whom: []Whom{WhomPrimary}, How: []Channel{ChannelDashboard, ChannelSMS}, Wait: mins(10)},
				{Whom: []Whom{WhomSecondary}, How: []Channel{ChannelDashboard, ChannelSMS}, Wait: mins(10)},
				{Whom: []Whom{WhomDutyManager}, How: []Channel{ChannelSMS}, Wait: mins(15)},
				{Whom: []Whom{WhomFallback}, How: []Channel{ChannelVoice, ChannelSMS}, Wait: mins(15)},
			},
		},
	}}
}

// Duration is a time.Duration written as Go text ("90s", "2m") in JSON.
type Duration time.Duration

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes "2m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads Go duration text; a bare number is refused (is 12
// seconds or minutes?).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be text such as 90s or 2m")
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("a duration must be text such as 90s or 2m")
	}
	*d = Duration(v)
	return nil
}

// FileCount is a whole number in a file, written as a number or as text.
type FileCount int

// UnmarshalJSON accepts 2 or "2".
func (c *FileCount) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*c = FileCount(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a whole number")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("must be a whole number")
	}
	*c = FileCount(n)
	return nil
}

// PolicyFile is a team's policies as an administrator writes them (YAML
// or JSON). A level left out keeps the default.
//
//	high:
//	  ack_timeout: 10m
//	  fallback_after: 10m
//	  repeat: 0
//	  steps:
//	    - {whom: [oncall:primary, case-owner], how: [dashboard, sms], wait: 2m}
//	    - {whom: [oncall:secondary], how: [dashboard, sms, voice], wait: 2m}
//	    - {whom: [duty-manager], how: [sms, voice], wait: 3m}
//	    - {whom: [fallback], how: [voice, sms], wait: 5m}
type PolicyFile struct {
	Team     string           `json:"team,omitempty" yaml:"team,omitempty"`
	High     *PolicyLevelFile `json:"high,omitempty" yaml:"high,omitempty"`
	Medium   *PolicyLevelFile `json:"medium,omitempty" yaml:"medium,omitempty"`
	Standard *PolicyLevelFile `json:"standard,omitempty" yaml:"standard,omitempty"`
}

// PolicyLevelFile is one level's policy as written.
type PolicyLevelFile struct {
	AckTimeout    string     `json:"ack_timeout,omitempty" yaml:"ack_timeout,omitempty"`
	FallbackAfter string     `json:"fallback_after,omitempty" yaml:"fallback_after,omitempty"`
	Repeat        FileCount  `json:"repeat,omitempty" yaml:"repeat,omitempty"`
	Steps         []StepFile `json:"steps" yaml:"steps"`
}

// StepFile is one step as written: whom is on-call tiers (oncall:primary,
// oncall:secondary, duty-manager), case-owner, team, fallback, or a named
// person staff:<username or staff id>; how is dashboard, sms, voice,
// webpush.
type StepFile struct {
	Whom []string `json:"whom" yaml:"whom"`
	How  []string `json:"how" yaml:"how"`
	Wait string   `json:"wait" yaml:"wait"`
	// IfUnreached is next-channel (the default) or next-step.
	IfUnreached string `json:"if_unreached,omitempty" yaml:"if_unreached,omitempty"`
}

// Policy bounds.
const (
	maxSteps   = 20
	maxRepeat  = 10
	minWait    = time.Second
	maxWait    = 24 * time.Hour
	minAck     = time.Minute
	maxAck     = 24 * time.Hour
	minFbAfter = time.Minute
)

// CompilePolicies checks a policy file for team and returns the set in
// force after it: the levels it names replace the defaults. Every problem
// is named by its place in the file (high.steps[1].wait). resolve looks up
// named people.
func CompilePolicies(f PolicyFile, team string, resolve Resolver) (*PolicySet, error) {
	inv := &problem.Invalid{}
	if f.Team != "" && f.Team != team {
		inv.Add("team", "the file is for team "+quoteID(f.Team)+", not "+team)
	}
	ps := DefaultPolicies()
	ps.Team = team
	for _, lv := range []struct {
		risk casework.Risk
		f    *PolicyLevelFile
	}{{casework.RiskHigh, f.High}, {casework.RiskMedium, f.Medium}, {casework.RiskStandard, f.Standard}} {
		if lv.f == nil {
			continue
		}
		p := compileLevel(inv, string(lv.risk)+".", lv.risk, lv.f, resolve)
		ps.Levels[lv.risk] = p
	}
	if f.High == nil && f.Medium == nil && f.Standard == nil {
		inv.Add("high", "the file sets no level: give high, medium or standard")
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	return ps, nil
}

func compileLevel(inv *problem.Invalid, at string, risk casework.Risk, f *PolicyLevelFile, resolve Resolver) Policy {
	p := Policy{Repeat: int(f.Repeat)}
	dur := func(name, s string, def, lo, hi time.Duration, optional bool) Duration {
		s = strings.TrimSpace(s)
		if s == "" {
			if !optional {
				inv.Add(name, "is required")
			}
			return Duration(def)
		}
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			inv.Add(name, "must be a duration such as 90s, 2m or 1h")
		case d <= 0:
			inv.Add(name, "must be more than zero")
		case d < lo || d > hi:
			inv.Add(name, fmt.Sprintf("must be from %s to %s", lo, hi))
		}
		return Duration(d)
	}
	def := DefaultPolicies().Levels[risk]
	// Unset, the deployment's WAYMARK_ACK_TIMEOUT applies.
	p.AckTimeout = dur(at+"ack_timeout", f.AckTimeout, 0, minAck, maxAck, true)
	if strings.TrimSpace(f.FallbackAfter) != "" {
		p.FallbackAfter = dur(at+"fallback_after", f.FallbackAfter, 0, minFbAfter, maxWait, true)
	} else if risk == casework.RiskHigh {
		p.FallbackAfter = def.FallbackAfter
	}
	if p.Repeat < 0 || p.Repeat > maxRepeat {
		inv.Add(at+"repeat", fmt.Sprintf("must be from 0 to %d", maxRepeat))
	}
	switch {
	case len(f.Steps) == 0:
		inv.Add(at+"steps", "are required, and the last must page the fallback")
		return p
	case len(f.Steps) > maxSteps:
		inv.Add(at+"steps", fmt.Sprintf("at most %d steps", maxSteps))
		return p
	}
	for i, sf := range f.Steps {
		sat := fmt.Sprintf("%ssteps[%d].", at, i)
		s := Step{}
		if len(sf.Whom) == 0 {
			inv.Add(sat+"whom", "is required")
		}
		for _, w := range sf.Whom {
			w = strings.TrimSpace(w)
			switch Whom(w) {
			case WhomPrimary, WhomSecondary, WhomDutyManager, WhomCaseOwner, WhomTeam, WhomFallback:
				s.Whom = append(s.Whom, Whom(w))
				continue
			case "oncall:duty-manager":
				s.Whom = append(s.Whom, WhomDutyManager)
				continue
			}
			ref, ok := strings.CutPrefix(w, whomStaff)
			if !ok {
				inv.Add(sat+"whom", "must be oncall:primary, oncall:secondary, duty-manager, case-owner, team, fallback or staff:<username>")
				continue
			}
			id, bad := resolve(strings.TrimSpace(ref))
			if bad != "" {
				inv.Add(sat+"whom", bad)
				continue
			}
			s.Whom = append(s.Whom, Whom(whomStaff+id))
		}
		slices.Sort(s.Whom)
		s.Whom = slices.Compact(s.Whom)
		if len(sf.How) == 0 {
			inv.Add(sat+"how", "is required")
		}
		for _, h := range sf.How {
			c := Channel(strings.TrimSpace(h))
			if !c.Valid() {
				inv.Add(sat+"how", "must be dashboard, sms, voice or webpush")
				continue
			}
			if !slices.Contains(s.How, c) {
				s.How = append(s.How, c)
			}
		}
		s.Wait = dur(sat+"wait", sf.Wait, 0, minWait, maxWait, false)
		switch u := Unreached(strings.TrimSpace(sf.IfUnreached)); u {
		case "", UnreachedNextChannel:
		case UnreachedNextStep:
			s.Unreached = u
		default:
			inv.Add(sat+"if_unreached", "must be next-channel (try their next channel) or next-step (move on to the next step)")
		}
		if s.fallback() && !slices.ContainsFunc(s.How, Channel.Phone) {
			inv.Add(sat+"how", "the fallback has no dashboard: include voice or sms")
		}
		p.Steps = append(p.Steps, s)
	}
	if last := p.Steps[len(p.Steps)-1]; !last.fallback() {
		inv.Add(fmt.Sprintf("%ssteps[%d].whom", at, len(p.Steps)-1), "the last step must page the fallback: every policy ends in the 24/7 fallback")
	}
	return p
}

// Fallback is the deployment's 24/7 fallback: an out-of-hours service or
// duty line that every escalation ends in.
type Fallback struct {
	Phone pii.Phone
	// Name is the service's name, shown to staff (never a person's).
	Name string
}

// Set reports whether a fallback number is configured.
func (f Fallback) Set() bool { return !f.Phone.IsZero() }
