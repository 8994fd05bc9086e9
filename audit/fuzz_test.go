package audit

import (
	"bytes"
	"crypto/ed25519"
	"testing"
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
