package smsstatus

import (
	"context"
	"sync"
	"testing"

	"waymark/internal/testenv"
)

func TestSMSStatusKeepsMostFinal(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	const sid = "SM0123456789abcdef0123456789abcdef"
	if err := s.RecordPage(ctx, sid, "a_abcdefghijklmnopqrst", "queued", 1); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		state   string
		rank    int
		code    int
		changed bool
		want    string
	}{
		{"sent", 3, 0, true, "sent"},
		{"sending", 2, 0, false, "sent"}, // late
		{"sent", 3, 0, false, "sent"},    // repeat
		{"undelivered", 4, 30003, true, "undelivered"},
		{"delivered", 4, 0, false, "undelivered"}, // first final wins
		{"queued", 1, 0, false, "undelivered"},
	}
	for i, st := range steps {
		changed, alertID, err := s.UpdateSMSStatus(ctx, sid, st.state, st.rank, st.code)
		if err != nil {
			t.Fatal(err)
		}
		if changed != st.changed || alertID != "a_abcdefghijklmnopqrst" {
			t.Errorf("step %d (%s): changed=%v alert=%q, want %v and the alert", i, st.state, changed, alertID, st.changed)
		}
		got, ok, err := s.GetSMSStatus(ctx, sid)
		if err != nil || !ok {
			t.Fatalf("GetSMSStatus = %v, %v", ok, err)
		}
		if got.State != st.want {
			t.Errorf("step %d: state %q, want %q", i, got.State, st.want)
		}
	}
	got, _, _ := s.GetSMSStatus(ctx, sid)
	if got.ErrorCode != 30003 {
		t.Errorf("error code %d, want 30003", got.ErrorCode)
	}
	ttl := s.RDB.PTTL(ctx, s.k.smsStatus(s.Tag("sms", sid))).Val()
	if ttl <= 0 || ttl > SMSStatusLifetime {
		t.Errorf("ttl %v, want within %v", ttl, SMSStatusLifetime)
	}
}

func TestSMSStatusCallbackBeforeRecord(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	const sid = "SMffffffffffffffffffffffffffffffff"
	changed, alertID, err := s.UpdateSMSStatus(ctx, sid, "failed", 4, 30005)
	if err != nil || !changed || alertID != "" {
		t.Fatalf("first callback = %v %q %v, want changed, no alert", changed, alertID, err)
	}
	if err := s.RecordPage(ctx, sid, "a_bbbbbbbbbbbbbbbbbbbb", "queued", 1); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.GetSMSStatus(ctx, sid)
	if got.State != "failed" || got.AlertID != "a_bbbbbbbbbbbbbbbbbbbb" {
		t.Errorf("after record: %+v, want failed kept and the alert id added", got)
	}
}

func TestSMSStatusConcurrentRepeats(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	const sid = "SM00000000000000000000000000000001"
	var wg sync.WaitGroup
	var mu sync.Mutex
	changes := 0
	for range 10 {
		wg.Go(func() {
			changed, _, err := s.UpdateSMSStatus(ctx, sid, "delivered", 4, 0)
			if err != nil {
				t.Error(err)
			}
			if changed {
				mu.Lock()
				changes++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if changes != 1 {
		t.Errorf("%d callbacks changed the status, want 1", changes)
	}
	if _, ok, _ := s.GetSMSStatus(ctx, "SM00000000000000000000000000000002"); ok {
		t.Error("an unknown sid has a status")
	}
}
