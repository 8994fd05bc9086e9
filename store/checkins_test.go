package store

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/internal/testenv"
)

func (e *alertEnv) setSchedule(caseID string, s *casework.Schedule) {
	e.t.Helper()
	err := e.svc.App(context.Background(), caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindSchedule, PIN: "1111", Schedule: s})
	if err != nil {
		e.t.Fatal(err)
	}
}

// tickAll runs one scheduler pass on every service at once, as instances
// whose loops happen to line up would.
func tickAll(t *testing.T, svcs ...*alert.Service) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range svcs {
		wg.Go(func() {
			if _, err := s.Tick(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestMissedCheckinTwoInstancesOneAlert(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	caseID := e.newCase()
	e.setSchedule(caseID, &casework.Schedule{Every: time.Hour, Grace: 10 * time.Minute})
	other := e.service(e.secondStore())

	e.clk.Advance(69 * time.Minute)
	tickAll(t, e.svc, other)
	if n := e.countAlerts(); n != 0 {
		t.Fatalf("%d alerts before the end of grace", n)
	}
	e.clk.Advance(time.Minute)
	for range 3 {
		tickAll(t, e.svc, other, e.svc, other)
	}
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts after a missed check-in on two instances, want 1", n)
	}
	a := e.openAlert(caseID)
	if a.Class != alert.ClassMissed {
		t.Errorf("class %s, want missed check-in", a.Class)
	}
	ci, log, err := e.s.Checkins(context.Background(), caseID)
	if err != nil || !ci.Paused || !ci.Active || ci.Schedule.Every != time.Hour {
		t.Fatalf("check-ins %+v, %v", ci, err)
	}
	if len(log) != 1 {
		t.Errorf("check-in log has %d entries, want 1", len(log))
	}
	// Paused until the next check-in.
	e.clk.Advance(5 * time.Hour)
	tickAll(t, e.svc, other)
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts while paused, want 1", n)
	}
	// A check-in resumes the schedule; the next miss joins the open alert.
	if err := e.svc.App(context.Background(), caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindCheckin, PIN: "1111"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(71 * time.Minute)
	tickAll(t, e.svc, other)
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts, want the second miss joined to the open one", n)
	}
	var misses int
	for _, en := range e.openAlert(caseID).Timeline {
		if en.Type == alert.EntryRaised || en.Type == alert.EntryJoined {
			misses++
		}
	}
	if misses != 2 {
		t.Errorf("%d missed check-ins on the timeline, want 2", misses)
	}
}

func TestMissedCheckinSurvivesRestartOfEverything(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{AOF: true})
	caseID := e.newCase()
	e.setSchedule(caseID, &casework.Schedule{Times: []string{"10:30"}, Grace: 15 * time.Minute})
	// 10:30 London is 10:30 UTC in November; due plus grace is 10:45.
	e.clk.Advance(35 * time.Minute) // 10:35: past due, inside grace
	other := e.service(e.secondStore())
	tickAll(t, e.svc, other)
	if n := e.countAlerts(); n != 0 {
		t.Fatalf("%d alerts inside grace", n)
	}
	// Both instances go away, and Redis restarts from its AOF.
	e.s.Close()
	e.r.Stop()
	e.r.Restart()
	s3, s4 := e.secondStore(), e.secondStore()
	e.s = s3
	a3, a4 := e.service(s3), e.service(s4)
	e.clk.Advance(10 * time.Minute) // 10:45
	tickAll(t, a3, a4)
	if n := e.countAlerts(); n != 1 {
		t.Fatalf("%d alerts after restarting everything, want 1", n)
	}
}

func TestCheckinScheduleIsSealed(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	caseID := e.newCase()
	e.setSchedule(caseID, &casework.Schedule{Times: []string{"07:13", "21:47"}, Grace: 10 * time.Minute})
	h := e.s.RDB.HGetAll(context.Background(), e.s.k.checkins(caseID)).Val()
	if h["active"] != "1" {
		t.Errorf("plain field active = %q, want 1", h["active"])
	}
	dump := dumpAll(t, e.s)
	for _, secret := range []string{"07:13", "21:47"} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("redis holds the check-in time %s in the clear", secret)
		}
	}
	// Stopping with the real PIN: active "0", no timer.
	err := e.svc.App(context.Background(), caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindSchedule, PIN: "1111"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.s.RDB.HGet(context.Background(), e.s.k.checkins(caseID), "active").Val(); got != "0" {
		t.Errorf("active after stop = %q", got)
	}
	if n, _ := e.s.PendingTimers(context.Background()); n != 0 {
		t.Errorf("%d timers after stop", n)
	}
}
