//go:build timing

package server

import (
	"net/http"
	"testing"
	"time"
)

// TestAppEnrolTimingExpiredMatchesUnknown: a wrong enrolment code answers
// in the same time whether it never existed or existed and expired, so
// the time does not tell someone guessing that they came near. Medians of
// interleaved samples must be within 10%.
// Run without the race detector: go test -tags timing -run Timing ./server/
func TestAppEnrolTimingExpiredMatchesUnknown(t *testing.T) {
	const n = 300
	e := newAlertEnv(t)
	// No limit: this test sends hundreds of wrong codes from one address.
	srv := e.appServerWith(t, -1)
	st, _, b := e.call(t, e.worker, "POST", "/v1/cases/"+e.caseID+"/enrolments",
		map[string]any{"tech_safety_check": map[string]any{"others_have_access": false, "notes": ""}})
	if st != http.StatusCreated {
		t.Fatalf("enrolment: %d %s", st, b)
	}
	expired := jsonField(t, b, "code")
	e.Clock.Advance(16 * time.Minute)
	send := func(code string) time.Duration {
		start := time.Now()
		st, _, b := e.appDo(t, srv, "POST", "/v1/app/enrol", map[string]any{"code": code})
		d := time.Since(start)
		if st != http.StatusNotFound {
			t.Fatalf("%d %s", st, b)
		}
		return d
	}
	const unknown = "QQQQ2222"
	me, mu := interleavedMedians(100, n, func() time.Duration { return send(expired) },
		func() time.Duration { return send(unknown) })
	ratio := float64(me) / float64(mu)
	t.Logf("median expired %v, unknown %v (ratio %.3f)", me, mu, ratio)
	if ratio < 0.9 || ratio > 1.1 {
		t.Errorf("expired median %v vs unknown %v: more than 10%% apart", me, mu)
	}
}
