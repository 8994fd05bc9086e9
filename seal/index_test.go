package seal

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"waymark/pii"
)

func mustPhone(t testing.TB, s string) pii.Phone {
	t.Helper()
	p, err := pii.ParsePhone(s, "GB")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIndexPhone(t *testing.T) {
	idx, err := NewIndex(bytes.Repeat([]byte{3}, 32), 16)
	if err != nil {
		t.Fatal(err)
	}
	a := idx.Phone(mustPhone(t, "07700 900123"))
	for _, s := range []string{"+447700900123", "00447700900123", "(07700) 900-123"} {
		if got := idx.Phone(mustPhone(t, s)); got != a {
			t.Errorf("Phone(%q) = %q, want %q", s, got, a)
		}
	}
	if b := idx.Phone(mustPhone(t, "07700 900124")); b == a {
		t.Errorf("neighbouring numbers share bucket %q (possible, but not for this key)", a)
	}
	other, _ := NewIndex(bytes.Repeat([]byte{4}, 32), 16)
	if got := other.Phone(mustPhone(t, "07700 900123")); got == a {
		t.Errorf("another key gives the same bucket %q", a)
	}
	if got := idx.Phone(pii.Phone{}); got != "" {
		t.Errorf("zero Phone bucket = %q, want empty", got)
	}
}

func TestIndexShape(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 40)
	phones := make([]pii.Phone, 300)
	for i := range phones {
		phones[i] = mustPhone(t, fmt.Sprintf("07700 900%03d", i))
	}
	for bits := MinIndexBits; bits <= MaxIndexBits; bits++ {
		idx, err := NewIndex(key, bits)
		if err != nil {
			t.Fatal(err)
		}
		if idx.Bits() != bits {
			t.Errorf("Bits = %d, want %d", idx.Bits(), bits)
		}
		width := (bits + 3) / 4
		seen := map[string]bool{}
		for _, p := range phones {
			got := idx.Phone(p)
			if len(got) != width {
				t.Fatalf("bits %d: %q has width %d, want %d", bits, got, len(got), width)
			}
			if strings.Trim(got, "abcdefghijklmnop") != "" {
				t.Fatalf("bits %d: %q has characters outside a-p", bits, got)
			}
			// The first letter carries only the bits left over.
			if rem := bits % 4; rem != 0 && got[0] >= 'a'+byte(1<<rem) {
				t.Fatalf("bits %d: %q first letter out of range", bits, got)
			}
			seen[got] = true
		}
		if bits == 8 && len(seen) > 256 {
			t.Errorf("8 bits gave %d buckets", len(seen))
		}
		if bits >= 24 && len(seen) < 295 {
			t.Errorf("bits %d: only %d distinct buckets for 300 numbers", bits, len(seen))
		}
	}
}

func TestNewIndexErrors(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		bits int
	}{
		{"short key", make([]byte, 31), 16},
		{"too few bits", make([]byte, 32), 7},
		{"too many bits", make([]byte, 32), 65},
	}
	for _, tt := range tests {
		if _, err := NewIndex(tt.key, tt.bits); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestIndexBits(t *testing.T) {
	tests := []struct{ expected, want int }{
		{-1, 8}, {0, 8}, {1, 8}, {100, 8}, {1023, 8}, {1024, 8}, {2047, 8},
		{2048, 9}, {4096, 10}, {10_000, 11}, {100_000, 14}, {1_000_000, 17},
		{1 << 40, 38}, {1<<62 + 5, 60},
	}
	for _, tt := range tests {
		if got := IndexBits(tt.expected); got != tt.want {
			t.Errorf("IndexBits(%d) = %d, want %d", tt.expected, got, tt.want)
		}
	}
}

func TestSparseWarning(t *testing.T) {
	tests := []struct {
		expected, bits int
		want           string // substring; "" means no warning
	}{
		{1024, 8, ""},
		{100_000, 14, ""},
		{100_000, IndexBits(100_000), ""},
		{1000, 8, "8 bits is the minimum"},
		{50, 8, "fewer than 4"},
		{100_000, 20, "use 14 bits"},
		{0, 8, "not set"},
	}
	for _, tt := range tests {
		got := SparseWarning(tt.expected, tt.bits)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("SparseWarning(%d, %d) = %q, want %q", tt.expected, tt.bits, got, tt.want)
		}
	}
	for n := 1; n < 1<<24; n = n*3 + 1 {
		if w := SparseWarning(n, IndexBits(n)); n >= 1024 && w != "" {
			t.Errorf("IndexBits(%d) is sparse: %s", n, w)
		}
	}
}

// TestExpectedCasesFor: the advice the start-up refusal gives turns back
// into the width it names.
func TestExpectedCasesFor(t *testing.T) {
	for bits := MinIndexBits; bits <= 24; bits++ {
		if got := IndexBits(ExpectedCasesFor(bits)); got != bits {
			t.Errorf("IndexBits(ExpectedCasesFor(%d) = %d) = %d", bits, ExpectedCasesFor(bits), got)
		}
	}
}
