package main

import (
	"syscall"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/testenv"
)

// TestClaimLapseSurvivesSIGKILL (issue 16): a claimed alert whose owner
// shows no progress is warned after the acknowledgement timeout and
// lapses ClaimLapseGrace later: back in the queue, and the escalation
// pages the next tier. The instance holding the lapse timer is killed
// with SIGKILL as it falls due (the other is stopped for that moment, so
// only the killed one can have taken it); the survivor runs it within the
// timer lease. About three and a half minutes: the shortest timeout a
// policy takes is one minute, and the grace is two.
func TestClaimLapseSurvivesSIGKILL(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	if testing.Short() {
		t.Skip("three and a half minutes of real time")
	}
	bin := faultBinary(t)
	e := newFaultEnv(t, bin, faultPolicyFile(`
  ack_timeout: 1m
  steps:
    - {whom: [oncall:primary], how: [sms], wait: 10m}
    - {whom: [oncall:secondary], how: [sms], wait: 10m}
    - {whom: [fallback], how: [voice], wait: 10m}
`))
	a, b := e.start("a"), e.start("b")
	t0 := time.Now()
	if _, code := e.raise(a); code != 200 {
		t.Fatalf("raise = %d", code)
	}
	waitFor(t, 10*time.Second, "the primary paged", func() bool { return e.rec.count("message", "prim", t0) > 0 })
	claimed := e.claimAll()
	id := e.openAlerts()[0].ID

	// The warning, one acknowledgement timeout after the claim.
	var warned time.Time
	waitFor(t, time.Minute+15*time.Second, "the owner warned", func() bool {
		for _, en := range e.alertByID(id).Timeline {
			if en.Type == alert.EntryQuiet {
				warned = en.At
			}
		}
		return !warned.IsZero()
	})
	if late := warned.Sub(claimed.Add(time.Minute)); late < -time.Second || late > 7*time.Second {
		t.Errorf("warned %v after the timeout was due", late.Round(time.Millisecond))
	}
	due := warned.Add(alert.ClaimLapseGrace)
	<-time.After(time.Until(due.Add(-time.Second)))
	b.signal(t, syscall.SIGSTOP)
	<-time.After(time.Until(due.Add(100 * time.Millisecond)))
	a.kill(t)
	killed := time.Now()
	b.signal(t, syscall.SIGCONT)

	const slack = 5*time.Second + 2*time.Second // the timer lease, and a tick or two
	var lapsed time.Time
	waitFor(t, slack+5*time.Second, "the claim lapsed", func() bool {
		al := e.alertByID(id)
		for _, en := range al.Timeline {
			if en.Type == alert.EntryLapsed {
				lapsed = en.At
			}
		}
		return !lapsed.IsZero() && al.Owner == ""
	})
	t.Logf("lapse due %v after the warning; ran %v after it was due (holder killed %v after)",
		alert.ClaimLapseGrace, lapsed.Sub(due).Round(time.Millisecond), killed.Sub(due).Round(time.Millisecond))
	if late := lapsed.Sub(due); late < -time.Second || late > slack {
		t.Errorf("lapsed %v after it was due; want within the lease", late.Round(time.Millisecond))
	}
	al := e.alertByID(id)
	if al.State != alert.StateRaised || al.Esc.Lapsed.IsZero() {
		t.Errorf("after the lapse: %s, lapsed at %v; want raised and marked", al.State, al.Esc.Lapsed)
	}
	waitFor(t, 10*time.Second, "the next tier paged", func() bool { return e.rec.count("message", "sec", due) > 0 })
}
