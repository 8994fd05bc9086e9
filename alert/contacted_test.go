package alert

import (
	"errors"
	"testing"
	"time"
)

// TestContacted: a call or text through Waymark is the owner's timeline
// line and progress on the claim (the acknowledgement timeout restarts and
// a warning is withdrawn); anyone else, or a closed alert, is refused and
// nothing changes.
func TestContacted(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC)
	r := Rules{AckTimeout: 15 * time.Minute}
	claimed := func() *Alert {
		return &Alert{ID: "a_alertalertalertalert", State: StateAcknowledged, Owner: "s_own", OwnerName: "Ruth Okafor",
			AckedAt: now.Add(-20 * time.Minute), ActiveAt: now.Add(-20 * time.Minute),
			Esc: Escalation{Warned: now.Add(-time.Minute)}}
	}
	for _, how := range []EntryType{EntryCalled, EntryTexted} {
		c, err := r.Contacted(claimed(), Actor{ID: "s_own", Name: "Ruth Okafor"}, how, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Entries) != 1 || c.Entries[0].Type != how || c.Entries[0].ByName != "Ruth Okafor" || c.Entries[0].Detail != "" {
			t.Errorf("%s: entries %+v", how, c.Entries)
		}
		if !c.Alert.ActiveAt.Equal(now) || !c.Alert.Esc.Warned.IsZero() {
			t.Errorf("%s: not progress: active %v warned %v", how, c.Alert.ActiveAt, c.Alert.Esc.Warned)
		}
		var ack *Timer
		for i := range c.Timers {
			if c.Timers[i].Kind == TimerAck {
				ack = &c.Timers[i]
			}
		}
		if ack == nil || !ack.Due.Equal(now.Add(15*time.Minute)) {
			t.Errorf("%s: ack timer %+v, want due in one timeout", how, ack)
		}
	}
	if _, err := r.Contacted(claimed(), Actor{ID: "s_other"}, EntryCalled, now); !errors.Is(err, ErrNotOwner) {
		t.Errorf("not the owner: %v", err)
	}
	closed := claimed()
	closed.State = StateResolved
	if _, err := r.Contacted(closed, Actor{ID: "s_own"}, EntryCalled, now); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}
