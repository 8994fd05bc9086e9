package records

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseReportQuery: an accepted query is a non-empty range of at most
// ten years, in an area without separators.
func FuzzParseReportQuery(f *testing.F) {
	f.Add("2026-01-01", "2026-03-31", "south")
	f.Add("", "", "")
	f.Add("2026-02-30", "2026-13-01", "a|b")
	f.Add("9999-12-31", "0001-01-01", "\x00")
	f.Add("2026-03-29", "2026-03-29", "x")
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to, area string) {
		q, err := ParseReportQuery(from, to, area, now)
		if err != nil {
			return
		}
		if !q.From.Before(q.To) || q.To.Sub(q.From) > maxReportSpan {
			t.Fatalf("accepted range %v..%v", q.From, q.To)
		}
		if bytes.ContainsAny([]byte(q.Area), "|\x00") {
			t.Fatalf("accepted area %q", q.Area)
		}
	})
}
