package appapi

import (
	"fmt"
	"sync"
	"time"

	"waymark/problem"
	"waymark/staff"
)

// Enrolment codes are 8 symbols of 31 (about 40 bits), single use and
// valid 15 minutes, so guessing one is hopeless; still, nobody should be
// free to try thousands. enrolLimiter counts wrong codes per client
// address (an IPv6 /64 as one) in a fixed window and refuses further tries
// from that address with 429 until the window ends. Right codes never
// count. It is per instance: behind n instances an address may try n
// times as many, which the code's size still makes hopeless.
type enrolLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	addrs map[string]*enrolTries
}

type enrolTries struct {
	n     int
	start time.Time
}

// Defaults: 10 wrong codes per address per 10 minutes.
const (
	defaultEnrolFailures = 10
	// EnrolWindow is the window wrong codes are counted in.
	EnrolWindow = 10 * time.Minute
	// enrolAddrs caps the addresses remembered; past it, expired windows
	// are dropped, and if none has, the oldest half.
	enrolAddrs = 1 << 16
)

func newEnrolLimiter(max int, now func() time.Time) *enrolLimiter {
	if max == 0 {
		max = defaultEnrolFailures
	}
	return &enrolLimiter{max: max, window: EnrolWindow, now: now, addrs: map[string]*enrolTries{}}
}

// errEnrolThrottled is the answer to an address over its limit.
type errEnrolThrottled struct{ wait time.Duration }

func (e errEnrolThrottled) Error() string {
	return fmt.Sprintf("server: app enrolment: too many wrong codes from this address; retry in %v", e.wait)
}
func (e errEnrolThrottled) Unwrap() error             { return problem.ErrTooMany }
func (e errEnrolThrottled) RetryAfter() time.Duration { return e.wait }

// allow reports nil if addr may try a code now.
func (l *enrolLimiter) allow(addr string) error {
	if l == nil || l.max < 0 {
		return nil
	}
	key, now := staff.AddrSubject(addr), l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.addrs[key]
	if t == nil || now.Sub(t.start) >= l.window || t.n < l.max {
		return nil
	}
	return errEnrolThrottled{wait: t.start.Add(l.window).Sub(now)}
}

// fail counts a wrong code from addr.
func (l *enrolLimiter) fail(addr string) {
	if l == nil || l.max < 0 {
		return
	}
	key, now := staff.AddrSubject(addr), l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.addrs[key]
	if t == nil || now.Sub(t.start) >= l.window {
		if len(l.addrs) >= enrolAddrs {
			l.prune(now)
		}
		l.addrs[key] = &enrolTries{n: 1, start: now}
		return
	}
	t.n++
}

// prune drops expired windows and, if that frees nothing, the older half.
func (l *enrolLimiter) prune(now time.Time) {
	for k, t := range l.addrs {
		if now.Sub(t.start) >= l.window {
			delete(l.addrs, k)
		}
	}
	if len(l.addrs) < enrolAddrs {
		return
	}
	cut := now.Add(-l.window / 2)
	for k, t := range l.addrs {
		if t.start.Before(cut) || len(l.addrs) >= enrolAddrs {
			delete(l.addrs, k)
		}
	}
}
