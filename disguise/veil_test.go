package disguise

import (
	"bytes"
	"testing"

	"waymark/disguise/phonetest"
)

// TestVeilRoundTrip: what the tests use to read answers reverses Veil,
// for every byte value.
func TestVeilRoundTrip(t *testing.T) {
	in := make([]byte, 256)
	for i := range in {
		in[i] = byte(i)
	}
	for n := range len(in) {
		out, err := phonetest.Unveil(Veil(in[:n]))
		if err != nil || !bytes.Equal(out, in[:n]) {
			t.Fatalf("Unveil(Veil(%d bytes)) = %v, %v", n, out, err)
		}
	}
}
