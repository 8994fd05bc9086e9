package alert

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"waymark/internal/randid"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// This file is escalation: who is paged when, through which channel, and
// how the outbox turns queued pages into texts and calls. The decisions
// are pure Rules methods (Escalate, OnDeliver, OnPageResult, HandOver,
// Return, Rearm); the Service methods around them read what the decisions
// need (the policy snapshot, the rota, presence, receipts) and run them
// through the store's read-decide-commit, so every step, every queued page
// and every fall-through commits atomically with the alert it belongs to.

// Errors a Pager returns.
var (
	// ErrPageRefused is a final refusal: the number unsubscribed (Twilio
	// 21610), cannot take texts, or the request was rejected. Retrying
	// cannot help; the next channel is tried at once.
	ErrPageRefused = errors.New("alert: page refused")
	// ErrPageUndelivered means the provider could not be reached, or kept
	// failing, until the page's budget ran out.
	ErrPageUndelivered = fmt.Errorf("alert: page undelivered: %w", problem.ErrUnavailable)
)

// Event types escalation adds.
const (
	// EventPageFailed is an operator alert: a page went to the dead-letter
	// stream after repeated failures.
	EventPageFailed EventType = "page-failed"
	// EventHandedOver: a claimed alert passed to a named colleague.
	EventHandedOver EventType = "handed-over"
)

// Timeline entry types escalation adds.
const (
	EntryDelivery  EntryType = "delivery"    // a page was not delivered: the next channel is tried
	EntryHandover  EntryType = "handed-over" // a claimed alert passed to a colleague
	EntryRepaired  EntryType = "repaired"    // the auditor re-armed a lost escalation
	EntryPageError EntryType = "page-failed" // a page went to the dead-letter stream
)

// FallbackWho is the recipient of pages to the deployment's 24/7 fallback.
const FallbackWho = "fallback"

// SMSCheckAfter is when, after Twilio accepted a text, its delivery status
// is looked at: a text reported undelivered or failed by then moves its
// recipient to their next channel.
const SMSCheckAfter = 30 * time.Second

// ReceiptWait is how long a dashboard notification has to be confirmed by
// the responder's client before it counts as not delivered (plus one tick
// of the scheduler loop).
const ReceiptWait = 5 * time.Second

// TargetState is where one recipient of a step stands.
type TargetState string

// Target states.
const (
	TargetWaiting TargetState = "waiting" // shown on their dashboard; waiting for its receipt
	TargetPaging  TargetState = "paging"  // a page is in the outbox
	TargetSent    TargetState = "sent"    // the provider accepted the page
	TargetSeen    TargetState = "seen"    // their dashboard confirmed the alert
	TargetFailed  TargetState = "failed"  // no channel left reached them
)

// Target is one recipient of the step last run.
type Target struct {
	Who     string      `json:"who"` // staff id, or FallbackWho
	Channel Channel     `json:"channel,omitempty"`
	Rest    []Channel   `json:"rest,omitempty"` // channels still to try, in order
	State   TargetState `json:"state"`
	Page    string      `json:"page,omitempty"` // ref of its page in the outbox
	Since   time.Time   `json:"since"`
	// SID is the provider's id of a sent text, whose delivery status is
	// checked once (Checked) SMSCheckAfter later.
	SID     string `json:"sid,omitempty"`
	Checked bool   `json:"checked,omitempty"`
}

// smsCheckDue is when a sent text's delivery status is due a look, or zero.
func (t Target) smsCheckDue() time.Time {
	if t.State != TargetSent || t.Channel != ChannelSMS || t.SID == "" || t.Checked {
		return time.Time{}
	}
	return t.Since.Add(SMSCheckAfter)
}

// Escalation is where an unclaimed alert's escalation stands. It is kept
// on the alert (plain: ids and channel names only).
type Escalation struct {
	// Token changes whenever the alert is queued afresh (raised, or
	// returned to the queue); a page carries the token it was queued
	// under and is sent only while the alert still has it, is unclaimed
	// and raised.
	Token string `json:"token"`
	// Next is the position in the policy's sequence of the next step.
	Next int `json:"next"`
	// Ran is the position of the step last run; At when it ran.
	Ran int       `json:"ran"`
	At  time.Time `json:"at,omitzero"`
	// RanFallback says the step last run paged the fallback.
	RanFallback bool `json:"ran_fallback,omitempty"`
	// FallbackAt is when the fallback was last paged; zero if never.
	FallbackAt time.Time `json:"fallback_at,omitzero"`
	Targets    []Target  `json:"targets,omitempty"`
	// Warned is when a claim's owner was warned that they showed no
	// progress within the acknowledgement timeout; zero otherwise.
	Warned time.Time `json:"warned_at,omitzero"`
	// Lapsed is when the alert last went back to the queue because its
	// claim lapsed; zero once claimed again.
	Lapsed time.Time `json:"lapsed_at,omitzero"`
}

func (e Escalation) clone() Escalation {
	e.Targets = slices.Clone(e.Targets)
	for i := range e.Targets {
		e.Targets[i].Rest = slices.Clone(e.Targets[i].Rest)
	}
	return e
}

// live reports whether some recipient of the step may still be reached or
// was reached.
func (e Escalation) live() bool {
	for _, t := range e.Targets {
		if t.State != TargetFailed {
			return true
		}
	}
	return false
}

// Page is one page in the outbox: which alert, to whom, through which
// channel, until when. It holds no survivor detail, and no phone number:
// the sender looks the number up just before sending.
type Page struct {
	// ID is the outbox entry's id, set when read.
	ID string
	// Ref is the page's own id, as on the alert's target.
	Ref     string
	Alert   string
	Team    string
	Token   string
	Who     string
	Channel Channel
	// Step is the alert's step count when the page was queued.
	Step     int
	Deadline time.Time
	// Deliveries counts how many times the outbox handed the page out.
	Deliveries int64
	// Mode labels a drill's pages (a practice alert pages nobody).
	Mode Mode
}

// Plan is a step resolved against the world at the moment it runs.
type Plan struct {
	K        int
	Step     Step
	Fallback bool
	Policy   Policy
	// Tracked says recipients were resolved and delivery is followed;
	// false when no paging is wired (the step only announces itself).
	Tracked    bool
	Recipients []Recipient
	// ReceiptWait is how long a dashboard has to confirm.
	ReceiptWait time.Duration
}

// Recipient is a person (or the fallback) and the channels of the step
// that can reach them now, in the step's order.
type Recipient struct {
	Who string
	Via []Channel
}

// policyOf is the policy an alert follows now.
func policyOf(a *Alert) Policy {
	ps := a.Policy
	if ps == nil {
		ps = DefaultPolicies()
	}
	return ps.For(levelOf(a))
}

// ackTimeout is the acknowledgement timeout of a's policy, or the rules'.
func (r Rules) ackTimeout(a *Alert) time.Duration {
	if a.Policy != nil {
		if d := policyOf(a).AckTimeout.D(); d > 0 {
			return d
		}
	}
	return r.AckTimeout
}

// Escalate runs one escalation step of an unclaimed alert: the step of the
// plan, for its recipients. It queues the pages, waits for dashboard
// receipts, and arms the next step: after the step's wait, or at once
// when nobody could be reached, or earlier when the fallback deadline of a
// high-risk policy comes first. A timer whose fence is no longer on the
// alert does nothing (nil).
func (r Rules) Escalate(a *Alert, t Timer, p Plan, now time.Time) *Commit {
	if a == nil || t.Fence == "" || a.Fences[TimerStep] != t.Fence {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	delete(n.Fences, TimerStep)
	c.Drop = append(c.Drop, Timer{Kind: TimerStep, Target: a.ID})
	if a.State != StateRaised || a.Owner != "" {
		return c
	}
	n.Step++
	esc := n.Esc.clone()
	if esc.Token == "" {
		esc.Token = newFence()
	}
	esc.Ran, esc.At, esc.Next, esc.RanFallback = p.K, now, p.K+1, p.Fallback
	if p.Fallback {
		esc.FallbackAt = now
	}
	esc.Targets = nil
	detail := fmt.Sprintf("escalation step %d: %s by %s", n.Step, whomText(p.Step.Whom), howText(p.Step.How))
	if p.Tracked {
		detail += fmt.Sprintf(" (%d to page)", len(p.Recipients))
	}
	r.entry(c, n, Entry{At: now, Type: EntryEscalated, By: BySystem, Detail: detail})
	for _, rc := range p.Recipients {
		tg := r.advance(c, n, &esc, Target{Who: rc.Who, Rest: slices.Clone(rc.Via)}, now, p.Step.Wait.D())
		esc.Targets = append(esc.Targets, tg)
	}
	due := now.Add(p.Step.Wait.D())
	if p.Tracked && !esc.live() && !p.Fallback {
		// Nobody of this step can be reached: the next one at once.
		due = now
	}
	if fa := p.Policy.FallbackAfter.D(); fa > 0 && esc.FallbackAt.IsZero() && !p.Fallback {
		if dl := n.RaisedAt.Add(fa); dl.Before(due) {
			due = dl
			if due.Before(now) {
				due = now
			}
			esc.Next = p.Policy.fallbackIndex(p.K + 1)
		}
	}
	n.Esc = esc
	r.armDeliver(c, n, p.ReceiptWait)
	r.setTimer(c, n, TimerStep, due)
	n.UpdatedAt = now
	c.Alert = n
	c.Events = append(c.Events, r.event(EventEscalated, n, now))
	return c
}

// advance moves a recipient to their next channel: a dashboard waits for
// its receipt, any other channel queues a page. With none left they are
// failed.
func (r Rules) advance(c *Commit, a *Alert, esc *Escalation, tg Target, now time.Time, wait time.Duration) Target {
	tg.Page, tg.SID, tg.Checked = "", "", false
	if len(tg.Rest) == 0 {
		tg.Channel, tg.State, tg.Since = "", TargetFailed, now
		return tg
	}
	tg.Channel, tg.Rest, tg.Since = tg.Rest[0], tg.Rest[1:], now
	if len(tg.Rest) == 0 {
		tg.Rest = nil
	}
	if tg.Channel == ChannelDashboard {
		tg.State = TargetWaiting
		return tg
	}
	tg.State = TargetPaging
	tg.Page = randid.New("p_", 12)
	// A page is worth sending until the step's wait is over, and never
	// for less than a minute: a slow provider still gets its retries.
	deadline := now.Add(max(wait, time.Minute))
	c.Pages = append(c.Pages, Page{Ref: tg.Page, Alert: a.ID, Team: a.Team, Token: esc.Token,
		Who: tg.Who, Channel: tg.Channel, Step: a.Step, Deadline: deadline, Mode: a.Mode})
	return tg
}

// armDeliver sets the receipt check at the earliest end of a waiting
// dashboard notification, or drops it when none waits.
func (r Rules) armDeliver(c *Commit, a *Alert, wait time.Duration) {
	var due time.Time
	for _, t := range a.Esc.Targets {
		var end time.Time
		switch {
		case t.State == TargetWaiting:
			end = t.Since.Add(wait)
		default:
			end = t.smsCheckDue()
		}
		if !end.IsZero() && (due.IsZero() || end.Before(due)) {
			due = end
		}
	}
	if due.IsZero() {
		r.dropTimer(c, a, TimerDeliver)
		return
	}
	r.setTimer(c, a, TimerDeliver, due)
}

// Delivery is what the receipt check learnt: whose dashboard confirmed
// the alert, and which sent texts (by provider id) were reported
// undelivered or failed.
type Delivery struct {
	Seen        map[string]bool
	Undelivered map[string]bool
}

// OnDeliver checks the step last run once its dashboard notifications'
// receipt wait is over: seen ones count as delivered, the others move to
// their next channel; texts reported undelivered move on too. If the step
// then reaches nobody, the next step runs at once.
func (r Rules) OnDeliver(a *Alert, t Timer, dl Delivery, wait time.Duration, now time.Time) *Commit {
	seen := dl.Seen
	if a == nil || t.Fence == "" || a.Fences[TimerDeliver] != t.Fence {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	delete(n.Fences, TimerDeliver)
	c.Drop = append(c.Drop, Timer{Kind: TimerDeliver, Target: a.ID})
	if a.State != StateRaised || a.Owner != "" {
		return c
	}
	esc := n.Esc.clone()
	var missed []string
	for i, tg := range esc.Targets {
		if tg.State != TargetWaiting {
			continue
		}
		switch {
		case seen[tg.Who]:
			esc.Targets[i].State = TargetSeen
		case !now.Before(tg.Since.Add(wait)):
			missed = append(missed, tg.Who)
			esc.Targets[i] = r.advance(c, n, &esc, tg, now, r.stepWait(n))
		}
	}
	if len(missed) > 0 {
		r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
			Detail: fmt.Sprintf("not confirmed on the dashboard within %s by %s: trying the next channel", wait.Round(time.Second), strings.Join(missed, ", "))})
	}
	var undelivered []string
	for i, tg := range esc.Targets {
		due := tg.smsCheckDue()
		if due.IsZero() || now.Before(due) {
			continue
		}
		if dl.Undelivered[tg.SID] {
			undelivered = append(undelivered, tg.Who)
			esc.Targets[i] = r.advance(c, n, &esc, tg, now, r.stepWait(n))
			continue
		}
		esc.Targets[i].Checked = true
	}
	if len(undelivered) > 0 {
		r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
			Detail: "text reported undelivered to " + strings.Join(undelivered, ", ") + ": trying the next channel"})
	}
	n.Esc = esc
	r.armDeliver(c, n, wait)
	r.fallThrough(c, n, now)
	n.UpdatedAt = now
	c.Alert = n
	return c
}

// stepWait is the wait of the step last run.
func (r Rules) stepWait(a *Alert) time.Duration {
	s, _ := policyOf(a).StepAt(a.Esc.Ran)
	return s.Wait.D()
}

// fallThrough brings the next step forward to now when the step last run
// can no longer reach anyone (never after the fallback step: its wait
// always runs, so an unreachable fallback cannot spin).
func (r Rules) fallThrough(c *Commit, a *Alert, now time.Time) {
	if a.Esc.live() || a.Esc.RanFallback || len(a.Esc.Targets) == 0 {
		return
	}
	r.setTimer(c, a, TimerStep, now)
	r.entry(c, a, Entry{At: now, Type: EntryDelivery, By: BySystem, Detail: "nobody of this step could be reached: next step now"})
}

// OnTextFailed moves the escalation on at once when the provider reports,
// after accepting it, that a page by text did not reach its recipient
// (Twilio's status callback: 30003–30008, 21610): that recipient's next
// channel is tried now instead of at the step's next look, and the
// timeline says why in plain words. A report about a text the alert no
// longer waits on changes nothing (nil).
func (r Rules) OnTextFailed(a *Alert, sid, why string, wait time.Duration, now time.Time) *Commit {
	if a == nil || sid == "" || a.State != StateRaised || a.Owner != "" {
		return nil
	}
	esc := a.Esc.clone()
	hit := -1
	for i, tg := range esc.Targets {
		if tg.SID == sid && tg.State == TargetSent && tg.Channel == ChannelSMS && !tg.Checked {
			hit = i
		}
	}
	if hit < 0 {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	tg := esc.Targets[hit]
	esc.Targets[hit] = r.advance(c, n, &esc, tg, now, r.stepWait(n))
	next := "trying the next channel now"
	if esc.Targets[hit].State == TargetFailed {
		next = "no channel left for them"
	}
	r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
		Detail: fmt.Sprintf("text to %s not delivered (%s): %s", tg.Who, why, next)})
	n.Esc = esc
	r.armDeliver(c, n, wait)
	r.fallThrough(c, n, now)
	n.UpdatedAt = now
	c.Alert = n
	c.Events = append(c.Events, r.event(EventEscalated, n, now))
	return c
}

// TextFailed reports a page by text that the provider could not deliver
// after accepting it (sid is its id, why says it in plain words): its
// recipient's next channel is tried at once. Unknown alerts are ignored.
func (s *Service) TextFailed(ctx context.Context, alertID, sid, why string) error {
	moved := false
	_, err := s.store.DecideAlert(ctx, alertID, func(a *Alert) (*Commit, error) {
		c := s.cfg.Rules.OnTextFailed(a, sid, why, s.receiptWait(), s.now())
		moved = c != nil
		return c, nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err == nil && moved {
		s.metrics().Page(ChannelSMS, PageUndelivered)
	}
	return err
}

// PageOutcome is what became of a page.
type PageOutcome string

// Page outcomes.
const (
	PageSent    PageOutcome = "sent"    // the provider accepted it
	PageRefused PageOutcome = "refused" // final refusal (unsubscribed, no number): next channel
	PageFailed  PageOutcome = "failed"  // undelivered until its budget ran out: dead-lettered, next channel
	PageStale   PageOutcome = "stale"   // not sent: the alert was claimed or queued afresh
	// PageUndelivered: the provider accepted it, then reported it could
	// not deliver it (a text's status callback): next channel at once.
	PageUndelivered PageOutcome = "undelivered"
)

// PageResult reports a page's outcome back to its alert.
type PageResult struct {
	Page    Page
	Outcome PageOutcome
	// Reason is fixed wording (never the provider's message).
	Reason string
	// SID is the provider's id of a sent text.
	SID string
}

// OnPageResult records what became of a page. A failed or refused page
// moves its recipient to their next channel (a 21610 text falls through
// to a call); a dead-lettered one also raises an operator alert on the
// events stream. Results for an alert that was claimed or queued afresh
// since change nothing, except that a dead letter is always announced.
func (r Rules) OnPageResult(a *Alert, res PageResult, wait time.Duration, now time.Time) *Commit {
	if a == nil {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	dead := res.Outcome == PageFailed
	if dead && !a.State.Live() {
		// Announce the dead letter; the closed alert itself stays as it is.
		c.Events = append(c.Events, r.event(EventPageFailed, a, now))
		return c
	}
	current := a.State == StateRaised && a.Owner == "" && a.Esc.Token == res.Page.Token
	idx := -1
	if current {
		idx = slices.IndexFunc(n.Esc.Targets, func(t Target) bool { return t.Page == res.Page.Ref })
	}
	if idx < 0 && !dead {
		return nil
	}
	if dead {
		r.entry(c, n, Entry{At: now, Type: EntryPageError, By: BySystem,
			Detail: fmt.Sprintf("%s page to %s failed repeatedly (%s): moved to the dead-letter stream", res.Page.Channel, res.Page.Who, res.Reason)})
		c.Events = append(c.Events, r.event(EventPageFailed, n, now))
	}
	if idx >= 0 {
		esc := n.Esc.clone()
		tg := esc.Targets[idx]
		switch res.Outcome {
		case PageSent:
			esc.Targets[idx].State, esc.Targets[idx].Since, esc.Targets[idx].SID = TargetSent, now, res.SID
		case PageRefused, PageFailed:
			if !dead {
				r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
					Detail: fmt.Sprintf("%s page to %s not delivered (%s): trying the next channel", res.Page.Channel, res.Page.Who, res.Reason)})
			}
			esc.Targets[idx] = r.advance(c, n, &esc, tg, now, r.stepWait(n))
		default:
			return nil
		}
		n.Esc = esc
		r.armDeliver(c, n, wait)
		r.fallThrough(c, n, now)
	}
	n.UpdatedAt = now
	c.Alert = n
	return c
}

// Rearm gives an unclaimed alert that lost its escalation step a new one,
// due now (the auditor's repair). nil when it needs none.
func (r Rules) Rearm(a *Alert, now time.Time) *Commit {
	if a == nil || a.State != StateRaised || a.Owner != "" {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	if n.Esc.Token == "" {
		n.Esc.Token = newFence()
	}
	r.entry(c, n, Entry{At: now, Type: EntryRepaired, By: BySystem, Detail: "escalation had no pending step: re-armed by the auditor"})
	r.setTimer(c, n, TimerStep, now)
	n.UpdatedAt = now
	c.Alert = n
	return c
}

// Return puts a claimed alert back in the queue: unowned, raised, and
// escalating afresh from the policy's first step, now. why is fixed
// wording for the timeline.
func (r Rules) Return(a *Alert, why string, now time.Time) *Commit {
	if a == nil || !a.State.Live() {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	n.State, n.Owner, n.OwnerName, n.Step = StateRaised, "", "", 0
	n.Esc = Escalation{Token: newFence()}
	r.entry(c, n, Entry{At: now, Type: EntryRequeued, By: BySystem, Detail: why})
	r.dropTimer(c, n, TimerAck)
	r.dropTimer(c, n, TimerDeliver)
	r.setTimer(c, n, TimerStep, now)
	n.UpdatedAt = now
	c.Alert = n
	c.Events = append(c.Events, r.event(EventReturned, n, now))
	return c
}

// HandOver passes from's claimed alert to a colleague with a note. The
// acknowledgement timeout restarts for the new owner.
func (r Rules) HandOver(a *Alert, from, to Actor, note pii.Text, now time.Time) (*Commit, error) {
	if note.IsZero() {
		return nil, problem.Invalidf("note", "is required")
	}
	if !a.State.Live() {
		return nil, ErrClosed
	}
	if a.Owner != from.ID {
		return nil, &problem.Claimed{By: a.OwnerName}
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	// A colleague cannot see a practice alert: handed over, it is real.
	r.makeReal(c, n, now, "handed over")
	n.Owner, n.OwnerName, n.ActiveAt, n.UpdatedAt = to.ID, to.Name, now, now
	if n.State == StateRaised {
		n.State = StateAcknowledged
	}
	r.entry(c, n, Entry{At: now, Type: EntryHandover, By: from.ID, ByName: from.Name, Detail: "handed over to " + to.Name})
	r.entry(c, n, Entry{At: now, Type: EntryNote, By: from.ID, ByName: from.Name, Text: note})
	r.dropTimer(c, n, TimerStep)
	r.dropTimer(c, n, TimerDeliver)
	r.progress(c, n, now)
	c.Alert = n
	c.Events = append(c.Events, r.event(EventHandedOver, n, now))
	return c, nil
}

func whomText(ws []Whom) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = string(w)
	}
	return strings.Join(out, " and ")
}

func howText(cs []Channel) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return strings.Join(out, ", then ")
}

// PageText is the text of a page. It names the team and nothing about the
// survivor (discretion rule 4). A drill's page says DRILL first and last,
// so nobody mistakes it for a real alert nor a real one for a drill.
func PageText(team string, fallback bool, mode Mode) string {
	text := "Waymark: urgent alert for team " + team + ". Open the dashboard."
	if fallback {
		text = "Waymark: an urgent alert for team " + team + " has had no answer from its on-call staff. Please follow your Waymark out-of-hours procedure."
	}
	if l := mode.Label(); l != "" {
		text = l + ". " + text + " This is a " + l + "."
	}
	return text
}

// VoiceTwiML is the TwiML of a voice page: a neutral message, said twice,
// that names the team and nothing about the survivor.
func VoiceTwiML(team string, fallback bool, mode Mode) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(PageText(team, fallback, mode)))
	say := `<Say language="en-GB">` + b.String() + `</Say>`
	return `<?xml version="1.0" encoding="UTF-8"?><Response>` + say + `<Pause length="1"/>` + say + `</Response>`
}

// --- what escalation consumes ---

// PolicySource reads a team's policies; nil (and no error) when the team
// set none.
type PolicySource interface {
	Policies(ctx context.Context, team string) (*PolicySet, error)
}

// RotaSource reads a team's rota; nil (and no error) when it has none.
type RotaSource interface {
	Rota(ctx context.Context, team string) (*Rota, error)
}

// Person is a staff member as escalation sees them.
type Person struct {
	ID       string
	Username string
	// Name is the display name (personal: never logged).
	Name   string
	Roles  []staff.Role
	Teams  []string
	Active bool
	Phone  pii.Phone
}

// People looks staff up.
type People interface {
	// Person finds a staff member by staff id or username; an error
	// wrapping ErrNotFound when there is none.
	Person(ctx context.Context, ref string) (Person, error)
	// TeamPeople lists a team's members.
	TeamPeople(ctx context.Context, team string) ([]Person, error)
	// HasTeam reports whether the team exists.
	HasTeam(ctx context.Context, team string) (bool, error)
}

// Presence says who has a team's live dashboard open now: staff id → on
// duty.
type Presence interface {
	OnDashboard(ctx context.Context, team string) (map[string]bool, error)
}

// Receipts says whether a responder's dashboard confirmed an alert.
type Receipts interface {
	SeenAt(ctx context.Context, alertID, responder string) (time.Time, bool, error)
}

// Pager sends texts and places calls. Errors wrap ErrPageRefused (final)
// or ErrPageUndelivered (the provider kept failing until ctx ended).
type Pager interface {
	Text(ctx context.Context, to pii.Phone, body string) error
	Call(ctx context.Context, to pii.Phone, twiml string) error
}

// TextIDPager is a Pager that also returns the provider's id of a text, so
// its delivery report can be followed (SMSStatuses). Optional.
type TextIDPager interface {
	TextID(ctx context.Context, to pii.Phone, body string) (string, error)
}

// SMSStatuses keeps the delivery reports of texts (Twilio's status
// callbacks, stored by the SMS webhooks).
type SMSStatuses interface {
	// RecordPage remembers that the text sid was sent for alertID, so its
	// callbacks can be tied to the alert.
	RecordPage(ctx context.Context, sid, alertID string) error
	// Undelivered reports whether the text sid was reported undelivered
	// or failed.
	Undelivered(ctx context.Context, sid string) (bool, error)
}

// WebPusher sends a browser push notification to a staff member's
// subscribed browsers. Errors as for Pager.
type WebPusher interface {
	Push(ctx context.Context, staffID, team, label string) error
}

// PageCheck is what the outbox says just before a page is sent.
type PageCheck string

// Page checks.
const (
	PageGo   PageCheck = "go"   // still ours, the alert still unclaimed under the page's token: send
	PageDrop PageCheck = "drop" // the alert was claimed or queued afresh: the page was removed
	PageLost PageCheck = "lost" // another consumer took the page over: leave it
)

// EscalationStore is the outbox stream and the auditor's lease. Package
// store implements it.
type EscalationStore interface {
	// EnsureOutbox creates the outbox's consumer group if need be.
	EnsureOutbox(ctx context.Context) error
	// ReadPages hands out up to count new pages to consumer, waiting up
	// to block for some.
	ReadPages(ctx context.Context, consumer string, count int, block time.Duration) ([]Page, error)
	// ClaimStalePages takes over pages another consumer left idle for
	// minIdle (it died or froze).
	ClaimStalePages(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]Page, error)
	// BeginPage atomically checks that consumer still holds the page and
	// that its alert is raised, unclaimed and still under the page's
	// token, and refreshes the claim; a page whose alert moved on is
	// removed (PageDrop).
	BeginPage(ctx context.Context, p Page, consumer string) (PageCheck, error)
	// RefreshPage keeps consumer's claim fresh while it works; false when
	// another consumer has taken the page over.
	RefreshPage(ctx context.Context, p Page, consumer string) (bool, error)
	// FinishPage removes a handled page if consumer still holds it;
	// false when another consumer took it over.
	FinishPage(ctx context.Context, p Page, consumer string) (bool, error)
	// DeadPage moves a page consumer holds to the dead-letter stream with
	// a reason; false when another consumer took it over.
	DeadPage(ctx context.Context, p Page, consumer, reason string) (bool, error)
	// HoldLease takes or keeps the named lease for holder until ttl from
	// now; false when someone else holds it.
	HoldLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// TimerFences returns, for each target id, the fence of its pending
	// timer of kind (absent when it has none).
	TimerFences(ctx context.Context, kind TimerKind, targets []string) (map[string]string, error)
}

// Metrics counts what escalation does. cmd/waymark implements it with
// Prometheus; nil counts nothing.
type Metrics interface {
	Step(fallback bool)
	Page(ch Channel, outcome PageOutcome)
	DeadLetter()
	Repaired(what string)
	Audited(repairs int, err error)
	Returned()
	// Raised counts a new alert by what raised it (never by class: the
	// operator listener is private, but the fewer ways a duress signal
	// stands out, the better).
	Raised(src Source)
	// Lapsed counts a claim that lapsed (its owner showed no progress).
	Lapsed()
}

// EscalationDeps wire escalation. With Config.Escalation nil, steps still
// run on the policy waits and announce themselves on the events stream,
// but nobody is paged (the state machine's own tests).
type EscalationDeps struct {
	Store    EscalationStore
	Policies PolicySource
	Rotas    RotaSource
	People   People
	Presence Presence
	Receipts Receipts
	Pager    Pager
	// WebPush is optional: without it webpush steps fall through.
	WebPush WebPusher
	// Statuses is optional: without it a sent text counts as delivered.
	Statuses SMSStatuses
	Metrics  Metrics
	// Fallback is the 24/7 fallback. Unset, fallback steps page the
	// whole team instead (start-up warns).
	Fallback Fallback
	// Tick is the scheduler loop's tick: dashboards get ReceiptWait plus
	// one tick to confirm.
	Tick time.Duration
	// Consumer names this instance in the outbox's consumer group.
	Consumer string
	// PageBudget bounds one attempt to send a page, provider retries
	// included; default 8 s. It must stay below ClaimIdle, so a page
	// never outlives its claim.
	PageBudget time.Duration
	// ClaimIdle is how long a page may sit unrefreshed before another
	// consumer takes it over; default 10 s.
	ClaimIdle time.Duration
	// MaxDeliveries dead-letters a page the outbox handed out this often
	// (its consumers keep dying); default 5.
	MaxDeliveries int64
	// Workers is how many pages an instance sends at once; default 8.
	Workers int
}

func (d *EscalationDeps) defaults() {
	if d.Tick <= 0 {
		d.Tick = time.Second
	}
	if d.ClaimIdle <= 0 {
		d.ClaimIdle = 10 * time.Second
	}
	if d.PageBudget <= 0 || d.PageBudget >= d.ClaimIdle {
		d.PageBudget = d.ClaimIdle * 4 / 5
	}
	if d.MaxDeliveries <= 0 {
		d.MaxDeliveries = 5
	}
	if d.Workers <= 0 {
		d.Workers = 8
	}
	if d.Consumer == "" {
		d.Consumer = randid.New("c", 12)
	}
}

type nopMetrics struct{}

func (nopMetrics) Step(bool)                 {}
func (nopMetrics) Page(Channel, PageOutcome) {}
func (nopMetrics) DeadLetter()               {}
func (nopMetrics) Repaired(string)           {}
func (nopMetrics) Audited(int, error)        {}
func (nopMetrics) Returned()                 {}
func (nopMetrics) Raised(Source)             {}
func (nopMetrics) Lapsed()                   {}

// receiptWait is the dashboard's time to confirm: 5 s plus one tick.
func (s *Service) receiptWait() time.Duration {
	tick := time.Second
	if s.esc != nil {
		tick = s.esc.Tick
	}
	return ReceiptWait + tick
}

// policies reads the team's policy set to snapshot into a new alert; the
// defaults when it set none.
func (s *Service) policies(ctx context.Context, team string) (*PolicySet, error) {
	if s.esc == nil || s.esc.Policies == nil || team == "" {
		return DefaultPolicies(), nil
	}
	ps, err := s.esc.Policies.Policies(ctx, team)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = DefaultPolicies()
		ps.Team = team
	}
	return ps, nil
}

// runStep runs a due escalation step.
func (s *Service) runStep(ctx context.Context, t Timer, now time.Time) error {
	ran := false
	fallback := false
	_, err := s.store.DecideAlert(ctx, t.Target, func(a *Alert) (*Commit, error) {
		ran = false
		if a.Fences[TimerStep] != t.Fence || a.State != StateRaised || a.Owner != "" || a.Mode == ModePractice {
			return s.cfg.Rules.OnTimer(a, t, now), nil
		}
		p, err := s.plan(ctx, a, now)
		if err != nil {
			return nil, err
		}
		ran, fallback = true, p.Fallback
		return s.cfg.Rules.Escalate(a, t, p, now), nil
	})
	if err == nil && ran {
		s.metrics().Step(fallback)
	}
	return err
}

func (s *Service) metrics() Metrics {
	if s.esc == nil || s.esc.Metrics == nil {
		return nopMetrics{}
	}
	return s.esc.Metrics
}

// plan resolves the alert's next step: whom it names, now, and through
// which of its channels each can be reached.
func (s *Service) plan(ctx context.Context, a *Alert, now time.Time) (Plan, error) {
	pol := policyOf(a)
	k := a.Esc.Next
	step, fb := pol.StepAt(k)
	p := Plan{K: k, Step: step, Fallback: fb, Policy: pol, ReceiptWait: s.receiptWait()}
	if s.esc == nil {
		return p, nil
	}
	d := s.esc
	p.Tracked = true
	var brief *CaseBrief
	if a.CaseID != "" {
		b, err := s.brief(ctx, a)
		if err != nil {
			return Plan{}, err
		}
		brief = b
	}
	present := map[string]bool{}
	if d.Presence != nil {
		m, err := d.Presence.OnDashboard(ctx, a.Team)
		if err != nil {
			return Plan{}, err
		}
		present = m
	}
	var rota *Rota
	rotaRead := false
	var ids []string
	withFallback := false
	for _, w := range step.Whom {
		switch w {
		case WhomPrimary, WhomSecondary, WhomDutyManager:
			if !rotaRead && d.Rotas != nil {
				r, err := d.Rotas.Rota(ctx, a.Team)
				if err != nil {
					return Plan{}, err
				}
				rota, rotaRead = r, true
			}
			tier, _ := w.Tier()
			if rota == nil {
				// No rota: the primary tier is whoever is on duty on the
				// dashboard; the other tiers are empty (and so skipped).
				if tier == TierPrimary {
					for id, duty := range present {
						if duty {
							ids = append(ids, id)
						}
					}
				}
				continue
			}
			ids = append(ids, rota.OnCall(now)[tier]...)
		case WhomCaseOwner:
			if brief != nil && brief.Owner != "" {
				ids = append(ids, brief.Owner)
			}
		case WhomTeam:
			ps, err := d.People.TeamPeople(ctx, a.Team)
			if err != nil {
				return Plan{}, err
			}
			for _, pp := range ps {
				if pp.Active && slices.Contains(pp.Roles, staff.RoleResponder) {
					ids = append(ids, pp.ID)
				}
			}
		case WhomFallback:
			withFallback = true
		default:
			if id, ok := w.Staff(); ok {
				ids = append(ids, id)
			}
		}
	}
	if withFallback && !d.Fallback.Set() {
		// No 24/7 service configured: the whole team is the last resort.
		ps, err := d.People.TeamPeople(ctx, a.Team)
		if err != nil {
			return Plan{}, err
		}
		for _, pp := range ps {
			if pp.Active {
				ids = append(ids, pp.ID)
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if brief != nil && slices.Contains(brief.Excluded, id) {
			continue // a conflict of interest holds for pages too
		}
		pp, err := d.People.Person(ctx, id)
		if errors.Is(err, problem.ErrNotFound) {
			continue
		}
		if err != nil {
			return Plan{}, err
		}
		if !pp.Active {
			continue
		}
		var via []Channel
		for _, ch := range step.How {
			switch {
			case ch == ChannelDashboard && present[id]:
			case ch.phone() && !pp.Phone.IsZero() && d.Pager != nil:
			case ch == ChannelWebPush && d.WebPush != nil:
			default:
				continue
			}
			via = append(via, ch)
		}
		p.Recipients = append(p.Recipients, Recipient{Who: id, Via: via})
	}
	if withFallback && d.Fallback.Set() {
		var via []Channel
		for _, ch := range step.How {
			if ch.phone() && d.Pager != nil {
				via = append(via, ch)
			}
		}
		p.Recipients = append(p.Recipients, Recipient{Who: FallbackWho, Via: via})
	}
	return p, nil
}

// runDeliver checks the dashboard receipts of the step last run.
func (s *Service) runDeliver(ctx context.Context, t Timer, now time.Time) error {
	_, err := s.store.DecideAlert(ctx, t.Target, func(a *Alert) (*Commit, error) {
		if a.Fences[TimerDeliver] != t.Fence {
			return nil, nil
		}
		dl := Delivery{Seen: map[string]bool{}, Undelivered: map[string]bool{}}
		if s.esc != nil && a.State == StateRaised {
			for _, tg := range a.Esc.Targets {
				switch {
				case tg.State == TargetWaiting && s.esc.Receipts != nil:
					at, ok, err := s.esc.Receipts.SeenAt(ctx, a.ID, tg.Who)
					if err != nil {
						return nil, err
					}
					dl.Seen[tg.Who] = ok && !at.After(now)
				case !tg.smsCheckDue().IsZero() && s.esc.Statuses != nil:
					bad, err := s.esc.Statuses.Undelivered(ctx, tg.SID)
					if err != nil {
						return nil, err
					}
					dl.Undelivered[tg.SID] = bad
				}
			}
		}
		return s.cfg.Rules.OnDeliver(a, t, dl, s.receiptWait(), now), nil
	})
	return err
}

// pageResult reports a page's outcome to its alert.
func (s *Service) pageResult(ctx context.Context, res PageResult) error {
	_, err := s.store.DecideAlert(ctx, res.Page.Alert, func(a *Alert) (*Commit, error) {
		return s.cfg.Rules.OnPageResult(a, res, s.receiptWait(), s.now()), nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// ConsumerPruner is implemented by an outbox store that can forget the
// consumers instances left behind (each `waymark serve` reads the outbox
// under a name of its own).
type ConsumerPruner interface {
	PruneOutboxConsumers(ctx context.Context, self string, idle time.Duration) (int, error)
}

// Outbox consumer housekeeping: how often, and how long a consumer with no
// pending page must have been idle before it is forgotten.
const (
	pruneEvery   = 10 * time.Minute
	pruneIdleFor = 24 * time.Hour
)

// pruneConsumers forgets idle consumers when the store can.
func (s *Service) pruneConsumers(ctx context.Context) {
	pr, ok := s.esc.Store.(ConsumerPruner)
	if !ok {
		return
	}
	n, err := pr.PruneOutboxConsumers(ctx, s.esc.Consumer, pruneIdleFor)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("outbox: pruning idle consumers failed", "err", err)
	case n > 0:
		s.log.Info("outbox: idle consumers of stopped instances removed", "count", n)
	}
}

// RunOutbox sends the pages in the outbox until ctx ends: new ones, and
// ones another instance left behind (it died or froze) once they have
// been idle for ClaimIdle. Every instance runs one; each page is handled
// by one consumer at a time. It returns at once when paging is not wired.
func (s *Service) RunOutbox(ctx context.Context) error {
	if s.esc == nil || s.esc.Store == nil {
		return nil
	}
	d := s.esc
	wait := backoffWaiter()
	for {
		err := d.Store.EnsureOutbox(ctx)
		if err == nil {
			break
		}
		s.log.Warn("outbox: cannot create the consumer group; retrying", "err", err)
		if !wait(ctx) {
			return nil
		}
	}
	sem := make(chan struct{}, d.Workers)
	var mu sync.Mutex
	busy := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	wait = backoffWaiter()
	var pruned time.Time
	for ctx.Err() == nil {
		if now := time.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			s.pruneConsumers(ctx)
		}
		stale, err1 := d.Store.ClaimStalePages(ctx, d.Consumer, d.ClaimIdle, d.Workers)
		fresh, err2 := d.Store.ReadPages(ctx, d.Consumer, d.Workers, time.Second)
		if err := errors.Join(err1, err2); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("outbox: read failed; retrying", "err", err)
			if !wait(ctx) {
				return nil
			}
			continue
		}
		wait = backoffWaiter()
		for _, p := range append(stale, fresh...) {
			mu.Lock()
			if busy[p.ID] {
				mu.Unlock()
				continue
			}
			busy[p.ID] = true
			mu.Unlock()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.sendPage(ctx, p)
				mu.Lock()
				delete(busy, p.ID)
				mu.Unlock()
				<-sem
			}()
		}
	}
	return nil
}

// PumpOutbox runs one pass of the outbox without waiting: it takes over
// stale pages, reads the new ones and sends each in turn. Tests drive the
// outbox with it against an injected clock; RunOutbox is the loop.
func (s *Service) PumpOutbox(ctx context.Context) (int, error) {
	if s.esc == nil || s.esc.Store == nil {
		return 0, nil
	}
	d := s.esc
	if err := d.Store.EnsureOutbox(ctx); err != nil {
		return 0, err
	}
	stale, err := d.Store.ClaimStalePages(ctx, d.Consumer, d.ClaimIdle, 100)
	if err != nil {
		return 0, err
	}
	fresh, err := d.Store.ReadPages(ctx, d.Consumer, 100, 0)
	if err != nil {
		return 0, err
	}
	all := append(stale, fresh...)
	for _, p := range all {
		s.sendPage(ctx, p)
	}
	return len(all), nil
}

// backoffWaiter waits 100 ms, doubling to 2 s, between failed attempts.
func backoffWaiter() func(ctx context.Context) bool {
	d := 100 * time.Millisecond
	return func(ctx context.Context) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		d = min(2*d, 2*time.Second)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
}

// sendPage handles one page: checks it is still wanted just before sending,
// sends it within its budget while keeping the claim fresh, and reports
// the outcome to the alert. A page it loses to another consumer (this
// instance froze) is left alone: it sends nothing stale.
func (s *Service) sendPage(ctx context.Context, p Page) {
	d := s.esc
	log := s.log.With("alert", p.Alert, "page", p.Ref, "channel", string(p.Channel), "to", p.Who)
	now := s.now()
	var sid string // the provider's id of a text, once sent
	fail := func(outcome PageOutcome, reason string) {
		var held bool
		var err error
		if outcome == PageFailed {
			held, err = d.Store.DeadPage(ctx, p, d.Consumer, reason)
		} else {
			held, err = d.Store.FinishPage(ctx, p, d.Consumer)
		}
		switch {
		case err != nil:
			log.Warn("outbox: finishing failed; the page comes back", "err", err)
			return
		case !held:
			// Another instance took the page over while this one stalled:
			// the outcome is theirs to record.
			log.Warn("outbox: page taken over meanwhile; outcome left to its new holder")
			return
		}
		if outcome == PageFailed {
			d.metricsOr().DeadLetter()
			log.Error("OPERATOR ALERT: page moved to the dead-letter stream", "reason", reason, "deliveries", p.Deliveries)
		}
		d.metricsOr().Page(p.Channel, outcome)
		if err := s.pageResult(ctx, PageResult{Page: p, Outcome: outcome, Reason: reason, SID: sid}); err != nil {
			log.Warn("outbox: recording the outcome failed", "err", err)
		}
	}
	switch {
	case p.Deliveries > d.MaxDeliveries:
		fail(PageFailed, fmt.Sprintf("handed out %d times", p.Deliveries))
		return
	case !now.Before(p.Deadline):
		fail(PageFailed, "deadline passed before it could be sent")
		return
	}
	var to pii.Phone
	if p.Channel.phone() {
		if p.Who == FallbackWho {
			to = d.Fallback.Phone
		} else {
			pp, err := d.People.Person(ctx, p.Who)
			switch {
			case errors.Is(err, problem.ErrNotFound):
			case err != nil:
				log.Warn("outbox: looking up the recipient failed; retried", "err", err)
				return
			default:
				to = pp.Phone
			}
		}
		if to.IsZero() {
			fail(PageRefused, "no page number")
			return
		}
	}
	check, err := d.Store.BeginPage(ctx, p, d.Consumer)
	if err != nil {
		log.Warn("outbox: pre-send check failed; retried", "err", err)
		return
	}
	switch check {
	case PageDrop:
		d.metricsOr().Page(p.Channel, PageStale)
		log.Info("outbox: page not sent: the alert was claimed or requeued")
		return
	case PageLost:
		log.Info("outbox: page taken over by another instance; not sent here")
		return
	}
	budget := min(d.PageBudget, p.Deadline.Sub(s.now()))
	sendCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	lost := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(max(d.ClaimIdle/4, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-sendCtx.Done():
				return
			case <-t.C:
				ok, err := d.Store.RefreshPage(sendCtx, p, d.Consumer)
				if err == nil && !ok {
					close(lost)
					cancel()
					return
				}
			}
		}
	}()
	fallback := p.Who == FallbackWho
	switch {
	case p.Channel.phone() && d.Pager == nil:
		// Queued by an instance with Twilio configured; this one has none.
		err = fmt.Errorf("%w: no pager configured on this instance", ErrPageRefused)
	case p.Channel == ChannelSMS:
		if tp, ok := d.Pager.(TextIDPager); ok {
			sid, err = tp.TextID(sendCtx, to, PageText(p.Team, fallback, p.Mode))
		} else {
			err = d.Pager.Text(sendCtx, to, PageText(p.Team, fallback, p.Mode))
		}
		if err == nil && sid != "" && d.Statuses != nil {
			if err := d.Statuses.RecordPage(ctx, sid, p.Alert); err != nil {
				log.Warn("outbox: recording the text for its delivery report failed", "err", err)
			}
		}
	case p.Channel == ChannelVoice:
		err = d.Pager.Call(sendCtx, to, VoiceTwiML(p.Team, fallback, p.Mode))
	case p.Channel == ChannelWebPush:
		if d.WebPush == nil {
			err = fmt.Errorf("%w: web push not configured", ErrPageRefused)
		} else {
			err = d.WebPush.Push(sendCtx, p.Who, p.Team, p.Mode.Label())
		}
	default:
		err = fmt.Errorf("%w: channel %s has no sender", ErrPageRefused, p.Channel)
	}
	close(stop)
	select {
	case <-lost:
		log.Warn("outbox: lost the claim while sending (this instance stalled); the new holder decides")
		return
	default:
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: leave the page pending; another instance takes it
		// over once it has been idle for ClaimIdle.
		return
	}
	switch {
	case err == nil:
		fail(PageSent, "")
		log.Info("page sent")
	case errors.Is(err, ErrPageRefused):
		fail(PageRefused, "refused by the provider")
	default:
		fail(PageFailed, "provider failing until the page's budget ran out")
	}
}

func (d *EscalationDeps) metricsOr() Metrics {
	if d.Metrics == nil {
		return nopMetrics{}
	}
	return d.Metrics
}

// AuditorLease names the auditor's lease.
const AuditorLease = "auditor"

// Audit checks once that every open alert has a future step or an owner,
// and repairs those that lost theirs (logging and counting each). It
// returns how many it repaired.
func (s *Service) Audit(ctx context.Context) (int, error) {
	if s.esc == nil || s.esc.Store == nil {
		return 0, nil
	}
	open, err := s.store.OpenAlerts(ctx)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, a := range open {
		if a.State == StateRaised && a.Owner == "" {
			ids = append(ids, a.ID)
		}
	}
	fences, err := s.esc.Store.TimerFences(ctx, TimerStep, ids)
	if err != nil {
		return 0, err
	}
	repaired := 0
	var errs []error
	for _, a := range open {
		var decide func(*Alert) (*Commit, error)
		what := ""
		switch {
		case a.State == StateRaised && a.Owner == "":
			if f := a.Fences[TimerStep]; f != "" && fences[a.ID] == f {
				continue
			}
			what = "step"
			decide = func(cur *Alert) (*Commit, error) {
				if cur.State != StateRaised || cur.Owner != "" || cur.Fences[TimerStep] != a.Fences[TimerStep] {
					return nil, nil // it moved on meanwhile
				}
				return s.cfg.Rules.Rearm(cur, s.now()), nil
			}
		case (a.State == StateAcknowledged || a.State == StateWorking) && a.Owner == "":
			what = "owner"
			decide = func(cur *Alert) (*Commit, error) {
				if cur.Owner != "" || !cur.State.Live() {
					return nil, nil
				}
				return s.cfg.Rules.Return(cur, "claimed but with no owner: returned to the queue by the auditor", s.now()), nil
			}
		default:
			continue
		}
		res, err := s.store.DecideAlert(ctx, a.ID, decide)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if res.AlertID == "" {
			continue
		}
		repaired++
		s.metrics().Repaired(what)
		s.log.Warn("auditor: repaired an open alert with no future step or owner", "alert", a.ID, "repair", what)
	}
	return repaired, errors.Join(errs...)
}

// RunAuditor audits every interval on whichever instance holds the
// auditor's lease, and after each clean pass calls heartbeat (an outside
// monitor notices when the pings stop). holder names this instance.
func (s *Service) RunAuditor(ctx context.Context, interval time.Duration, holder string, heartbeat func(context.Context) error) error {
	if s.esc == nil || s.esc.Store == nil {
		return nil
	}
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.auditOnce(ctx, interval, holder, heartbeat)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) auditOnce(ctx context.Context, interval time.Duration, holder string, heartbeat func(context.Context) error) {
	// The lease outlives one interval, so its holder keeps it from pass to
	// pass and another instance takes over within two if it dies.
	ok, err := s.esc.Store.HoldLease(ctx, AuditorLease, holder, 2*interval)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("auditor: lease check failed", "err", err)
		}
		return
	}
	if !ok {
		return
	}
	n, err := s.Audit(ctx)
	s.metrics().Audited(n, err)
	if err != nil {
		s.log.Warn("auditor: pass incomplete", "repaired", n, "err", err)
		return
	}
	if heartbeat != nil {
		if err := heartbeat(ctx); err != nil {
			s.log.Warn("auditor: heartbeat ping failed", "err", err)
		}
	}
}

// Handover is one claimed alert handed to a colleague when going off duty.
type Handover struct {
	Alert string
	// To is the colleague's username or staff id.
	To   string
	Note pii.Text
}

// HandoverResult says what became of one of the claims of someone going
// off duty.
type HandoverResult struct {
	Alert string `json:"alert"`
	// To is the new owner's staff id; empty when it was returned.
	To       string `json:"to,omitempty"`
	Returned bool   `json:"returned"`
}

// GoOffDuty ends p's duty: each of their claimed or working alerts named
// in hs passes to the named colleague with the note; every other one
// returns to the queue at once, loudly (an event, a log line, a count).
// Every hand-over is checked before anything changes: a bad one refuses
// the whole request.
func (s *Service) GoOffDuty(ctx context.Context, p *staff.Principal, hs []Handover) ([]HandoverResult, error) {
	if p == nil || !p.Has(staff.RoleResponder) {
		return nil, ErrForbidden
	}
	open, err := s.store.OpenAlerts(ctx)
	if err != nil {
		return nil, err
	}
	mine := map[string]*Alert{}
	var order []string
	for _, a := range open {
		if a.Owner == p.StaffID && (a.State == StateAcknowledged || a.State == StateWorking) {
			mine[a.ID] = a
			order = append(order, a.ID)
		}
	}
	inv := &problem.Invalid{}
	to := map[string]Actor{}
	seen := map[string]bool{}
	for i, h := range hs {
		at := fmt.Sprintf("handovers[%d].", i)
		a, ok := mine[h.Alert]
		switch {
		case seen[h.Alert]:
			inv.Add(at+"alert", "is handed over twice")
			continue
		case !ok:
			inv.Add(at+"alert", "is not an alert you have claimed")
			continue
		}
		seen[h.Alert] = true
		if h.Note.IsZero() {
			inv.Add(at+"note", "is required: what the colleague needs to know")
		}
		if s.esc == nil || s.esc.People == nil {
			inv.Add(at+"to", "cannot be checked: staff lookup is not configured")
			continue
		}
		pp, err := s.esc.People.Person(ctx, strings.TrimSpace(h.To))
		if errors.Is(err, problem.ErrNotFound) {
			inv.Add(at+"to", "is not a known colleague")
			continue
		}
		if err != nil {
			return nil, err
		}
		brief, err := s.brief(ctx, a)
		if err != nil {
			return nil, err
		}
		switch {
		case pp.ID == p.StaffID:
			inv.Add(at+"to", "must be someone else")
		case !pp.Active || !slices.Contains(pp.Roles, staff.RoleResponder) || !slices.Contains(pp.Teams, a.Team):
			inv.Add(at+"to", "must be an active responder of the alert's team")
		case brief != nil && slices.Contains(brief.Excluded, pp.ID):
			inv.Add(at+"to", "may not see this case")
		default:
			name := pp.Name
			if name == "" {
				name = pp.Username
			}
			to[h.Alert] = Actor{ID: pp.ID, Name: name}
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	from := actor(p)
	notes := map[string]pii.Text{}
	for _, h := range hs {
		notes[h.Alert] = h.Note
	}
	var out []HandoverResult
	var errs []error
	for _, id := range order {
		if who, ok := to[id]; ok {
			_, err := s.store.DecideAlert(ctx, id, func(a *Alert) (*Commit, error) {
				return s.cfg.Rules.HandOver(a, from, who, notes[id], s.now())
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, HandoverResult{Alert: id, To: who.ID})
			continue
		}
		_, err := s.store.DecideAlert(ctx, id, func(a *Alert) (*Commit, error) {
			if a.Owner != p.StaffID {
				return nil, nil
			}
			return s.cfg.Rules.Return(a, "returned to the queue: its owner went off duty without handing it over", s.now()), nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.metrics().Returned()
		s.log.Warn("alert returned to the queue: its owner went off duty without handing it over", "alert", id, "staff", p.StaffID)
		out = append(out, HandoverResult{Alert: id, Returned: true})
	}
	return out, errors.Join(errs...)
}
