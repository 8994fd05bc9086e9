package alert

import (
	"slices"
	"time"

	"waymark/pii"
	"waymark/problem"
)

// Ack claims an alert: the first claim wins; anyone else learns who has it.
// Claiming one's own alert again changes nothing (nil).
func (r Rules) Ack(a *Alert, by Actor, now time.Time) (*Commit, error) {
	if !a.Open() {
		return nil, ErrClosed
	}
	if a.Owner != "" {
		if a.Owner == by.ID {
			return nil, nil
		}
		return nil, &problem.Claimed{By: a.OwnerName}
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	n.Owner, n.OwnerName, n.AckedAt, n.ActiveAt, n.UpdatedAt = by.ID, by.Name, now, now, now
	n.Esc.Warned, n.Esc.Lapsed = time.Time{}, time.Time{}
	r.entry(c, n, Entry{At: now, Type: EntryAcknowledged, By: by.ID, ByName: by.Name})
	if n.State.Live() {
		n.State = StateAcknowledged
		r.dropTimer(c, n, TimerStep)
		r.dropTimer(c, n, TimerDeliver)
		r.dropTimer(c, n, TimerExpire)
		r.setTimer(c, n, TimerAck, now.Add(r.ackTimeout(n)))
	}
	n.Esc.Targets = nil
	c.Alert = n
	c.Events = append(c.Events, r.event(EventAcknowledged, n, now))
	return c, nil
}

// Working marks the owner's alert as being worked on (claiming it first if
// nobody has) and renews the acknowledgement timeout.
func (r Rules) Working(a *Alert, by Actor, now time.Time) (*Commit, error) {
	if !a.State.Live() {
		return nil, ErrClosed
	}
	if a.Owner != "" && a.Owner != by.ID {
		return nil, &problem.Claimed{By: a.OwnerName}
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	if n.Owner == "" {
		n.Owner, n.OwnerName, n.AckedAt = by.ID, by.Name, now
		r.dropTimer(c, n, TimerStep)
		r.dropTimer(c, n, TimerDeliver)
		r.dropTimer(c, n, TimerExpire)
		n.Esc.Targets = nil
	}
	n.State, n.UpdatedAt = StateWorking, now
	n.Esc.Lapsed = time.Time{}
	r.entry(c, n, Entry{At: now, Type: EntryWorking, By: by.ID, ByName: by.Name})
	r.progress(c, n, now)
	c.Alert = n
	c.Events = append(c.Events, r.event(EventWorking, n, now))
	return c, nil
}

// Contacted records on the timeline that the owner rang the survivor
// through Waymark (EntryCalled) or sent the agreed text (EntryTexted); it
// counts as the owner's progress on the claim. Only the owner may.
func (r Rules) Contacted(a *Alert, by Actor, how EntryType, now time.Time) (*Commit, error) {
	if !a.State.Live() {
		return nil, ErrClosed
	}
	if a.Owner != by.ID {
		return nil, ErrNotOwner
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	n.UpdatedAt = now
	r.entry(c, n, Entry{At: now, Type: how, By: by.ID, ByName: by.Name})
	r.progress(c, n, now)
	c.Alert = n
	c.Events = append(c.Events, r.event(EventNote, n, now))
	return c, nil
}

// Note adds a responder's note. The owner's note on a claimed alert renews
// the acknowledgement timeout. Notes may follow a close (the record is
// still kept), but not after its retention.
func (r Rules) Note(a *Alert, by Actor, text pii.Text, now time.Time) (*Commit, error) {
	if text.IsZero() {
		return nil, problem.Invalidf("note", "is required")
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	r.entry(c, n, Entry{At: now, Type: EntryNote, By: by.ID, ByName: by.Name, Text: text})
	n.UpdatedAt = now
	if n.Owner == by.ID && (n.State == StateAcknowledged || n.State == StateWorking) {
		r.progress(c, n, now)
	}
	if n.State.Terminal() && !n.FollowUp {
		r.retain(c, n, now)
	}
	c.Alert = n
	c.Events = append(c.Events, r.event(EventNote, n, now))
	return c, nil
}

// Resolve closes an alert with an outcome, or closes the welfare follow-up
// of a cancelled one. police-attended with children in the household needs
// the children's services reference.
func (r Rules) Resolve(a *Alert, by Actor, res Resolution, children int, now time.Time) (*Commit, error) {
	inv := &problem.Invalid{}
	if !res.Outcome.Valid() {
		inv.Add("outcome", "must be one of: safe, police-attended, referred, accidental, suspected-third-party, unverified, no-contact")
	}
	if res.Outcome == OutcomePoliceAttended && children > 0 && res.ChildrenRef.IsZero() {
		inv.Add("childrens_services_reference", "is required when police attended a household with children")
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	if !a.Open() {
		return nil, ErrClosed
	}
	if a.Owner != "" && a.Owner != by.ID {
		return nil, &problem.Claimed{By: a.OwnerName}
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention, CountOutcome: res.Outcome}
	n := a.clone()
	if n.Owner == "" {
		n.Owner, n.OwnerName = by.ID, by.Name
	}
	n.Outcome, n.PoliceRef, n.ChildrenRef, n.UpdatedAt = res.Outcome, res.PoliceRef, res.ChildrenRef, now
	if !res.Note.IsZero() {
		r.entry(c, n, Entry{At: now, Type: EntryNote, By: by.ID, ByName: by.Name, Text: res.Note})
	}
	if n.FollowUp {
		n.FollowUp = false
		r.entry(c, n, Entry{At: now, Type: EntryFollowUp, By: by.ID, ByName: by.Name, Detail: "welfare follow-up closed: " + string(res.Outcome)})
	} else {
		n.State, n.ClosedAt = StateResolved, now
		r.entry(c, n, Entry{At: now, Type: EntryResolved, By: by.ID, ByName: by.Name, Detail: "outcome: " + string(res.Outcome)})
		r.dropAll(c, n)
	}
	r.retain(c, n, now)
	c.Alert = n
	c.Events = append(c.Events, r.event(EventResolved, n, now))
	return c, nil
}

// Review reports whether a case's outcome counts flag it for review:
// repeated accidental or suspected-third-party outcomes.
func Review(counts map[Outcome]int) bool {
	return counts[OutcomeAccidental]+counts[OutcomeSuspectedThirdParty] >= 2
}

// --- helpers shared by the rules ---

func (r Rules) priority(a *Alert) Priority {
	return PriorityOf(a.Class, a.Risk, a.WrongPINs, r.WrongPINLimit)
}

func (r Rules) entry(c *Commit, a *Alert, e Entry) {
	a.Seq++
	e.Seq = a.Seq
	c.Entries = append(c.Entries, e)
}

func (r Rules) event(typ EventType, a *Alert, now time.Time) Event {
	ev := Event{Type: typ, Alert: a.ID, Case: a.CaseID, Team: a.Team, Priority: int(a.Priority), At: now}
	if a.Mode == ModePractice {
		ev.Only = a.Only
	}
	return ev
}

// setTimer (re)arms the alert's timer of kind with a fresh fence.
func (r Rules) setTimer(c *Commit, a *Alert, kind TimerKind, due time.Time) {
	f := newFence()
	a.Fences[kind] = f
	for i, t := range c.Timers {
		if t.Kind == kind && t.Target == a.ID {
			c.Timers = append(c.Timers[:i], c.Timers[i+1:]...)
			break
		}
	}
	c.Timers = append(c.Timers, Timer{Kind: kind, Target: a.ID, Due: due, Fence: f})
}

func (r Rules) dropTimer(c *Commit, a *Alert, kind TimerKind) {
	if _, ok := a.Fences[kind]; !ok {
		return
	}
	delete(a.Fences, kind)
	// A timer set earlier in this same commit is not set after all.
	c.Timers = slices.DeleteFunc(c.Timers, func(t Timer) bool { return t.Kind == kind && t.Target == a.ID })
	c.Drop = append(c.Drop, Timer{Kind: kind, Target: a.ID})
}

func (r Rules) dropAll(c *Commit, a *Alert) {
	for _, k := range []TimerKind{TimerStep, TimerAck, TimerExpire, TimerDeliver} {
		r.dropTimer(c, a, k)
	}
}

// retain sets how long a closed alert's records stay, counted from its
// close, so late notes do not stretch it.
func (r Rules) retain(c *Commit, a *Alert, now time.Time) {
	if !a.State.Terminal() {
		return
	}
	left := r.Retention - now.Sub(a.ClosedAt)
	if left < time.Minute {
		left = time.Minute
	}
	c.Retain = left
	trail := r.TrailRetention - now.Sub(a.ClosedAt)
	if trail < time.Minute {
		trail = time.Minute
	}
	c.TrailRetain = trail
}
