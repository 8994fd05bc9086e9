package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
)

// This file is escalation: who is paged when, and through which channel;
// package outbox turns the queued pages into texts and calls. The decisions
// are pure Rules methods (Escalate, OnDeliver, OnPageResult, HandOver,
// Return, Rearm); the Service methods around them read what the decisions
// need (the policy snapshot, the rota, presence, receipts) and run them
// through the store's read-decide-commit, so every step, every queued page
// and every fall-through commits atomically with the alert it belongs to.

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

// DeliverLate is how late a receipt check may run before it is put off by
// ReceiptSettle (at most maxSettles times a step): a check that runs late
// ran while Redis or the scheduler was away, and so may the receipts it
// would judge, which hubs keep and retry until stored.
const (
	DeliverLate   = 2 * time.Second
	ReceiptSettle = 5 * time.Second
	maxSettles    = 3
)

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
	Who     string           `json:"who"` // staff id, or FallbackWho
	Channel oncall.Channel   `json:"channel,omitempty"`
	Rest    []oncall.Channel `json:"rest,omitempty"` // channels still to try, in order
	State   TargetState      `json:"state"`
	Page    string           `json:"page,omitempty"` // ref of its page in the outbox
	Since   time.Time        `json:"since"`
	// SID is the provider's id of a sent text or call, whose outcome is
	// checked once (Checked) SMSCheckAfter or VoiceAnswerWait later.
	SID     string `json:"sid,omitempty"`
	Checked bool   `json:"checked,omitempty"`
}

// outcomeDue is when a sent page's outcome is due a look, or zero: a
// text's delivery status SMSCheckAfter after it was accepted, a call's
// answer VoiceAnswerWait after.
func (t Target) outcomeDue() time.Time {
	if t.State != TargetSent || t.SID == "" || t.Checked {
		return time.Time{}
	}
	switch t.Channel {
	case oncall.ChannelSMS:
		return t.Since.Add(SMSCheckAfter)
	case oncall.ChannelVoice:
		return t.Since.Add(VoiceAnswerWait)
	}
	return time.Time{}
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
	// Settled counts the receipt checks of the step last run that were
	// put off because they ran late (see DeliverLate).
	Settled int `json:"settled,omitempty"`
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
	Channel oncall.Channel
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
	Step     oncall.Step
	Fallback bool
	Policy   oncall.Policy
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
	Via []oncall.Channel
}

// policyOf is the policy an alert follows now.
func policyOf(a *Alert) oncall.Policy {
	ps := a.Policy
	if ps == nil {
		ps = oncall.DefaultPolicies()
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
	esc.Ran, esc.At, esc.Next, esc.RanFallback, esc.Settled = p.K, now, p.K+1, p.Fallback, 0
	if p.Fallback {
		esc.FallbackAt = now
	}
	esc.Targets = nil
	detail := fmt.Sprintf("escalation step %d: %s", n.Step, p.Step)
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
			esc.Next = p.Policy.FallbackIndex(p.K + 1)
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
	if tg.Channel == oncall.ChannelDashboard {
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
			end = t.outcomeDue()
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
	// Names are the recipients' display names, for the timeline.
	Names Names
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
	if now.Sub(t.Due) > DeliverLate && esc.Settled < maxSettles && slices.ContainsFunc(esc.Targets, func(tg Target) bool {
		return tg.State == TargetWaiting && !seen[tg.Who]
	}) {
		// The check runs late: Redis or this instance was away, and the
		// receipts that arrived meanwhile may still be on their way to
		// Redis. Judge them a little later rather than page past a
		// responder who saw the alert.
		esc.Settled++
		n.Esc = esc
		r.setTimer(c, n, TimerDeliver, now.Add(ReceiptSettle))
		n.UpdatedAt = now
		c.Alert = n
		return c
	}
	for i, tg := range esc.Targets {
		if tg.State != TargetWaiting {
			continue
		}
		switch {
		case seen[tg.Who]:
			esc.Targets[i].State = TargetSeen
		case !now.Before(tg.Since.Add(wait)):
			esc.Targets[i] = r.advance(c, n, &esc, tg, now, r.stepWait(n))
			r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
				Detail: pageLine(oncall.ChannelDashboard, dl.Names.whom(tg.Who),
					fmt.Sprintf("not confirmed within %s", wait.Round(time.Second))+nextWay(esc.Targets[i]))})
		}
	}
	for i, tg := range esc.Targets {
		due := tg.outcomeDue()
		if due.IsZero() || now.Before(due) {
			continue
		}
		var why string
		switch {
		case tg.Channel == oncall.ChannelSMS && dl.Undelivered[tg.SID]:
			why = "not delivered"
		case tg.Channel == oncall.ChannelVoice:
			// No press and no word of the call by now: unanswered.
			why = fmt.Sprintf("no answer within %s", VoiceAnswerWait.Round(time.Second))
		default:
			esc.Targets[i].Checked = true
			continue
		}
		var next string
		esc.Targets[i], next = r.failPage(c, n, &esc, tg, now)
		r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
			Detail: pageLine(tg.Channel, dl.Names.whom(tg.Who), why+next)})
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
	r.entry(c, a, Entry{At: now, Type: EntryDelivery, By: BySystem, Detail: "Nobody in this step could be reached \u2014 the next step runs now"})
}

// OnTextFailed moves the escalation on at once when the provider reports,
// after accepting it, that a page by text did not reach its recipient
// (Twilio's status callback: 30003–30008, 21610): that recipient's next
// channel is tried now instead of at the step's next look, and the
// timeline says why in plain words. A report about a text the alert no
// longer waits on changes nothing (nil).
func (r Rules) OnTextFailed(a *Alert, sid, why string, names Names, wait time.Duration, now time.Time) *Commit {
	return r.onSentFailed(a, oncall.ChannelSMS, sid, "not delivered ("+why+")", names, wait, now)
}

// onSentFailed moves on at once the recipient of the page sid, sent
// through ch, that the provider reported as failed (result says how, in
// plain words); nil when the alert no longer waits on that page.
func (r Rules) onSentFailed(a *Alert, ch oncall.Channel, sid, result string, names Names, wait time.Duration, now time.Time) *Commit {
	i := sentTarget(a, sid, ch)
	if i < 0 {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	esc := n.Esc.clone()
	tg := esc.Targets[i]
	var next string
	esc.Targets[i], next = r.failPage(c, n, &esc, tg, now)
	r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem, Detail: pageLine(ch, names.whom(tg.Who), result+next)})
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
	return s.sentFailed(ctx, alertID, oncall.ChannelSMS, PageUndelivered, func(a *Alert, names Names) *Commit {
		return s.cfg.Rules.OnTextFailed(a, sid, why, names, s.receiptWait(), s.now())
	})
}

// sentFailed decides a provider's late report of a failed page for
// alertID and counts it as outcome when it moved someone on. Unknown
// alerts are ignored.
func (s *Service) sentFailed(ctx context.Context, alertID string, ch oncall.Channel, outcome PageOutcome, decide func(*Alert, Names) *Commit) error {
	moved := false
	_, err := s.store.DecideAlert(ctx, alertID, func(a *Alert) (*Commit, error) {
		c := decide(a, s.names(ctx, a))
		moved = c != nil
		return c, nil
	})
	if errors.Is(err, casework.ErrNotFound) {
		return nil
	}
	if err == nil && moved {
		s.metrics().Page(ch, outcome)
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
	// SID is the provider's id of a sent text or call.
	SID string
	// Name is the recipient's display name, for the timeline.
	Name string
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
	whom := Names{res.Page.Who: res.Name}.whom(res.Page.Who)
	if dead {
		r.entry(c, n, Entry{At: now, Type: EntryPageError, By: BySystem,
			Detail: pageLine(res.Page.Channel, whom, "failed repeatedly ("+res.Reason+"): moved to the dead-letter stream")})
		c.Events = append(c.Events, r.event(EventPageFailed, n, now))
	}
	if idx >= 0 {
		esc := n.Esc.clone()
		tg := esc.Targets[idx]
		switch res.Outcome {
		case PageSent:
			esc.Targets[idx].State, esc.Targets[idx].Since, esc.Targets[idx].SID = TargetSent, now, res.SID
			result := "sent"
			if res.Page.Channel == oncall.ChannelVoice {
				result = "ringing; waiting for them to press 1"
			}
			r.entry(c, n, Entry{At: now, Type: EntryPaged, By: BySystem, Detail: pageLine(res.Page.Channel, whom, result)})
		case PageRefused, PageFailed:
			var next string
			esc.Targets[idx], next = r.failPage(c, n, &esc, tg, now)
			if !dead {
				r.entry(c, n, Entry{At: now, Type: EntryDelivery, By: BySystem,
					Detail: pageLine(res.Page.Channel, whom, "could not be sent ("+res.Reason+")"+next)})
			}
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

// levelOf is the risk level whose policy an alert follows: duress is
// always high; otherwise the case's risk (standard when unknown).
func levelOf(a *Alert) casework.Risk {
	if a.Class == ClassDuress {
		return casework.RiskHigh
	}
	if a.Risk.Valid() {
		return a.Risk
	}
	return casework.RiskStandard
}
