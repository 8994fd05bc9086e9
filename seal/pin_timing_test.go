//go:build timing

package seal

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// TestPINCheckTiming checks that a real, a duress and a wrong PIN cost the
// same: interleaved batches, medians compared. It needs a quiet machine and
// no race detector, so it runs only with -tags timing:
//
//	go test -tags timing -run TestPINCheckTiming -count=1 ./seal/
func TestPINCheckTiming(t *testing.T) {
	k, _ := NewPINKey(bytes.Repeat([]byte{1}, 32))
	real, duress := k.Hash("c_1", "2468"), k.Hash("c_1", "1357")
	pins := []string{"2468", "1357", "0000"}
	const rounds, batch = 3000, 50
	samples := make([][]time.Duration, len(pins))
	for r := range rounds {
		for j := range pins {
			i := (j + r) % len(pins) // rotate the order each round
			start := time.Now()
			for range batch {
				k.Check("c_1", pins[i], real, duress)
			}
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	medians := make([]time.Duration, len(pins))
	for i, s := range samples {
		slices.Sort(s)
		medians[i] = s[len(s)/2] / batch
	}
	t.Logf("median per check: real %v, duress %v, wrong %v", medians[0], medians[1], medians[2])
	lo, hi := slices.Min(medians), slices.Max(medians)
	if float64(hi) > 1.10*float64(lo) {
		t.Errorf("medians differ by more than 10%%: %v", medians)
	}
}
