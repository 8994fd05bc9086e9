package accounts

import (
	"context"
	"errors"
	"testing"
	"time"

	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/problem"
	"waymark/staff"
)

func TestSessionLifecycle(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	token := staff.Secret(randid.Token(32))
	tag := s.SessionTag(token)
	if tag != s.SessionTag(token) || tag == s.SessionTag(staff.Secret(randid.Token(32))) {
		t.Fatal("SessionTag is not a function of the token")
	}
	t0 := time.UnixMilli(time.Now().UnixMilli())
	in := staff.Session{Tag: tag, StaffID: "s_abc", Created: t0, Seen: t0, AuthAt: t0}
	if err := s.CreateSession(ctx, in, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, tag)
	if err != nil || got != in {
		t.Fatalf("Session = %+v, %v; want %+v", got, err, in)
	}
	if ttl := s.RDB.PTTL(ctx, s.k.session(tag)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("session TTL = %v, want cleanup within the hour", ttl)
	}
	if err := s.TouchSession(ctx, tag, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSessionAuthAt(ctx, tag, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Session(ctx, tag)
	if !got.Seen.Equal(t0.Add(2*time.Minute)) || !got.AuthAt.Equal(t0.Add(2*time.Minute)) || !got.Created.Equal(t0) {
		t.Errorf("after touch and reauth: %+v", got)
	}
	if err := s.EndSession(ctx, "s_abc", tag); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, tag); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("Session after end = %v, want not found", err)
	}
	if err := s.TouchSession(ctx, tag, t0); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("touch after end = %v, want not found (and no record made)", err)
	}
	if s.RDB.SIsMember(ctx, s.k.staffSessions("s_abc"), tag).Val() {
		t.Error("ended session still listed under its account")
	}
}

func TestSetupToken(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	token := staff.Secret(randid.Token(32))
	exp := time.UnixMilli(time.Now().Add(24 * time.Hour).UnixMilli())
	if err := s.PutSetupToken(ctx, token, "s_abc", exp); err != nil {
		t.Fatal(err)
	}
	id, gotExp, err := s.SetupToken(ctx, token)
	if err != nil || id != "s_abc" || !gotExp.Equal(exp) {
		t.Fatalf("SetupToken = %q %v %v", id, gotExp, err)
	}
	if _, _, err := s.SetupToken(ctx, staff.Secret(randid.Token(32))); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("wrong token: %v", err)
	}
	if err := s.DeleteSetupToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SetupToken(ctx, token); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("used token: %v", err)
	}
}

func TestTicketSingleUseAndExpiry(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	clock := testclock.New(time.Now())
	s.Now = clock.Now
	ctx := context.Background()

	ticket := randid.Token(32)
	if err := s.PutTicket(ctx, staff.Secret(ticket), "s_abc", "tagtag", clock.Now().Add(staff.TicketLifetime)); err != nil {
		t.Fatal(err)
	}
	id, tag, err := s.ConsumeTicket(ctx, ticket)
	if err != nil || id != "s_abc" || tag != "tagtag" {
		t.Fatalf("ConsumeTicket = %q %q %v", id, tag, err)
	}
	if _, _, err := s.ConsumeTicket(ctx, ticket); !errors.Is(err, problem.ErrUnauthorized) {
		t.Errorf("second use: %v, want unauthorized", err)
	}

	late := randid.Token(32)
	if err := s.PutTicket(ctx, staff.Secret(late), "s_abc", "tagtag", clock.Now().Add(staff.TicketLifetime)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(staff.TicketLifetime)
	if _, _, err := s.ConsumeTicket(ctx, late); !errors.Is(err, problem.ErrUnauthorized) {
		t.Errorf("expired ticket: %v, want unauthorized", err)
	}
	for _, bad := range []string{"", "x", randid.Token(200)} {
		if _, _, err := s.ConsumeTicket(ctx, bad); !errors.Is(err, problem.ErrUnauthorized) {
			t.Errorf("ticket %q: %v", bad, err)
		}
	}
}

func TestThrottle(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	p := staff.DefaultThrottle()
	now := time.UnixMilli(time.Now().UnixMilli())
	user := staff.ThrottleSubject{Kind: staff.ThrottleUser, Value: "sam", Free: 0}
	addr := staff.ThrottleSubject{Kind: staff.ThrottleAddr, Value: "192.0.2.7", Free: 2}
	attempt := func(at time.Time) time.Duration {
		t.Helper()
		w, err := s.Throttle(ctx, p, at, user, addr)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	// Four failures, each as soon as allowed (0, 250ms, 500ms, 1s after
	// the last); one a millisecond earlier is told to wait that millisecond.
	at := now
	for i := range 4 {
		if w := attempt(at); w != 0 {
			t.Fatalf("attempt %d at its allowed time had to wait %v", i, w)
		}
		if want := p.Delay(i+1, 0); want > 0 {
			if w := attempt(at.Add(want - time.Millisecond)); w != time.Millisecond {
				t.Errorf("attempt %d too early: wait %v, want 1ms", i+1, w)
			}
		}
		at = at.Add(p.Delay(i+1, 0))
	}
	// An early attempt is refused without being counted.
	if w := attempt(at.Add(-time.Millisecond)); w != time.Millisecond {
		t.Errorf("early attempt wait = %v", w)
	}
	// Never more than the cap, however many failures.
	for range 10 {
		attempt(at)
		at = at.Add(p.Cap)
	}
	if w := attempt(at.Add(-p.Cap + time.Millisecond)); w > p.Cap {
		t.Errorf("wait %v above the cap %v", w, p.Cap)
	}
	// A success clears the username and forgives one attempt of the address.
	if err := s.ClearThrottle(ctx, user); err != nil {
		t.Fatal(err)
	}
	other := staff.ThrottleSubject{Kind: staff.ThrottleUser, Value: "alex"}
	if w, _ := s.Throttle(ctx, p, at.Add(p.Cap), other, addr); w != 0 {
		t.Errorf("fresh user from a busy address after the cap: wait %v", w)
	}
	// Failures are forgotten after the window.
	later := at.Add(p.Window + p.Cap + time.Second)
	if w, _ := s.Throttle(ctx, p, later, user, addr); w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	if w, _ := s.Throttle(ctx, p, later.Add(time.Millisecond), user, addr); w != p.Base-time.Millisecond {
		t.Errorf("second attempt after the window: wait %v, want base", w)
	}
	if err := s.ForgiveAttempt(ctx, addr); err != nil {
		t.Fatal(err)
	}
}
