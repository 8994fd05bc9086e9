// Package randid makes random identifiers and tokens.
//
// Identifiers use lower-case letters only (no digits, no l or o), so a Redis
// key built from one can never hold a run of digits that could be mistaken
// for, or hide, a phone number or a date.
package randid

import (
	"crypto/rand"
	"encoding/base64"
)

const letters = "abcdefghijkmnpqrstuvwxyz" // 24 letters: 4.58 bits each

// New returns prefix followed by n random letters; 20 letters carry 91 bits.
func New(prefix string, n int) string {
	b := make([]byte, len(prefix)+n)
	copy(b, prefix)
	r := make([]byte, n)
	rand.Read(r) // never fails on Linux (Go 1.24+ crashes rather than return an error)
	for i, c := range r {
		// 256 = 10*24 + 16: reject the top 16 values to keep letters uniform.
		for c >= 240 {
			var one [1]byte
			rand.Read(one[:])
			c = one[0]
		}
		b[len(prefix)+i] = letters[int(c)%len(letters)]
	}
	return string(b)
}

// Token returns nbytes of randomness as unpadded base64url: a secret for a
// cookie, a ticket or a device, never used in a key name (its hash is).
func Token(nbytes int) string {
	b := make([]byte, nbytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
