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

// Rules are the numbers the alert state machine runs on. The functions on
// Rules are pure: they take what was read and return the Commit to write,
// so the same code decides in production and in the property tests.
type Rules struct {
	// CancelWindow is how long after an app panic the survivor's real PIN
	// cancels it.
	CancelWindow time.Duration
	// AckTimeout returns an acknowledged alert nobody marked working to
	// the queue; it is renewed by marking working and by the owner's notes.
	AckTimeout time.Duration
	// MessageExpiry ends a message alert nobody acknowledged.
	MessageExpiry time.Duration
	// WrongPINLimit is how many wrong PINs in a row raise the priority.
	WrongPINLimit int
	// Retention keeps closed alerts; TrailRetention their location trails.
	Retention      time.Duration
	TrailRetention time.Duration
	// EventRetention trims the events stream by age.
	EventRetention time.Duration
}

// DefaultRules are the defaults of the configuration.
func DefaultRules() Rules {
	return Rules{
		CancelWindow:   30 * time.Second,
		AckTimeout:     15 * time.Minute,
		MessageExpiry:  72 * time.Hour,
		WrongPINLimit:  3,
		Retention:      90 * 24 * time.Hour,
		TrailRetention: 24 * time.Hour,
		EventRetention: 7 * 24 * time.Hour,
	}
}

// CaseState is what a signal for a case is decided on, read in one go.
type CaseState struct {
	Case casework.CaseFacts
	// Open is the case's open (live) alert, nil if none.
	Open *Alert
	// Last is the case's most recent alert, nil if none; it may be Open.
	Last *Alert
	// Checkins is the case's check-in state, nil if none was ever set.
	Checkins *casework.Checkins
	// Policies is the team's policy set, snapshotted into a new alert
	// (nil: the defaults).
	Policies *oncall.PolicySet
	// Record is the case's plain fields as the store read them with the
	// rest; nil when the case does not exist. The service turns it into
	// Case.
	Record *casework.Case
}

// Actor is a staff member acting on an alert.
type Actor struct {
	ID   string
	Name string
}

// Resolution closes an alert.
type Resolution struct {
	Outcome     Outcome
	Note        pii.Text
	PoliceRef   pii.Text
	ChildrenRef pii.Text
}

// DedupeFor is how long a dedupe key is remembered (DESIGN.md, Expiry).
const DedupeFor = 48 * time.Hour

func newFence() string { return randid.New("", 12) }

// errNeedPIN refuses an app check-in, cancel or schedule change without a
// PIN.
func errNeedPIN() error { return problem.Invalidf("pin", "is required for this kind") }

// OnSignal decides what a signal does to its case: raise a new alert, join
// the open one, cancel it, note a check-in, move the check-in schedule.
// One incident, one alert: a case has at most one open alert.
func (r Rules) OnSignal(st CaseState, sig Signal) (*Commit, error) {
	if err := sig.Validate(); err != nil {
		return nil, err
	}
	needsPIN := sig.Kind == KindCheckin || sig.Kind == KindCancel || sig.Kind == KindSchedule || sig.Kind == KindSettings
	if needsPIN && sig.PIN == casework.PINNone {
		if sig.Source == SourceApp {
			return nil, errNeedPIN()
		}
		// An SMS check-in word without its PIN proves nothing: it counts
		// as a wrong PIN (recorded; repeated ones reach a human).
		sig.PIN = casework.PINWrong
	}
	if st.Open != nil && !st.Open.State.Live() {
		st.Open = nil
	}
	c := &Commit{DedupeKey: sig.DedupeKey, EventRetention: r.EventRetention, Retention: r.Retention}
	now := sig.At

	if needsPIN && sig.PIN == casework.PINWrong {
		return r.wrongPIN(c, st, sig)
	}
	if sig.PIN == casework.PINReal || sig.PIN == casework.PINDuress {
		// Either PIN proves the survivor's hand; the counter restarts.
		if st.Checkins != nil && st.Checkins.WrongPINs != 0 {
			c.Checkins = st.Checkins.Clone()
			c.Checkins.WrongPINs = 0
			c.Checkins.UpdatedAt = now
		}
	}

	switch sig.Kind {
	case KindCheckin:
		r.checkedIn(c, st, now)
		if !sig.Duress() {
			if st.Open != nil {
				a := st.Open.clone()
				r.entry(c, a, Entry{At: now, Type: EntrySafe, By: BySurvivor, Detail: "checked in with the real PIN"})
				c.Alert = a
				c.Events = append(c.Events, r.event(EventJoined, a, now))
			}
			return c, nil
		}
	case KindSchedule:
		if !sig.Duress() {
			r.setSchedule(c, st, sig)
			return c, nil
		}
		ci := st.Checkins.Clone()
		if c.Checkins != nil {
			ci = c.Checkins
		}
		r.logCheckins(c, ci, Entry{At: now, Type: EntryDuressChange, By: BySurvivor, Detail: "schedule change with the duress PIN: not applied"})
		c.Events = append(c.Events, Event{Type: EventCheckins, Case: st.Case.ID, Team: st.Case.Team, At: now})
	case KindCancel:
		if !sig.Duress() {
			r.cancel(c, st, now)
			return c, nil
		}
	case KindLocation:
		if !sig.Duress() {
			r.location(c, st, sig)
			return c, nil
		}
	case KindSettings:
		if !sig.Duress() {
			return c, nil
		}
	}
	// Everything left raises or joins: panic, message, missed check-in,
	// and any kind carrying duress.
	r.raise(c, st, sig)
	return c, nil
}

// raise joins the case's open alert or starts a new one.
func (r Rules) raise(c *Commit, st CaseState, sig Signal) {
	now := sig.At
	cls := classOf(sig)
	detail := signalDetail(sig)
	if st.Open != nil {
		a := st.Open.clone()
		level := levelOf(a)
		r.entry(c, a, Entry{At: now, Type: EntryJoined, By: BySurvivor, Detail: detail})
		if st.Case.Risk.Rank() > a.Risk.Rank() {
			a.Risk = st.Case.Risk
		}
		if cls > a.Class {
			wasMessage := a.Class == ClassMessage
			a.Class = cls
			if cls == ClassDuress {
				r.entry(c, a, Entry{At: now, Type: EntryDuress, By: BySystem, Detail: "alert is now duress: do not contact"})
				// A duress alert cannot be cancelled from the phone:
				// whoever holds it may be forcing the survivor.
				a.CancelUntil = time.Time{}
			}
			if wasMessage {
				c.Drop = append(c.Drop, Timer{Kind: TimerExpire, Target: a.ID})
				delete(a.Fences, TimerExpire)
			}
			if a.State == StateRaised {
				// Escalate at once at the new class's pace; a higher
				// risk level starts its own policy from the top.
				if levelOf(a) != level {
					a.Esc.Next = 0
				}
				r.setTimer(c, a, TimerStep, now)
			}
		}
		r.attach(c, a, sig)
		a.Priority = r.priority(a)
		c.Alert = a
		typ := EventJoined
		if a.Mode == ModePractice {
			if why := practiceLapse(st, sig, cls); why != "" {
				r.makeReal(c, a, now, why)
				typ = EventRaised // new to everyone but the caseworker
			}
		}
		c.Events = append(c.Events, r.event(typ, a, now))
		return
	}
	a := &Alert{
		ID:       randid.New("a_", 20),
		CaseID:   st.Case.ID,
		Team:     st.Case.Team,
		Source:   sig.Source,
		Class:    cls,
		Risk:     st.Case.Risk,
		State:    StateRaised,
		RaisedAt: now,
		PhoneAt:  sig.SentAt,
		Fences:   map[TimerKind]string{},
		Sender:   sig.Sender,
		Policy:   st.Policies,
		Esc:      Escalation{Token: newFence()},
	}
	if a.Policy == nil {
		a.Policy = oncall.DefaultPolicies()
	}
	if a.CaseID == "" {
		a.Team = sig.Team
	}
	if !a.Risk.Valid() {
		a.Risk = casework.RiskStandard
	}
	if st.Checkins != nil {
		a.WrongPINs = st.Checkins.WrongPINs
	}
	if st.Case.Expired {
		detail += " (expired case)"
	}
	only, practice := practiceFor(st, sig, cls)
	if practice {
		a.Mode, a.Only = ModePractice, only
		detail = "PRACTICE " + detail + ": shown only to the caseworker; real unless they acknowledge it within 2 minutes"
	}
	r.entry(c, a, Entry{At: now, Type: EntryRaised, By: BySurvivor, Detail: detail})
	if cls == ClassDuress {
		r.entry(c, a, Entry{At: now, Type: EntryDuress, By: BySystem, Detail: "duress: do not contact"})
	}
	first := now
	if sig.Source == SourceApp && sig.Kind == KindPanic && cls != ClassDuress && r.CancelWindow > 0 {
		a.CancelUntil = now.Add(r.CancelWindow)
		first = a.CancelUntil
	}
	if practice {
		// The step timer is the caseworker's deadline: unclaimed by
		// then, the alert is real (practiceLapsed).
		first = now.Add(casework.PracticeAckWait)
	}
	r.setTimer(c, a, TimerStep, first)
	if cls == ClassMessage && r.MessageExpiry > 0 {
		r.setTimer(c, a, TimerExpire, now.Add(r.MessageExpiry))
	}
	r.attach(c, a, sig)
	a.Priority = r.priority(a)
	c.Alert, c.Created = a, true
	c.Events = append(c.Events, r.event(EventRaised, a, now))
}

// attach puts a signal's message and location on the alert. An SMS that
// matched a code word shows only its hint: its text holds the word (and
// perhaps a PIN), which no responder may see.
func (r Rules) attach(c *Commit, a *Alert, sig Signal) {
	text := sig.Message
	if sig.Source == SourceSMS && sig.Kind != KindMessage {
		text = sig.Hint
	}
	if !text.IsZero() {
		r.entry(c, a, Entry{At: sig.At, Type: EntryMessage, By: BySurvivor, Text: text})
	}
	if !sig.Location.IsZero() {
		a.TrailSeq++
		c.Trail = append(c.Trail, TrailPoint{Seq: a.TrailSeq, Location: sig.Location, Received: sig.At})
	}
	a.UpdatedAt = sig.At
}

// lateWords says how long a signal waited on the phone: "14 min",
// "2 h 5 min", "3 days".
func lateWords(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	case m < 48*60:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", m/(24*60))
	}
}

func signalDetail(sig Signal) string {
	d := string(sig.Kind) + " via " + string(sig.Source)
	switch {
	case sig.PIN == casework.PINDuress:
		d += " with the duress PIN"
	case sig.DuressWord:
		d += " with a duress word"
	}
	if sig.Unconfirmed {
		d += " (unconfirmed: a near miss of a code word)"
	}
	if late := sig.At.Sub(sig.SentAt); !sig.SentAt.IsZero() && late >= time.Minute && late <= DedupeFor {
		// The app's outbox held it (no network): say so, in the phone's
		// own time, which may be off but is all there is.
		d += ", raised on the phone " + lateWords(late) + " before it arrived"
	}
	switch {
	case sig.Media > 0:
		// Twilio holds the pictures; nobody downloads them unasked.
		d += fmt.Sprintf(" with %d attachment(s) held by Twilio", sig.Media)
	case sig.Kind == KindMessage && sig.Message.IsZero():
		d += " with no text"
	}
	return d
}

// location adds a fix to the open alert's trail; with none open it goes on
// the last alert's timeline, and with no alert at all it is dropped (a
// location alone is not a call for help). Never an error.
func (r Rules) location(c *Commit, st CaseState, sig Signal) {
	switch {
	case st.Open != nil:
		a := st.Open.clone()
		r.attach(c, a, sig)
		c.Alert = a
		c.Events = append(c.Events, r.event(EventLocation, a, sig.At))
	case st.Last != nil:
		a := st.Last.clone()
		r.entry(c, a, Entry{At: sig.At, Type: EntryLocation, By: BySurvivor, Location: sig.Location, Detail: "location after the alert closed"})
		r.retain(c, a, sig.At)
		c.Alert = a
	}
}

// cancel handles the real PIN on cancel: within the window the open alert
// is cancelled (a high-risk one stays visible for welfare follow-up);
// after it, or for a duress alert, the request is only noted.
func (r Rules) cancel(c *Commit, st CaseState, now time.Time) {
	switch {
	case st.Open != nil && !st.Open.Duress() && !st.Open.CancelUntil.IsZero() && !now.After(st.Open.CancelUntil):
		a := st.Open.clone()
		a.State = StateCancelled
		a.ClosedAt, a.UpdatedAt = now, now
		a.FollowUp = a.Risk == casework.RiskHigh
		detail := "cancelled with the real PIN inside the cancel window"
		if a.FollowUp {
			detail += "; welfare follow-up due"
		}
		r.entry(c, a, Entry{At: now, Type: EntryCancelled, By: BySurvivor, Detail: detail})
		r.dropAll(c, a)
		r.retain(c, a, now)
		c.Alert = a
		c.Events = append(c.Events, r.event(EventCancelled, a, now))
	case st.Open != nil:
		a := st.Open.clone()
		r.entry(c, a, Entry{At: now, Type: EntryCancelLate, By: BySurvivor, Detail: "cancel asked after the cancel window: still open"})
		a.UpdatedAt = now
		c.Alert = a
		c.Events = append(c.Events, r.event(EventJoined, a, now))
	case st.Last != nil:
		a := st.Last.clone()
		r.entry(c, a, Entry{At: now, Type: EntryCancelLate, By: BySurvivor, Detail: "cancel asked with no open alert"})
		r.retain(c, a, now)
		c.Alert = a
	}
}

// wrongPIN records a wrong PIN on cancel, check-in or schedule change. The
// survivor's answer is the usual one; after repeated failures the open
// alert's priority goes up, and with no open alert a low-priority alert
// asks a human to look (someone else may hold the phone).
func (r Rules) wrongPIN(c *Commit, st CaseState, sig Signal) (*Commit, error) {
	now := sig.At
	ci := st.Checkins.Clone()
	ci.WrongPINs++
	ci.UpdatedAt = now
	c.Checkins = ci
	detail := fmt.Sprintf("wrong PIN on %s (%d in a row)", sig.Kind, ci.WrongPINs)
	if sig.Kind == KindSchedule {
		r.logCheckins(c, ci, Entry{At: now, Type: EntryWrongPIN, By: BySurvivor, Detail: "schedule change with a wrong PIN: not applied"})
	}
	switch {
	case st.Open != nil:
		a := st.Open.clone()
		a.WrongPINs++
		r.entry(c, a, Entry{At: now, Type: EntryWrongPIN, By: BySurvivor, Detail: detail})
		a.Priority = r.priority(a)
		a.UpdatedAt = now
		c.Alert = a
		c.Events = append(c.Events, r.event(EventJoined, a, now))
	case r.WrongPINLimit > 0 && ci.WrongPINs == r.WrongPINLimit:
		msg := sig
		msg.Kind, msg.PIN, msg.Message = KindMessage, casework.PINNone, pii.Text{}
		// Someone may be trying PINs on the survivor's phone: never
		// practice.
		cs := st.Case
		cs.Practice = casework.PracticeWindow{}
		r.raise(c, CaseState{Case: cs, Checkins: ci, Policies: st.Policies}, msg)
		r.entry(c, c.Alert, Entry{At: now, Type: EntryWrongPIN, By: BySurvivor, Detail: detail})
		c.Alert.Priority = r.priority(c.Alert)
	case st.Last != nil:
		a := st.Last.clone()
		r.entry(c, a, Entry{At: now, Type: EntryWrongPIN, By: BySurvivor, Detail: detail})
		r.retain(c, a, now)
		c.Alert = a
	}
	return c, nil
}

// checkedIn moves the schedule on after a check-in (real or duress: the
// two must look the same from the phone).
func (r Rules) checkedIn(c *Commit, st CaseState, now time.Time) {
	ci := st.Checkins.Clone()
	if c.Checkins != nil {
		ci = c.Checkins
	}
	ci.Last, ci.UpdatedAt = now, now
	ci.Paused = false
	if ci.Active {
		ci.NextDue = ci.Schedule.Next(now)
		r.armCheckin(c, ci, st.Case.ID)
	}
	c.Checkins = ci
}

// setSchedule applies a schedule change made with the real PIN; the case
// owner sees it in the check-in log.
func (r Rules) setSchedule(c *Commit, st CaseState, sig Signal) {
	now := sig.At
	by := BySurvivor
	if sig.By != "" {
		by = sig.By
	}
	ci := st.Checkins.Clone()
	if c.Checkins != nil {
		ci = c.Checkins
	}
	ci.UpdatedAt = now
	ci.Paused = false
	if sig.Schedule == nil {
		ci.Active = false
		ci.NextDue = time.Time{}
		if ci.Fence != "" {
			c.Drop = append(c.Drop, Timer{Kind: TimerCheckin, Target: st.Case.ID})
		}
		ci.Fence = ""
		r.logCheckins(c, ci, Entry{At: now, Type: EntrySchedule, By: by, Detail: "check-ins stopped"})
	} else {
		ci.Active = true
		ci.Schedule = sig.Schedule.Normalize()
		ci.NextDue = ci.Schedule.Next(now)
		r.armCheckin(c, ci, st.Case.ID)
		r.logCheckins(c, ci, Entry{At: now, Type: EntrySchedule, By: by, Detail: "check-ins set: " + ci.Schedule.String()})
	}
	c.Checkins = ci
	c.Events = append(c.Events, Event{Type: EventCheckins, Case: st.Case.ID, Team: st.Case.Team, At: now})
	if st.Open != nil {
		// Whoever works the open alert sees the change too.
		a := st.Open.clone()
		detail := c.CheckinLog[len(c.CheckinLog)-1].Detail
		r.entry(c, a, Entry{At: now, Type: EntrySchedule, By: by, Detail: detail})
		a.UpdatedAt = now
		c.Alert = a
		c.Events = append(c.Events, r.event(EventJoined, a, now))
	}
}

// armCheckin schedules the missed-check-in timer with a fresh fence.
func (r Rules) armCheckin(c *Commit, ci *casework.Checkins, caseID string) {
	ci.Fence = newFence()
	c.Timers = append(c.Timers, Timer{Kind: TimerCheckin, Target: caseID, Due: ci.AlarmAt(), Fence: ci.Fence})
}

func (r Rules) logCheckins(c *Commit, ci *casework.Checkins, e Entry) {
	ci.LogSeq++
	e.Seq = ci.LogSeq
	c.CheckinLog = append(c.CheckinLog, e)
	c.Checkins = ci
}

// OnCheckinTimer raises the one missed-check-in alert when the check-in
// timer with fence is still current and past due plus grace, and pauses
// the schedule until the next check-in. A stale timer does nothing (nil).
func (r Rules) OnCheckinTimer(st CaseState, fence string, now time.Time) *Commit {
	ci := st.Checkins
	if ci == nil || !ci.Active || ci.Paused || ci.Fence == "" || ci.Fence != fence || now.Before(ci.AlarmAt()) {
		return nil
	}
	if st.Open != nil && !st.Open.State.Live() {
		st.Open = nil
	}
	c := &Commit{
		// Even two instances acting on the same timer raise one alert.
		DedupeKey:      "missed:" + st.Case.ID + "." + fence,
		EventRetention: r.EventRetention,
		Retention:      r.Retention,
	}
	n := ci.Clone()
	n.Paused, n.Fence, n.UpdatedAt = true, "", now
	c.Checkins = n
	c.Drop = append(c.Drop, Timer{Kind: TimerCheckin, Target: st.Case.ID})
	r.raise(c, st, Signal{Source: SourceCheckin, Kind: KindMissed, CaseID: st.Case.ID, At: now})
	return c
}

// OnTimer decides what an alert timer does when it falls due. A timer whose
// fence is no longer on the alert, or that no longer applies, does nothing
// (nil): a stale or duplicate worker changes nothing.
func (r Rules) OnTimer(a *Alert, t Timer, now time.Time) *Commit {
	if a == nil || t.Fence == "" || a.Fences[t.Kind] != t.Fence {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	delete(n.Fences, t.Kind)
	c.Drop = append(c.Drop, Timer{Kind: t.Kind, Target: a.ID})
	switch t.Kind {
	case TimerStep:
		if a.Mode == ModePractice {
			return r.practiceLapsed(c, n, now)
		}
		if a.State != StateRaised || a.Owner != "" {
			return c
		}
		// Without paging wired the step only announces itself, on the
		// policy's waits.
		pol := policyOf(a)
		step, fb := pol.StepAt(a.Esc.Next)
		return r.Escalate(a, t, Plan{K: a.Esc.Next, Step: step, Fallback: fb, Policy: pol, ReceiptWait: ReceiptWait + time.Second}, now)
	case TimerAck:
		if a.Owner == "" || (a.State != StateAcknowledged && a.State != StateWorking) {
			return c
		}
		if a.Esc.Warned.IsZero() {
			// No progress within the timeout: warn the owner, and give
			// them a short grace to mark it working.
			n.Esc.Warned = now
			r.entry(c, n, Entry{At: now, Type: EntryQuiet, By: BySystem,
				Detail: fmt.Sprintf("no progress from %s within the acknowledgement timeout: the claim lapses in %s unless marked working", ownerName(a), lateWords(ClaimLapseGrace))})
			r.setTimer(c, n, TimerAck, now.Add(ClaimLapseGrace))
			c.Events = append(c.Events, r.event(EventQuiet, n, now))
			break
		}
		return r.lapse(c, n, now)
	case TimerExpire:
		if a.State != StateRaised || a.Class != ClassMessage {
			return c
		}
		n.State, n.ClosedAt = StateExpired, now
		r.entry(c, n, Entry{At: now, Type: EntryExpired, By: BySystem, Detail: "message not acknowledged in time"})
		r.dropAll(c, n)
		r.retain(c, n, now)
		c.Events = append(c.Events, r.event(EventExpired, n, now))
	default:
		return nil
	}
	n.UpdatedAt = now
	c.Alert = n
	return c
}

// ClaimLapseGrace is how long a claim's owner has, once warned that they
// showed no progress within the acknowledgement timeout, before the claim
// lapses and the alert goes back to the queue.
const ClaimLapseGrace = 2 * time.Minute

// lapse ends a claim whose owner showed no progress within the timeout
// and the grace after the warning: the alert goes back to the queue,
// marked "claim lapsed", and its escalation resumes at the next tier at
// once (the step the claim interrupted), paging as the policy says.
func (r Rules) lapse(c *Commit, n *Alert, now time.Time) *Commit {
	owner := ownerName(n)
	n.State, n.Owner, n.OwnerName = StateRaised, "", ""
	n.Esc = Escalation{Token: newFence(), Next: n.Esc.Next, Ran: n.Esc.Ran, At: n.Esc.At,
		FallbackAt: n.Esc.FallbackAt, Lapsed: now}
	r.entry(c, n, Entry{At: now, Type: EntryLapsed, By: BySystem,
		Detail: "claim lapsed: no progress from " + owner + " within the acknowledgement timeout and the grace after the warning; back in the queue, escalating to the next tier"})
	r.dropTimer(c, n, TimerAck)
	r.dropTimer(c, n, TimerDeliver)
	r.setTimer(c, n, TimerStep, now)
	n.UpdatedAt = now
	c.Alert = n
	c.Events = append(c.Events, r.event(EventReturned, n, now))
	return c
}

// ownerName is the claimer as the timeline names them.
func ownerName(a *Alert) string {
	if a.OwnerName != "" {
		return a.OwnerName
	}
	return "the owner"
}

// progress records that the owner is at work on their claim: the
// acknowledgement timeout starts again and any warning is withdrawn.
func (r Rules) progress(c *Commit, n *Alert, now time.Time) {
	n.ActiveAt = now
	n.Esc.Warned = time.Time{}
	r.setTimer(c, n, TimerAck, now.Add(r.ackTimeout(n)))
}
