package alert

import (
	"context"
	"fmt"
	"time"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/problem"
)

// Practice mode and drills (issue 10, item 5; DESIGN.md, Records and
// practice).
//
// A caseworker opens a practice window of up to 30 minutes on a case. A
// panic or message the survivor raises inside it becomes a practice alert:
// shown only to that caseworker, marked PRACTICE, paging nobody. Anything
// unclear makes it real, because a survivor who meant it must not be left
// with a caseworker who thinks it is a rehearsal:
//
//   - a duress signal (PIN or word) is never practice, and turns an open
//     practice alert real;
//   - a missed check-in is never practice (the survivor did nothing);
//   - a signal after the window ended turns the open practice alert real;
//   - a practice alert the caseworker has not acknowledged within
//     PracticeAckWait turns real;
//   - a practice alert put back in the queue or handed over turns real.
//
// Turning real puts the alert in the team's queue as a new alert, unowned,
// escalating from the policy's first step at once. Nothing the survivor's
// phone sees differs: the app and SMS answers are the same either way.
//
// A drill (`waymark drill --team T`) is an alert with no case that runs
// through the whole path, rota, escalation, pages and the fallback, with
// every page and dashboard card labelled DRILL.

// SourceDrill is the source of a drill alert. It is not a signal source
// (Source.Valid refuses it): only Service.Drill raises one.
const SourceDrill Source = "drill"

// EntryReal is the timeline entry of a practice alert turning real.
const EntryReal EntryType = "practice-real"

// practiceFor reports whether a new alert raised by sig on st's case is a
// practice alert, and for whom.
func practiceFor(st CaseState, sig Signal, cls Class) (string, bool) {
	w := st.Case.Practice
	if st.Case.ID == "" || cls == ClassDuress || sig.Kind == KindMissed || sig.Source == SourceCheckin {
		return "", false
	}
	if !w.OpenAt(sig.At) {
		return "", false
	}
	return w.By, true
}

// practiceLapse is why a signal joining an open practice alert makes it
// real ("" when it stays practice).
func practiceLapse(st CaseState, sig Signal, cls Class) string {
	switch {
	case cls == ClassDuress:
		return "a duress signal arrived"
	case sig.Kind == KindMissed || sig.Source == SourceCheckin:
		return "a check-in was missed"
	case !st.Case.Practice.OpenAt(sig.At):
		return "a signal arrived after the practice window ended"
	}
	return ""
}

// makeReal turns a practice alert into a real one: visible to the team,
// unowned, escalating from the first step now (after the cancel window, if
// one is still running). why is fixed wording for the timeline.
func (r Rules) makeReal(c *Commit, a *Alert, now time.Time, why string) {
	if a.Mode != ModePractice {
		return
	}
	a.Mode, a.Only = ModeReal, ""
	r.entry(c, a, Entry{At: now, Type: EntryReal, By: BySystem, Detail: "practice alert treated as real: " + why})
	if !a.State.Live() {
		return
	}
	a.State, a.Owner, a.OwnerName, a.Step = StateRaised, "", "", 0
	a.AckedAt = time.Time{}
	a.Esc = Escalation{Token: newFence()}
	r.dropTimer(c, a, TimerAck)
	r.dropTimer(c, a, TimerDeliver)
	due := now
	if a.CancelUntil.After(now) {
		due = a.CancelUntil
	}
	r.setTimer(c, a, TimerStep, due)
	a.UpdatedAt = now
}

// practiceLapsed handles the step timer of a practice alert: it falls
// PracticeAckWait after the raise, and an alert still unclaimed then is
// real.
func (r Rules) practiceLapsed(c *Commit, n *Alert, now time.Time) *Commit {
	if n.State != StateRaised || n.Owner != "" {
		return c
	}
	r.makeReal(c, n, now, "not acknowledged by the caseworker within 2 minutes")
	c.Alert = n
	c.Events = append(c.Events, r.event(EventRaised, n, now))
	return c
}

// Drill decides a drill alert for team: a panic at risk level risk with no
// case, escalating at once under the team's policies ps (nil: defaults).
func (r Rules) Drill(team string, risk casework.Risk, ps *oncall.PolicySet, by Actor, now time.Time) (*Commit, error) {
	inv := &problem.Invalid{}
	if team == "" {
		inv.Add("team", "is required")
	}
	if !risk.Valid() {
		inv.Add("risk", "must be standard, medium or high")
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	if ps == nil {
		ps = oncall.DefaultPolicies()
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	a := &Alert{
		ID: randid.New("a_", 20), Team: team, Source: SourceDrill, Mode: ModeDrill,
		Class: ClassPanic, Risk: risk, State: StateRaised, RaisedAt: now, UpdatedAt: now,
		Fences: map[TimerKind]string{}, Policy: ps, Esc: Escalation{Token: newFence()},
	}
	who := by.Name
	if who == "" {
		who = by.ID
	}
	r.entry(c, a, Entry{At: now, Type: EntryRaised, By: by.ID, ByName: by.Name,
		Detail: fmt.Sprintf("DRILL raised by %s to test the rota and phones: there is no survivor", who)})
	r.setTimer(c, a, TimerStep, now)
	a.Priority = r.priority(a)
	c.Alert, c.Created = a, true
	c.Events = append(c.Events, r.event(EventRaised, a, now))
	return c, nil
}

// Drill raises a drill alert for team through the whole alert path: it is
// stored, shown on the team's dashboards and escalated by the scheduler of
// any running instance, every page labelled DRILL. It returns the alert id.
func (s *Service) Drill(ctx context.Context, team string, risk casework.Risk, by Actor) (string, error) {
	attempt := 0
	res, err := s.store.DecideCase(ctx, "", func(CaseState) (*Commit, error) {
		attempt++
		ps, guard, err := s.intakePolicies(ctx, team, attempt > 1)
		if err != nil {
			return nil, err
		}
		c, err := s.cfg.Rules.Drill(team, risk, ps, by, s.now())
		if c != nil {
			c.GuardPolicies = guard
		}
		return c, err
	})
	if err != nil {
		return "", fmt.Errorf("alert: drill: %w", err)
	}
	return res.AlertID, nil
}
