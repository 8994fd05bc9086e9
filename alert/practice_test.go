package alert

import (
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/casework"
	"waymark/pii"
)

const practiceBy = "s_caseworkerabcdefghi"

var practiceT0 = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

// practiceCase is a case whose caseworker opened a ten-minute practice
// window at practiceT0.
func practiceCase() CaseState {
	return CaseState{Case: casework.CaseFacts{ID: "c_practiceabcdefghijk", Team: "north", Risk: casework.RiskMedium, Owner: practiceBy,
		Practice: casework.PracticeWindow{Until: practiceT0.Add(10 * time.Minute), By: practiceBy}}}
}

func appSignal(kind Kind, pin casework.PIN, at time.Time) Signal {
	return Signal{Source: SourceApp, Kind: kind, CaseID: "c_practiceabcdefghijk", PIN: pin, At: at, DedupeKey: "app:x"}
}

func stepTimer(t *testing.T, c *Commit) Timer {
	t.Helper()
	for _, tm := range c.Timers {
		if tm.Kind == TimerStep {
			return tm
		}
	}
	t.Fatalf("no step timer set; timers %+v", c.Timers)
	return Timer{}
}

func TestPracticeDecidesNewAlerts(t *testing.T) {
	r := DefaultRules()
	for _, tc := range []struct {
		name     string
		sig      Signal
		window   bool // keep the case's window
		practice bool
	}{
		{"panic inside the window", appSignal(KindPanic, casework.PINNone, practiceT0.Add(time.Minute)), true, true},
		{"message inside the window", Signal{Source: SourceSMS, Kind: KindMessage, CaseID: "c_practiceabcdefghijk", At: practiceT0.Add(time.Minute), DedupeKey: "sms:x"}, true, true},
		{"panic a moment before the window ends", appSignal(KindPanic, casework.PINNone, practiceT0.Add(10*time.Minute-time.Millisecond)), true, true},
		{"panic as the window ends", appSignal(KindPanic, casework.PINNone, practiceT0.Add(10*time.Minute)), true, false},
		{"panic outside the window", appSignal(KindPanic, casework.PINNone, practiceT0.Add(31*time.Minute)), true, false},
		{"panic with no window", appSignal(KindPanic, casework.PINNone, practiceT0.Add(time.Minute)), false, false},
		{"duress PIN inside the window", appSignal(KindPanic, casework.PINDuress, practiceT0.Add(time.Minute)), true, false},
		{"check-in with the duress PIN inside the window", appSignal(KindCheckin, casework.PINDuress, practiceT0.Add(time.Minute)), true, false},
		{"duress word inside the window", Signal{Source: SourceSMS, Kind: KindPanic, CaseID: "c_practiceabcdefghijk", DuressWord: true, At: practiceT0.Add(time.Minute), DedupeKey: "sms:y"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := practiceCase()
			if !tc.window {
				st.Case.Practice = casework.PracticeWindow{}
			}
			c, err := r.OnSignal(st, tc.sig)
			if err != nil {
				t.Fatal(err)
			}
			a := c.Alert
			if a == nil || !c.Created {
				t.Fatalf("no new alert: %+v", c)
			}
			if got := a.Mode == ModePractice; got != tc.practice {
				t.Fatalf("mode %q, want practice %t", a.Mode, tc.practice)
			}
			ev := c.Events[len(c.Events)-1]
			step := stepTimer(t, c)
			if tc.practice {
				if a.Only != practiceBy || ev.Only != practiceBy {
					t.Errorf("practice alert for %q, event for %q; want both %q", a.Only, ev.Only, practiceBy)
				}
				if want := tc.sig.At.Add(casework.PracticeAckWait); !step.Due.Equal(want) {
					t.Errorf("step due %v, want the caseworker's deadline %v", step.Due, want)
				}
				if !strings.HasPrefix(c.Entries[0].Detail, "PRACTICE") {
					t.Errorf("raised entry %q does not say PRACTICE", c.Entries[0].Detail)
				}
				return
			}
			if a.Only != "" || ev.Only != "" {
				t.Errorf("real alert restricted to %q (event %q)", a.Only, ev.Only)
			}
			if step.Due.After(tc.sig.At.Add(r.CancelWindow)) {
				t.Errorf("real alert's first step at %v: later than the cancel window", step.Due)
			}
		})
	}
}

func TestMissedCheckinIsNeverPractice(t *testing.T) {
	r := DefaultRules()
	st := practiceCase()
	st.Checkins = &casework.Checkins{Active: true, Fence: "f1", NextDue: practiceT0, Schedule: casework.Schedule{Grace: time.Minute}}
	c := r.OnCheckinTimer(st, "f1", practiceT0.Add(2*time.Minute))
	if c == nil || c.Alert == nil {
		t.Fatal("missed check-in raised nothing")
	}
	if c.Alert.Mode != ModeReal || c.Alert.Only != "" {
		t.Errorf("missed check-in inside a practice window raised mode %q for %q; want real", c.Alert.Mode, c.Alert.Only)
	}
}

func TestWrongPINLimitIsNeverPractice(t *testing.T) {
	r := DefaultRules()
	st := practiceCase()
	st.Checkins = &casework.Checkins{WrongPINs: r.WrongPINLimit - 1}
	c, err := r.OnSignal(st, appSignal(KindCancel, casework.PINWrong, practiceT0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alert == nil || c.Alert.Mode != ModeReal {
		t.Fatalf("wrong-PIN limit inside a practice window: %+v; want a real alert", c.Alert)
	}
}

// openPractice raises a practice alert and returns it as the store would
// hand it back.
func openPractice(t *testing.T, r Rules) *Alert {
	t.Helper()
	c, err := r.OnSignal(practiceCase(), appSignal(KindPanic, casework.PINNone, practiceT0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alert.Mode != ModePractice {
		t.Fatalf("setup: mode %q", c.Alert.Mode)
	}
	return c.Alert
}

func TestPracticeTurnsReal(t *testing.T) {
	r := DefaultRules()
	for _, tc := range []struct {
		name string
		sig  Signal
		real bool
	}{
		{"another panic inside the window stays practice", appSignal(KindPanic, casework.PINNone, practiceT0.Add(2*time.Minute)), false},
		{"duress inside the window", appSignal(KindPanic, casework.PINDuress, practiceT0.Add(2*time.Minute)), true},
		{"a panic after the window ended", appSignal(KindPanic, casework.PINNone, practiceT0.Add(11*time.Minute)), true},
		{"a message after the window ended", Signal{Source: SourceSMS, Kind: KindMessage, CaseID: "c_practiceabcdefghijk", At: practiceT0.Add(40 * time.Minute), DedupeKey: "sms:z"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := openPractice(t, r)
			st := practiceCase()
			st.Open, st.Last = a, a
			c, err := r.OnSignal(st, tc.sig)
			if err != nil {
				t.Fatal(err)
			}
			n := c.Alert
			ev := c.Events[len(c.Events)-1]
			if !tc.real {
				if n.Mode != ModePractice || ev.Only != practiceBy || ev.Type != EventJoined {
					t.Errorf("mode %q, event %s for %q; want practice joined for the caseworker", n.Mode, ev.Type, ev.Only)
				}
				return
			}
			if n.Mode != ModeReal || n.Only != "" || ev.Only != "" {
				t.Fatalf("mode %q only %q event only %q; want real for everyone", n.Mode, n.Only, ev.Only)
			}
			if ev.Type != EventRaised {
				t.Errorf("event %s; want raised so the team's dashboards show it as new", ev.Type)
			}
			if step := stepTimer(t, c); step.Due.After(tc.sig.At) {
				t.Errorf("first real step at %v, want at once (%v)", step.Due, tc.sig.At)
			}
			if !slices.ContainsFunc(c.Entries, func(e Entry) bool { return e.Type == EntryReal }) {
				t.Errorf("no %q entry on the timeline: %+v", EntryReal, c.Entries)
			}
		})
	}
}

func TestPracticeNotAcknowledgedTurnsReal(t *testing.T) {
	r := DefaultRules()
	a := openPractice(t, r)
	due := practiceT0.Add(time.Minute + casework.PracticeAckWait)
	c := r.OnTimer(a, Timer{Kind: TimerStep, Target: a.ID, Fence: a.Fences[TimerStep], Due: due}, due)
	if c == nil || c.Alert == nil {
		t.Fatal("the practice deadline did nothing")
	}
	n := c.Alert
	if n.Mode != ModeReal || n.State != StateRaised || n.Owner != "" {
		t.Fatalf("after the deadline: mode %q state %s owner %q; want real, raised, unowned", n.Mode, n.State, n.Owner)
	}
	if ev := c.Events[len(c.Events)-1]; ev.Type != EventRaised || ev.Only != "" {
		t.Errorf("event %s for %q; want raised for the whole team", ev.Type, ev.Only)
	}
	if step := stepTimer(t, c); !step.Due.Equal(due) || n.Fences[TimerStep] != step.Fence {
		t.Errorf("step %+v, fences %v: want the first real step now", step, n.Fences)
	}
	if slices.ContainsFunc(c.Drop, func(tm Timer) bool { return tm.Kind == TimerStep }) && len(c.Timers) == 0 {
		t.Error("the step timer was dropped and not set again")
	}
}

func TestPracticeAcknowledgedStaysPractice(t *testing.T) {
	r := DefaultRules()
	a := openPractice(t, r)
	c, err := r.Ack(a, Actor{ID: practiceBy, Name: "Casey"}, practiceT0.Add(90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Alert
	if n.Mode != ModePractice || n.Fences[TimerStep] != "" {
		t.Fatalf("acknowledged practice: mode %q fences %v; want practice with no step pending", n.Mode, n.Fences)
	}
	// The old deadline timer, if a stale worker still runs it, does nothing.
	due := practiceT0.Add(time.Minute + casework.PracticeAckWait)
	if c := r.OnTimer(n, Timer{Kind: TimerStep, Target: a.ID, Fence: a.Fences[TimerStep], Due: due}, due); c != nil {
		t.Errorf("stale deadline changed the acknowledged practice alert: %+v", c.Alert)
	}
}

func TestPracticeHandedOverTurnsReal(t *testing.T) {
	r := DefaultRules()
	a := openPractice(t, r)
	c, _ := r.Ack(a, Actor{ID: practiceBy}, practiceT0.Add(90*time.Second))
	c, err := r.HandOver(c.Alert, Actor{ID: practiceBy}, Actor{ID: "s_colleagueabcdefghij", Name: "Col"}, pii.NewText("over to you"), practiceT0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Alert
	if n.Mode != ModeReal || n.Owner != "s_colleagueabcdefghij" || n.State != StateAcknowledged {
		t.Errorf("handed-over practice: mode %q owner %q state %s", n.Mode, n.Owner, n.State)
	}
	if n.Fences[TimerStep] != "" || slices.ContainsFunc(c.Timers, func(tm Timer) bool { return tm.Kind == TimerStep }) {
		t.Errorf("a claimed alert must not escalate: fences %v timers %+v", n.Fences, c.Timers)
	}
}

func TestDrillRules(t *testing.T) {
	r := DefaultRules()
	now := practiceT0
	c, err := r.Drill("north", casework.RiskHigh, nil, Actor{ID: "admin-cli", Name: "Admin"}, now)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Alert
	if !c.Created || a.Mode != ModeDrill || a.CaseID != "" || a.Team != "north" || a.Source != SourceDrill || a.Risk != casework.RiskHigh {
		t.Fatalf("drill alert %+v", a)
	}
	if step := stepTimer(t, c); !step.Due.Equal(now) {
		t.Errorf("drill's first step at %v, want now", step.Due)
	}
	if !strings.Contains(c.Entries[0].Detail, "DRILL") {
		t.Errorf("raised entry %q does not say DRILL", c.Entries[0].Detail)
	}
	for _, bad := range []struct {
		team string
		risk casework.Risk
	}{{"", casework.RiskHigh}, {"north", "extreme"}} {
		if _, err := r.Drill(bad.team, bad.risk, nil, Actor{}, now); err == nil {
			t.Errorf("Drill(%q, %q) accepted", bad.team, bad.risk)
		}
	}
	if SourceDrill.Valid() {
		t.Error("a signal may not claim to be a drill")
	}
}

// TestIntakeEventsCarryExclusions: the intake's events of a case carry the
// exclusion list it read with the signal, for the hub's live fan-out.
func TestIntakeEventsCarryExclusions(t *testing.T) {
	c := &Commit{Events: []Event{{Type: EventRaised, Case: "c_one"}, {Type: EventCheckins, Case: "c_other"}}}
	withExclusions(c, &casework.Case{ID: "c_one", Excluded: []string{"s_bob"}})
	if e := c.Events[0]; !e.ExcludedKnown || !slices.Equal(e.Excluded, []string{"s_bob"}) {
		t.Errorf("the case's event = %+v, want its exclusions carried", e)
	}
	if e := c.Events[1]; e.ExcludedKnown {
		t.Errorf("another case's event carries exclusions: %+v", e)
	}
	withExclusions(c, nil) // no record read: nothing changes, nothing breaks
}
