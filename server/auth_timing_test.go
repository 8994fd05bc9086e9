//go:build timing

package server

import (
	"slices"
	"testing"
	"time"

	"waymark/staff"
)

// TestLoginTimingKnownVersusUnknown: a failed sign-in takes the same time
// whether or not the username exists (an unknown one is checked against a
// dummy argon2id hash), through the real HTTP handler with production
// argon2id parameters. Samples are interleaved; medians must be within 10%.
// Run without the race detector: go test -tags timing -run Timing ./server/
func TestLoginTimingKnownVersusUnknown(t *testing.T) {
	env := newTestEnv(t, withArgon2(staff.DefaultParams()))
	env.login(t, "sam.known", []staff.Role{staff.RoleResponder}, nil)
	c := env.client()
	known := map[string]string{"username": "sam.known", "password": "not the password at all", "totp": "123456"}
	unknown := map[string]string{"username": "sam.unknown", "password": "not the password at all", "totp": "123456"}
	attempt := func(body map[string]string) time.Duration {
		// Past every throttling window, so each attempt is really checked.
		env.Clock.Advance(staff.DefaultThrottle().Window + time.Minute)
		start := time.Now()
		status, _, b := env.call(t, c, "POST", "/v1/auth/login", body)
		d := time.Since(start)
		if status != 401 {
			t.Fatalf("sign-in = %d %s, want 401", status, b)
		}
		return d
	}
	for range 10 { // warm up connections, caches and the CPU's clock
		attempt(known)
		attempt(unknown)
	}
	const n = 200
	var k, u []time.Duration
	for i := range n {
		// Alternate which goes first, so neither always follows the other.
		if i%2 == 0 {
			k = append(k, attempt(known))
			u = append(u, attempt(unknown))
		} else {
			u = append(u, attempt(unknown))
			k = append(k, attempt(known))
		}
	}
	mk, mu := loginMedian(k), loginMedian(u)
	diff := float64(mk-mu) / float64(min(mk, mu))
	t.Logf("median known %v, unknown %v (%+.1f%%), %d samples each", mk, mu, 100*diff, n)
	if diff > 0.10 || diff < -0.10 {
		t.Errorf("known and unknown usernames differ by %.1f%% (known %v, unknown %v), want within 10%%", 100*diff, mk, mu)
	}
}

func loginMedian(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// withArgon2 uses production-strength (or other) password hashing instead
// of stafftest.Params; the timing test needs it.
func withArgon2(p staff.Params) envOption { return func(o *envOptions) { o.argon2 = p } }
