package alert

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"
)

// FuzzParseCanonical: whatever parses is exactly what Canonical writes, so
// a bundle's disclosed entry has one reading only.
func FuzzParseCanonical(f *testing.F) {
	f.Add([]byte(testChain(1)[0].Canonical()))
	f.Add([]byte(`{"v":1,"seq":1,"id":"e_x","at":0,"actor":"","action":"","case":"","alert":"","outcome":"","reason":""}`))
	f.Add([]byte(`{"v":1,"seq":1,"seq":2}`))
	f.Add([]byte(`{"v":1,"seq":1,"id":"e_x","at":0,"actor":"\u003c","action":"","case":"","alert":"","outcome":"","reason":""}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseCanonical(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Canonical(), b) {
			t.Fatalf("parsed %q but it writes back as %q", b, e.Canonical())
		}
	})
}

// FuzzVerifyBundle: no input panics, and nothing verifies under a key that
// signed nothing.
func FuzzVerifyBundle(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"attestation":{"manifest":{"format":"waymark-audit-bundle-v1"},"signature":"AAAA"}}`))
	f.Add([]byte(`{"attestation":{"manifest":{"format":"waymark-audit-bundle-v1","segment":{"entries":[{"seq":1},{"seq":3}]}}},"disclosed":[{"canonical":"{}"}]}`))
	f.Add([]byte(`[1,2,3]`))
	pub, _, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := VerifyBundle(data, pub); err == nil {
			t.Fatalf("verified under a key that signed nothing: %q", data)
		}
	})
}

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
