package sms

import (
	"context"
	"errors"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/testenv"
	"waymark/outbox"
)

// down is Twilio answering 503 n times: enough to outlast a test's
// deadline at the shortest backoff (MinBackoff/2), so no retry reaches the
// fake's default success. (Eight once let a fast run through.)
func down(n int) []testenv.Reply {
	out := make([]testenv.Reply, n)
	for i := range out {
		out[i] = testenv.Reply{Status: 503}
	}
	return out
}

func TestPager(t *testing.T) {
	tests := []struct {
		name   string
		script []testenv.Reply
		want   []error
	}{
		{"sent", nil, nil},
		{"unsubscribed", []testenv.Reply{{Status: 400, Code: testenv.TwilioUnsubscribed}}, []error{outbox.ErrPageRefused, ErrUnsubscribed}},
		{"bad number", []testenv.Reply{{Status: 400, Code: testenv.TwilioInvalidTo}}, []error{outbox.ErrPageRefused, ErrBadNumber}},
		{"down", down(40), []error{outbox.ErrPageUndelivered, ErrUndelivered}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := testenv.StartTwilio(t)
			f.Script(tc.script...)
			s, _ := newTestSender(t, f, func(c *SenderConfig) { c.MinBackoff, c.MaxBackoff = 20*time.Millisecond, 40*time.Millisecond })
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			_, err := Pager{Sender: s}.Text(ctx, mustPhone(t, responder), outbox.PageText("South", false, alert.ModeReal))
			if len(tc.want) == 0 && err != nil {
				t.Fatalf("Text = %v", err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("Text = %v, want it to wrap %v", err, w)
				}
			}
		})
	}
	f := testenv.StartTwilio(t)
	s, _ := newTestSender(t, f, nil)
	if _, err := (Pager{Sender: s}).Call(context.Background(), mustPhone(t, responder), outbox.VoiceWords("South", false, alert.ModeReal)); err != nil || len(f.Calls()) != 1 {
		t.Errorf("Call = %v, %d calls", err, len(f.Calls()))
	}
}
