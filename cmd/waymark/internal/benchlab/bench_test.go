package benchlab

import (
	"testing"
	"time"
)

func TestBenchHelpers(t *testing.T) {
	for k, want := range map[int]string{0: "a", 23: "z", 24: "aa", 25: "ab", 24 + 24*24: "aaa"} {
		if got := letters(k); got != want {
			t.Errorf("letters(%d) = %q, want %q", k, got, want)
		}
	}
	seen := map[string]bool{}
	for i := range benchPhones() {
		p := benchPhone(i)
		if seen[p] || len(p) != 11 {
			t.Fatalf("benchPhone(%d) = %q: duplicate or not 11 digits", i, p)
		}
		seen[p] = true
	}
	ds := []time.Duration{5, 1, 4, 2, 3}
	for i := range ds {
		ds[i] *= time.Millisecond
	}
	if got := pct(ds, 50); got != 3 {
		t.Errorf("p50 = %v, want 3", got)
	}
	if got := pct(ds, 100); got != 5 {
		t.Errorf("max = %v, want 5", got)
	}
	if !parsePos("9-5").less(parsePos("10-0")) || parsePos("10-1").less(parsePos("10-0")) {
		t.Error("stream positions compare wrongly")
	}
}
