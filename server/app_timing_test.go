//go:build timing

package server

import (
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestAppDuressTimingMatchesReal: for each kind that carries a PIN, a
// request with the duress PIN takes the same time as one with the real PIN,
// through the real HTTP handler on a real redis-server. Samples are
// interleaved (alternating which goes first); medians must be within 10%.
// Run without the race detector: go test -tags timing -run Timing ./server/
func TestAppDuressTimingMatchesReal(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   func(pin string) map[string]any
	}{
		{"checkin", "POST", "/v1/app/signal", func(pin string) map[string]any { return signal("checkin", "pin", pin) }},
		{"cancel", "POST", "/v1/app/signal", func(pin string) map[string]any { return signal("cancel", "pin", pin) }},
		{"panic", "POST", "/v1/app/signal", func(pin string) map[string]any { return signal("panic", "pin", pin) }},
		{"schedule", "PUT", "/v1/app/checkins", func(pin string) map[string]any {
			return map[string]any{"pin": pin, "every_minutes": 60, "grace_minutes": 10}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAlertEnv(t)
			c := e.client()
			send := func(pin string) time.Duration {
				start := time.Now()
				status, _, b := e.call(t, c, tc.method, tc.path, tc.body(pin), "Authorization", "Bearer "+e.token)
				d := time.Since(start)
				if status != http.StatusAccepted {
					t.Fatalf("%d %s", status, b)
				}
				return d
			}
			// Warm up both paths (and reach the steady state: the duress
			// alert exists and both kinds now act on it).
			mr, md := interleavedMedians(100, n, func() time.Duration { return send(canaryPIN) },
				func() time.Duration { return send(canaryDuressPIN) })
			ratio := float64(md) / float64(mr)
			t.Logf("%s: median real %v, duress %v (ratio %.3f)", tc.name, mr, md, ratio)
			if ratio < 0.9 || ratio > 1.1 {
				t.Errorf("%s: duress median %v vs real %v: more than 10%% apart", tc.name, md, mr)
			}
		})
	}
}

// interleavedMedians warms a and b up with warm calls each, then takes n
// samples of each, alternating which goes first, and returns their
// medians.
func interleavedMedians(warm, n int, a, b func() time.Duration) (time.Duration, time.Duration) {
	for range warm {
		a()
		b()
	}
	runtime.GC()
	var as, bs []time.Duration
	for i := range n {
		if i%2 == 0 {
			as = append(as, a())
			bs = append(bs, b())
		} else {
			bs = append(bs, b())
			as = append(as, a())
		}
	}
	return median(as), median(bs)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
