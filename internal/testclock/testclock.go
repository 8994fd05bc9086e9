// Package testclock is Waymark's one settable clock for tests: it moves
// only when a test moves it, so expiries, escalation steps and windows
// decided against it are exact. Use testing/synctest instead where no
// real redis-server's own clock takes part.
package testclock

import (
	"sync"
	"time"
)

// Clock is a settable clock, safe for concurrent use. Its Now method
// satisfies every Waymark clock interface.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that reads t until it is moved.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
