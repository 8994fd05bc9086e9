package alert

import (
	"context"
	"runtime"
	"time"
)

// DefaultPINFloor is the least time an app signal carrying a PIN takes.
//
// The duress PIN must answer exactly as the real one, timing included
// (DESIGN, discretion rule 2). On a case with an open alert both join it
// and cost the same. On a case without one they cannot: the real PIN's
// check-in writes one small record (about 160 bytes, one key), while the
// duress PIN raises the case's first alert, the whole of it stored before
// the answer (about 2 KB sealed, with its policy snapshot, timeline,
// indexes, timer and event: a dozen writes, more to fsync). The red team
// measured the first duress check-in on a fresh case 0.35-0.42 ms slower.
// That work cannot go (stored before answered), so every PIN-bearing app
// signal is answered no sooner than this after it reached the service:
// well above either path's time on Redis with appendfsync always (p99 a
// few ms), and too short for a survivor to notice.
const DefaultPINFloor = 5 * time.Millisecond

// pinFloor, deferred at the start of a signal, holds the answer until the
// floor has passed since that start, when the signal carries a PIN. It
// uses the wall clock, not the service's: it is about what a watcher of the
// phone can time. The runtime's timers wake to about a millisecond (the
// wait's last part would end a fixed time after the work, not at the
// deadline), so a timer covers all but the last coarse step and the rest
// yields the processor until the deadline.
func (s *Service) pinFloor(ctx context.Context, pin string) func() {
	if pin == "" || s.cfg.PINFloor <= 0 {
		return func() {}
	}
	deadline := time.Now().Add(s.cfg.PINFloor)
	return func() { waitUntil(ctx, deadline) }
}

// timerSlack is how much earlier than a deadline a timer is set.
const timerSlack = 2 * time.Millisecond

// waitUntil returns at deadline (or when ctx ends), to a few microseconds.
func waitUntil(ctx context.Context, deadline time.Time) {
	if d := time.Until(deadline) - timerSlack; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		runtime.Gosched()
	}
}
