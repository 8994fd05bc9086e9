package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/problem"
	"waymark/staff"
)

func testSub(n int) WebPushSubscription {
	return WebPushSubscription{
		Endpoint: fmt.Sprintf("https://fcm.googleapis.com/fcm/send/device%c-capability", 'a'+n),
		P256dh:   bytes.Repeat([]byte{byte(n + 1)}, 65),
		Auth:     bytes.Repeat([]byte{byte(n + 100)}, 16),
	}
}

func TestWebPushSubscriptionsSealedPerResponder(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	clk := testclock.New(time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC))
	s.Now = clk.Now
	ctx := context.Background()

	id, err := s.SaveWebPushSubscription(ctx, "s_rita", testSub(0))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	// The same browser subscribing again replaces its entry.
	again, err := s.SaveWebPushSubscription(ctx, "s_rita", testSub(0))
	if err != nil || again != id {
		t.Fatalf("resubscribe = %q, %v; want the same id %q", again, err, id)
	}
	if _, err := s.SaveWebPushSubscription(ctx, "s_sam", testSub(1)); err != nil {
		t.Fatal(err)
	}
	got, err := s.WebPushSubscriptions(ctx, "s_rita")
	if err != nil {
		t.Fatal(err)
	}
	want := testSub(0)
	want.ID, want.Created = id, clk.Now()
	if diff := cmp.Diff([]WebPushSubscription{want}, got); diff != "" {
		t.Errorf("rita's subscriptions (-want +got):\n%s", diff)
	}

	// Nothing readable in Redis: not the endpoint, not the keys.
	dump := dumpAll(t, s)
	for _, secret := range [][]byte{[]byte("capability"), []byte("fcm.googleapis"), testSub(0).P256dh, testSub(0).Auth} {
		if bytes.Contains(dump, secret) {
			t.Errorf("redis holds %q in the clear", secret)
		}
	}
	if ttl := s.RDB.PTTL(ctx, s.k.staffWebPush("s_rita")).Val(); ttl < webPushLifetime-time.Hour {
		t.Errorf("subscriptions expire in %v, want about %v", ttl, webPushLifetime)
	}

	// Unsubscribing by endpoint, then again: not found.
	if err := s.DropWebPushEndpoint(ctx, "s_rita", testSub(0).Endpoint); err != nil {
		t.Fatal(err)
	}
	if err := s.DropWebPushEndpoint(ctx, "s_rita", testSub(0).Endpoint); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("second unsubscribe = %v, want not found", err)
	}
	// Sam's endpoint is not Rita's to drop.
	if err := s.DropWebPushEndpoint(ctx, "s_rita", testSub(1).Endpoint); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("dropping another responder's endpoint = %v, want not found", err)
	}
	if got, _ := s.WebPushSubscriptions(ctx, "s_sam"); len(got) != 1 {
		t.Errorf("sam has %d subscriptions, want 1", len(got))
	}
	if err := s.DropAllWebPush(ctx, "s_sam"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.WebPushSubscriptions(ctx, "s_sam"); len(got) != 0 {
		t.Errorf("sam has %d subscriptions after DropAllWebPush", len(got))
	}
}

func TestWebPushSubscriptionsCapped(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	clk := testclock.New(time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC))
	s.Now = clk.Now
	ctx := context.Background()
	ids := map[int]string{}
	for i := range maxWebPushSubs + 3 {
		clk.Advance(time.Minute)
		id, err := s.SaveWebPushSubscription(ctx, "s_rita", testSub(i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	got, err := s.WebPushSubscriptions(ctx, "s_rita")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != maxWebPushSubs {
		t.Fatalf("%d subscriptions kept, want %d", len(got), maxWebPushSubs)
	}
	// Newest first; the three oldest went.
	if got[0].ID != ids[maxWebPushSubs+2] || got[len(got)-1].ID != ids[3] {
		t.Errorf("kept %s … %s, want the newest %d", got[0].ID, got[len(got)-1].ID, maxWebPushSubs)
	}
	if err := s.DropWebPushSubscription(ctx, "s_rita", got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DropWebPushSubscription(ctx, "s_rita", got[0].ID); err != nil {
		t.Errorf("dropping a gone subscription again = %v, want nil", err)
	}
}

func TestDisableStaffDropsWebPush(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	a := staffAccount(t, "rita", "")
	other := staffAccount(t, "sam", "")
	for _, acc := range []*staff.Account{a, other} {
		if err := s.CreateStaff(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{a.ID, a.ID, other.ID} {
		if _, err := s.SaveWebPushSubscription(ctx, id, testSub(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DisableStaff(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		who  string
		id   string
		want int
	}{
		{"disabled account", a.ID, 0},
		{"other account", other.ID, 1},
	}
	for _, tt := range tests {
		got, err := s.WebPushSubscriptions(ctx, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("%s has %d web push subscriptions after the disable, want %d", tt.who, len(got), tt.want)
		}
	}
	if n := s.RDB.Exists(ctx, s.k.staffWebPush(a.ID)).Val(); n != 0 {
		t.Error("the disabled account's web push hash is still in redis")
	}
}
