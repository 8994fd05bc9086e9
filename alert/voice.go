package alert

import (
	"context"
	"errors"
	"slices"
	"time"

	"waymark/casework"
	"waymark/oncall"
)

// A voice page counts only when a person takes it: the call asks the
// callee to press 1, and only that press counts as delivered. A press by
// a responder claims the alert if nobody holds it, by the same
// first-claim-wins rule as the dashboard. No answer, a busy line, a failed
// call, a hang-up or no press within the call moves the recipient to
// their next channel at once, on the call's status callback; a call whose
// outcome never arrives counts as unanswered VoiceAnswerWait after Twilio
// accepted it.

// VoiceAnswerWait is how long after the provider accepted a call Waymark
// waits for its outcome before counting it unanswered: a call rings for
// about 30 s, says the page twice and waits for a key, and its status
// callback may come late.
const VoiceAnswerWait = 90 * time.Second

// Timeline entry types of pages.
const (
	EntryPaged    EntryType = "paged"    // the provider accepted a page, or reported it delivered
	EntryAnswered EntryType = "answered" // the callee of a voice page pressed 1
)

// Page outcomes of voice pages (metrics).
const (
	PageAnswered   PageOutcome = "answered"   // the callee pressed 1
	PageUnanswered PageOutcome = "unanswered" // no answer, busy, failed, or no press: next channel at once
)

// CallAnswer is what a press of 1 on a voice page did.
type CallAnswer string

// Call answers.
const (
	AnswerTaken CallAnswer = "taken" // the callee claimed the alert with the press
	AnswerHeld  CallAnswer = "held"  // the alert is held already (by someone else, or a repeat)
	AnswerNoted CallAnswer = "noted" // the 24/7 fallback has it (it cannot claim)
	AnswerStale CallAnswer = "stale" // not a page the alert waits on: nothing changed
)

// Names are staff display names by staff id, for the timeline's plain
// words. A missing name reads "a responder"; the fallback has its own.
type Names map[string]string

// whom names a page's recipient in the timeline.
func (n Names) whom(who string) string {
	switch {
	case who == FallbackWho:
		return "the 24/7 fallback"
	case n[who] != "":
		return n[who]
	default:
		return "a responder"
	}
}

// pageLine says in plain words what became of a page: "Texted Ruth
// Okafor — delivered", "Rang the 24/7 fallback — no answer".
func pageLine(ch oncall.Channel, whom, result string) string {
	return ch.Did(whom) + " \u2014 " + result
}

// nextWay is what happens to a recipient moved on from a failed page.
func nextWay(tg Target) string {
	if tg.State == TargetFailed {
		return "; no other way to reach them"
	}
	return "; trying " + tg.Channel.Noun() + " now"
}

// failPage moves on a recipient whose page failed (refused, undelivered,
// unanswered): to their next channel, or, where the step says
// if_unreached: next-step, out of the step, so that once nobody in it can
// be reached the next step runs at once. It returns the words that say
// which.
func (r Rules) failPage(c *Commit, a *Alert, esc *Escalation, tg Target, now time.Time) (Target, string) {
	if s, _ := policyOf(a).StepAt(esc.Ran); s.Unreached == oncall.UnreachedNextStep && len(tg.Rest) > 0 {
		tg.Page, tg.SID, tg.Checked = "", "", false
		tg.Channel, tg.Rest, tg.State, tg.Since = "", nil, TargetFailed, now
		return tg, "; the policy moves on to the next step rather than their other ways"
	}
	tg = r.advance(c, a, esc, tg, now, r.stepWait(a))
	return tg, nextWay(tg)
}

// sentTarget is the index of the recipient waiting on the page the
// provider knows by sid through channel ch, or -1.
func sentTarget(a *Alert, sid string, ch oncall.Channel) int {
	if a == nil || sid == "" || a.State != StateRaised || a.Owner != "" {
		return -1
	}
	return slices.IndexFunc(a.Esc.Targets, func(t Target) bool {
		return t.SID == sid && t.State == TargetSent && t.Channel == ch && !t.Checked
	})
}

// OnCallPressed records that the callee of the voice page sid pressed 1.
// A responder claims the alert with it (first claim wins; by is them);
// the fallback's press counts as delivered. Anything else changes
// nothing: a press for a call that is not a current page, or for an
// alert someone already holds.
func (r Rules) OnCallPressed(a *Alert, sid string, by Actor, wait time.Duration, now time.Time) (*Commit, CallAnswer) {
	if a != nil && a.Open() && a.Owner != "" {
		if a.Owner == by.ID {
			return nil, AnswerTaken
		}
		return nil, AnswerHeld
	}
	i := sentTarget(a, sid, oncall.ChannelVoice)
	if i < 0 {
		return nil, AnswerStale
	}
	tg := a.Esc.Targets[i]
	if tg.Who == FallbackWho {
		c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
		n := a.clone()
		n.Esc = n.Esc.clone()
		n.Esc.Targets[i].State, n.Esc.Targets[i].Since = TargetSeen, now
		r.entry(c, n, Entry{At: now, Type: EntryAnswered, By: BySystem,
			Detail: pageLine(oncall.ChannelVoice, Names(nil).whom(FallbackWho), "pressed 1: they have it")})
		r.armDeliver(c, n, wait)
		n.UpdatedAt = now
		c.Alert = n
		return c, AnswerNoted
	}
	if tg.Who != by.ID {
		return nil, AnswerStale
	}
	n := a.clone()
	pre := &Commit{}
	r.entry(pre, n, Entry{At: now, Type: EntryAnswered, By: by.ID, ByName: by.Name,
		Detail: pageLine(oncall.ChannelVoice, Names{by.ID: by.Name}.whom(by.ID), "pressed 1 and took the alert")})
	c, err := r.Ack(n, by, now)
	if err != nil || c == nil {
		return nil, AnswerStale
	}
	c.Entries = append(pre.Entries, c.Entries...)
	return c, AnswerTaken
}

// OnCallUnanswered moves the recipient of the voice page sid to their next
// channel at once: nobody answered, the line was busy, the call failed,
// or the callee did not press 1 (why says which, in plain words). A
// report about a call the alert no longer waits on changes nothing (nil).
func (r Rules) OnCallUnanswered(a *Alert, sid, why string, names Names, wait time.Duration, now time.Time) *Commit {
	return r.onSentFailed(a, oncall.ChannelVoice, sid, why, names, wait, now)
}

// OnTextDelivered notes on the timeline that a text page reached its
// recipient's phone (the provider's "delivered"), and stops watching it.
// nil for a text the alert no longer waits on.
func (r Rules) OnTextDelivered(a *Alert, sid string, names Names, wait time.Duration, now time.Time) *Commit {
	i := sentTarget(a, sid, oncall.ChannelSMS)
	if i < 0 {
		return nil
	}
	c := &Commit{EventRetention: r.EventRetention, Retention: r.Retention}
	n := a.clone()
	n.Esc = n.Esc.clone()
	n.Esc.Targets[i].Checked = true
	r.entry(c, n, Entry{At: now, Type: EntryPaged, By: BySystem,
		Detail: pageLine(oncall.ChannelSMS, names.whom(a.Esc.Targets[i].Who), "delivered")})
	r.armDeliver(c, n, wait)
	n.UpdatedAt = now
	c.Alert = n
	return c
}

// names looks up the display names of an alert's current recipients, for
// the timeline. A name that cannot be read is left out (it reads "a
// responder"): the escalation must not wait on it.
func (s *Service) names(ctx context.Context, a *Alert) Names {
	out := Names{}
	if s.esc == nil || s.esc.People == nil || a == nil {
		return out
	}
	for _, tg := range a.Esc.Targets {
		if tg.Who == FallbackWho || out[tg.Who] != "" {
			continue
		}
		if p, err := s.esc.People.Person(ctx, tg.Who); err == nil {
			out[tg.Who] = p.Name
		}
	}
	return out
}

// CallPressed records that the callee of the voice page sid, placed for
// alertID, pressed 1, and says what that did. An unknown alert is stale.
func (s *Service) CallPressed(ctx context.Context, alertID, sid string) (CallAnswer, error) {
	answer := AnswerStale
	_, err := s.store.DecideAlert(ctx, alertID, func(a *Alert) (*Commit, error) {
		answer = AnswerStale
		var by Actor
		if a.Owner == "" {
			i := sentTarget(a, sid, oncall.ChannelVoice)
			if i < 0 {
				return nil, nil
			}
			if who := a.Esc.Targets[i].Who; who != FallbackWho {
				if s.esc == nil || s.esc.People == nil {
					return nil, nil
				}
				p, err := s.esc.People.Person(ctx, who)
				if err != nil {
					return nil, err
				}
				by = Actor{ID: p.ID, Name: p.Name}
			}
		}
		c, ans := s.cfg.Rules.OnCallPressed(a, sid, by, s.receiptWait(), s.now())
		answer = ans
		return c, nil
	})
	switch {
	case errors.Is(err, casework.ErrNotFound):
		return AnswerStale, nil
	case err != nil:
		return AnswerStale, err
	}
	if answer == AnswerTaken || answer == AnswerNoted {
		s.metrics().Page(oncall.ChannelVoice, PageAnswered)
	}
	return answer, nil
}

// CallUnanswered reports that the voice page sid, placed for alertID, was
// not taken (why says how, in plain words): its recipient's next channel
// is tried at once. Unknown alerts and calls are ignored.
func (s *Service) CallUnanswered(ctx context.Context, alertID, sid, why string) error {
	return s.sentFailed(ctx, alertID, oncall.ChannelVoice, PageUnanswered, func(a *Alert, names Names) *Commit {
		return s.cfg.Rules.OnCallUnanswered(a, sid, why, names, s.receiptWait(), s.now())
	})
}

// TextDelivered notes that the text page sid, sent for alertID, was
// delivered. Unknown alerts and texts are ignored.
func (s *Service) TextDelivered(ctx context.Context, alertID, sid string) error {
	_, err := s.store.DecideAlert(ctx, alertID, func(a *Alert) (*Commit, error) {
		return s.cfg.Rules.OnTextDelivered(a, sid, s.names(ctx, a), s.receiptWait(), s.now()), nil
	})
	if errors.Is(err, casework.ErrNotFound) {
		return nil
	}
	return err
}
