package staff

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"waymark/problem"
)

// Throttling of sign-in attempts (password checks): each attempt counts
// against the username at its source address (whether or not the username
// exists) and against the address; an attempt from a device that signed in
// to that username before (its sign-in device cookie) counts only against
// the username on that device. Guessing from anywhere else therefore never
// slows the real user on their own device, and guessing stays throttled
// per address and per username at each address.
// Once a subject has more failures than it is allowed for free, its next
// attempt must wait Base, doubling with each further failure up to Cap,
// counted from its last attempt. An attempt that comes too early is refused
// with the time left (HTTP 429 with Retry-After) without checking anything,
// so the server never sleeps and an account is never locked: the longest
// wait is Cap. Failures are forgotten Window after a subject's last attempt.
//
// Every attempt is counted when it starts, atomically with the check, so
// parallel guesses cannot slip through one window; a success then clears
// the username's count and takes its attempt back from the address's.
type ThrottlePolicy struct {
	Base   time.Duration
	Cap    time.Duration
	Window time.Duration
	// FreeUser and FreeAddr are how many failures a subject may have
	// before it must wait: an office behind one address has many users.
	FreeUser int
	FreeAddr int
}

// DefaultThrottle: 0.25 s doubling to 8 s, forgotten after 15 minutes; the
// username (at an address, or on a known device) waits after its first
// failure, an address after ten.
func DefaultThrottle() ThrottlePolicy {
	return ThrottlePolicy{Base: 250 * time.Millisecond, Cap: 8 * time.Second, Window: 15 * time.Minute, FreeUser: 0, FreeAddr: 10}
}

// Delay is how long after its last attempt a subject with failures failures
// (free of them allowed) must wait.
func (p ThrottlePolicy) Delay(failures, free int) time.Duration {
	over := failures - free
	if over <= 0 {
		return 0
	}
	d := p.Base
	for i := 1; i < over && d < p.Cap; i++ {
		d *= 2
	}
	return min(d, p.Cap)
}

// ThrottleKind names what a throttle subject counts.
type ThrottleKind string

// Throttle subjects.
const (
	// ThrottleUser counts a username at one address.
	ThrottleUser ThrottleKind = "user"
	ThrottleAddr ThrottleKind = "addr"
	// ThrottleDevice counts a username on a device it signed in from.
	ThrottleDevice ThrottleKind = "device"
)

// DeviceLifetime is how long a sign-in device cookie vouches for its device
// after its last successful sign-in.
const DeviceLifetime = 90 * 24 * time.Hour

// ThrottleSubject is one counter: a username or a source address. The store
// keeps only a keyed tag of Value.
type ThrottleSubject struct {
	Kind  ThrottleKind
	Value string
	// Free is how many failures the subject may have before waiting.
	Free int
}

// Throttled is the answer to a sign-in attempt that came too soon. It is a
// problem.ErrTooMany; RetryAfter says how long to wait.
type Throttled struct {
	Wait time.Duration
}

func (e *Throttled) Error() string {
	return fmt.Sprintf("staff: sign-in throttled for %v", e.Wait.Round(time.Millisecond))
}

// Unwrap makes Throttled a problem.ErrTooMany.
func (e *Throttled) Unwrap() error { return problem.ErrTooMany }

// RetryAfter is the wait, for the Retry-After header.
func (e *Throttled) RetryAfter() time.Duration { return e.Wait }

// AddrSubject normalises a client address for throttling: an IPv4 address
// as itself, an IPv6 address as its /64 (one household or device usually
// holds a whole /64). A port, if any, is dropped; anything unparsable is
// used as given.
func AddrSubject(remote string) string {
	host := remote
	if h, _, ok := cutPort(remote); ok {
		host = h
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return remote
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// cutPort splits "host:port" or "[v6]:port".
func cutPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", false
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "", "", false // a bare IPv6 address, no port
	}
	return host, port, true
}
