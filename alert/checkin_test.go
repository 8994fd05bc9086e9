package alert

import (
	"context"
	"testing"
	"time"

	"waymark/casework"
	"waymark/wallclock"
)

func TestMissedCheckinRaisesOneAlertAndPauses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sched := &casework.Schedule{Every: time.Hour, Grace: 10 * time.Minute}
	if err := h.svc.App(ctx, caseA, AppSignal{RequestID: "sched-abcdefghijklmn", Kind: KindSchedule, PIN: "1111", Schedule: sched}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(69 * time.Minute)
	h.tick()
	if len(h.st.alerts) != 0 {
		t.Fatal("alert raised before due plus grace")
	}
	h.clk.Advance(time.Minute)
	h.tick()
	h.tick()
	a := h.open(caseA)
	if a.Class != ClassMissed || a.Source != SourceCheckin {
		t.Errorf("alert class %s source %s, want missed check-in", a.Class, a.Source)
	}
	ci, log, _ := h.st.Checkins(ctx, caseA)
	if !ci.Paused || !ci.Active {
		t.Errorf("checkins after a miss: paused %v active %v, want paused and active", ci.Paused, ci.Active)
	}
	if len(log) != 1 || log[0].Type != EntrySchedule {
		t.Errorf("check-in log = %+v, want one schedule entry", log)
	}
	// Paused: hours later nothing more is raised.
	for range 10 {
		h.clk.Advance(time.Hour)
		h.tick()
	}
	if n := len(h.st.alerts); n != 1 {
		t.Fatalf("%d alerts while paused, want 1", n)
	}
	// A real check-in resumes it and notes "safe" on the open alert.
	h.app(caseA, KindCheckin, "1111")
	ci, _, _ = h.st.Checkins(ctx, caseA)
	if ci.Paused || !ci.NextDue.Equal(h.clk.Now().Add(time.Hour)) {
		t.Errorf("after check-in: paused %v next %v", ci.Paused, ci.NextDue)
	}
	if got := entryTypes(h.open(caseA)); got[len(got)-1] != EntrySafe {
		t.Errorf("last entry %s, want checkin-safe", got[len(got)-1])
	}
}

func TestScheduleChangeWithDuressPIN(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sched := &casework.Schedule{Every: time.Hour}
	h.svc.App(ctx, caseA, AppSignal{RequestID: "sched-one-abcdefghijk", Kind: KindSchedule, PIN: "1111", Schedule: sched})
	// Stopping check-ins with the duress PIN: looks done, is not, raises.
	if err := h.svc.App(ctx, caseA, AppSignal{RequestID: "sched-two-abcdefghijk", Kind: KindSchedule, PIN: "2222"}); err != nil {
		t.Fatal(err)
	}
	ci, log, _ := h.st.Checkins(ctx, caseA)
	if !ci.Active {
		t.Error("duress PIN stopped check-ins")
	}
	if !h.open(caseA).Duress() {
		t.Error("no duress alert")
	}
	if len(log) != 2 || log[1].Type != EntryDuressChange {
		t.Errorf("log = %+v, want the duress attempt recorded", log)
	}
	// The real PIN stops them.
	h.svc.App(ctx, caseA, AppSignal{RequestID: "sched-three-abcdefghi", Kind: KindSchedule, PIN: "1111"})
	ci, _, _ = h.st.Checkins(ctx, caseA)
	if ci.Active || len(h.st.timers) != 1 { // the duress alert's step remains
		t.Errorf("after stop: active %v, %d timers", ci.Active, len(h.st.timers))
	}
}

func london(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, wallclock.London())
	if err != nil {
		panic(err)
	}
	return t
}
