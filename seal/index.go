package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"math/bits"
	"strconv"

	"waymark/pii"
)

const (
	// MinIndexBits and MaxIndexBits bound the blind index width.
	MinIndexBits = 8
	MaxIndexBits = 64
	// minLookupKey is the shortest index or PIN key accepted.
	minLookupKey = 32
	// minPerBucket is how many cases a bucket should hold on average for
	// a leaked index key to say little about who is enrolled.
	minPerBucket = 4
)

// Index computes the blind index of phone numbers: HMAC-SHA256 under its own
// key (never a sealing key), truncated to Bits bits so that each bucket holds
// several cases, which lookups tell apart by opening them. It is safe for
// concurrent use and redacts its key when printed or logged.
type Index struct {
	// mac is a func, not the key bytes: no reflection-based dump of an
	// Index can print a func's captured key.
	mac  func() hash.Hash
	bits int
}

// NewIndex returns an index under key (at least 32 bytes; copied) truncated to
// bits bits (8 to 64; see IndexBits).
func NewIndex(key []byte, bits int) (*Index, error) {
	if len(key) < minLookupKey {
		return nil, fmt.Errorf("seal: index key is %d bytes, want at least %d", len(key), minLookupKey)
	}
	if bits < MinIndexBits || bits > MaxIndexBits {
		return nil, fmt.Errorf("seal: index bits %d outside %d to %d", bits, MinIndexBits, MaxIndexBits)
	}
	return &Index{mac: newMAC(key), bits: bits}, nil
}

// newMAC returns a constructor of HMAC-SHA256 under a copy of key.
func newMAC(key []byte) func() hash.Hash {
	k := make([]byte, len(key))
	copy(k, key)
	return func() hash.Hash { return hmac.New(sha256.New, k) }
}

// Bits returns the index width in bits.
func (x *Index) Bits() int { return x.bits }

// Phone returns the bucket name for p: HMAC-SHA256(key, "phone\x00" + E.164)
// truncated to Bits bits and written as ceil(Bits/4) letters 'a' to 'p' (one
// per 4 bits, the first holding any remainder). It contains no digits, so a
// Redis key built from it never looks like part of a phone number. The zero
// Phone has no bucket: Phone returns "".
func (x *Index) Phone(p pii.Phone) string {
	if p.IsZero() {
		return ""
	}
	m := x.mac()
	m.Write([]byte("phone\x00"))
	m.Write([]byte(p.Reveal()))
	sum := m.Sum(nil)
	v := binary.BigEndian.Uint64(sum[:8]) >> (64 - x.bits)
	out := make([]byte, (x.bits+3)/4)
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = 'a' + byte(v&0xf)
		v >>= 4
	}
	return string(out)
}

// String shows the width only.
func (x *Index) String() string {
	return "seal.Index{bits: " + strconv.Itoa(x.bits) + ", key: [redacted]}"
}

// GoString is String, for %#v.
func (x *Index) GoString() string { return x.String() }

// Format prints String for every verb.
func (x *Index) Format(f fmt.State, verb rune) { formatString(f, verb, x.String()) }

// LogValue logs the width only.
func (x *Index) LogValue() slog.Value { return slog.GroupValue(slog.Int("bits", x.bits)) }

// IndexBits returns the index width for an expected number of cases:
// ⌊log₂ expected⌋ − 2, so that buckets hold four to eight cases on average,
// and at least 8.
func IndexBits(expectedCases int) int {
	if expectedCases < 1 {
		return MinIndexBits
	}
	b := bits.Len(uint(expectedCases)) - 1 - 2
	return min(max(b, MinIndexBits), MaxIndexBits)
}

// ExpectedCasesFor returns an expected number of cases that IndexBits
// turns into bits (the smallest).
func ExpectedCasesFor(bits int) int {
	if bits <= MinIndexBits {
		return 1
	}
	return 1 << (min(bits, 28) + 2)
}

// SparseWarning returns a warning for start-up logs when an index of bits
// bits over expectedCases cases leaves fewer than four cases per bucket on
// average (a leaked index key would then narrow a number to very few cases),
// or "" when it does not.
func SparseWarning(expectedCases, bits int) string {
	if expectedCases < 1 {
		return "blind index: expected number of cases is not set; set it to the service's expected caseload"
	}
	perBucket := float64(expectedCases) / math.Ldexp(1, bits)
	if perBucket >= minPerBucket {
		return ""
	}
	advice := fmt.Sprintf("use %d bits", IndexBits(expectedCases))
	if bits <= MinIndexBits {
		advice = fmt.Sprintf("%d bits is the minimum, so this is expected below %d cases", MinIndexBits, minPerBucket<<MinIndexBits)
	}
	return fmt.Sprintf("blind index: %d expected cases in %d-bit buckets is about %.2g per bucket, fewer than %d; %s",
		expectedCases, bits, perBucket, minPerBucket, advice)
}
