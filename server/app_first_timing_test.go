//go:build timing

package server

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// TestAppFirstDuressTimingMatchesReal: the first check-in on a fresh case
// takes as long with the duress PIN (which raises the case's first alert)
// as with the real PIN. Each sample is a fresh case; samples are
// interleaved and medians compared, as the red team measured (they found
// 0.35–0.42 ms). Run without the race detector.
func TestAppFirstDuressTimingMatchesReal(t *testing.T) {
	const n = 60
	e := newAlertEnv(t)
	type pair struct{ real, duress string }
	fresh := make([]pair, n+20)
	for i := range fresh {
		var toks [2]string
		for j := range toks {
			b := alertCaseBody()
			b["phone"] = fmt.Sprintf("+4477009%05d", 2*i+j)
			_, toks[j] = e.enrol(t, b)
		}
		fresh[i] = pair{toks[0], toks[1]}
	}
	c := e.client()
	send := func(token, pin string) time.Duration {
		start := time.Now()
		status, _, b := e.call(t, c, "POST", "/v1/app/signal", signal("checkin", "pin", pin), "Authorization", "Bearer "+token)
		d := time.Since(start)
		if status != http.StatusAccepted {
			t.Fatalf("%d %s", status, b)
		}
		return d
	}
	// Warm the connection and both code paths on the first 20 pairs.
	for _, p := range fresh[:20] {
		send(p.real, canaryPIN)
		send(p.duress, canaryDuressPIN)
	}
	runtime.GC()
	var real, duress []time.Duration
	for i, p := range fresh[20:] {
		if i%2 == 0 {
			real = append(real, send(p.real, canaryPIN))
			duress = append(duress, send(p.duress, canaryDuressPIN))
		} else {
			duress = append(duress, send(p.duress, canaryDuressPIN))
			real = append(real, send(p.real, canaryPIN))
		}
	}
	mr, md := median(real), median(duress)
	ratio := float64(md) / float64(mr)
	t.Logf("first check-in on a fresh case: median real %v, duress %v (ratio %.3f, gap %v)", mr, md, ratio, md-mr)
	if ratio < 0.95 || ratio > 1.05 {
		t.Errorf("first duress check-in %v vs real %v: more than 5%% apart", md, mr)
	}
}
