package seal

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"hash"
	"log/slog"
)

// PINKey hashes case PINs: HMAC-SHA256 under a key from configuration, never
// stored in Redis. A PIN of 4 to 8 digits is too short for any hash to
// protect offline, so the key is what protects it. It is safe for concurrent
// use and redacts its key when printed or logged.
type PINKey struct {
	// mac is a func for the same reason as Index.mac.
	mac func() hash.Hash
}

// NewPINKey returns a PIN key (at least 32 bytes; copied).
func NewPINKey(key []byte) (*PINKey, error) {
	if len(key) < minLookupKey {
		return nil, fmt.Errorf("seal: PIN key is %d bytes, want at least %d", len(key), minLookupKey)
	}
	return &PINKey{mac: newMAC(key)}, nil
}

// Hash returns HMAC-SHA256(key, "pin\x00" + caseID + "\x00" + pin), binding
// the PIN to its case so equal PINs of two cases hash differently.
func (k *PINKey) Hash(caseID, pin string) []byte {
	m := k.mac()
	m.Write([]byte("pin\x00"))
	m.Write([]byte(caseID))
	m.Write([]byte{0})
	m.Write([]byte(pin))
	return m.Sum(nil)
}

// Check hashes pin once and compares it with both the real and the duress
// hash, in constant time, always both, with no branch on the result until both
// are known: a real and a duress check cost the same. A stored hash of the
// wrong length (nil: no duress PIN) matches nothing. If real and duress are
// equal — enrolment must refuse that — a matching PIN reports duress only,
// erring towards raising the alarm.
func (k *PINKey) Check(caseID, pin string, realHash, duressHash []byte) (isReal, isDuress bool) {
	h := k.Hash(caseID, pin)
	// zero stands in for a stored hash of the wrong length, so both
	// comparisons always run over 32 bytes; no HMAC output equals it in
	// practice, and the length test below rules it out anyway.
	var zero [sha256.Size]byte
	r := subtle.ConstantTimeCompare(h, fit(realHash, zero[:])) & subtle.ConstantTimeEq(int32(len(realHash)), sha256.Size)
	d := subtle.ConstantTimeCompare(h, fit(duressHash, zero[:])) & subtle.ConstantTimeEq(int32(len(duressHash)), sha256.Size)
	r &^= d
	return r == 1, d == 1
}

// fit returns stored if it has the length of a hash, else zero.
func fit(stored, zero []byte) []byte {
	if len(stored) == sha256.Size {
		return stored
	}
	return zero
}

// String returns a redacted form.
func (k *PINKey) String() string { return "seal.PINKey{[redacted]}" }

// GoString is String, for %#v.
func (k *PINKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k *PINKey) Format(f fmt.State, verb rune) { formatString(f, verb, k.String()) }

// LogValue logs a redacted form.
func (k *PINKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }
