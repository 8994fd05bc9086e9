// Package randid makes random identifiers and tokens.
//
// Identifiers use lower-case letters only (no digits, no l or o), so a Redis
// key built from one can never hold a run of digits that could be mistaken
// for, or hide, a phone number or a date.
package randid

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
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

// Neutral alphabets can spell no word of any language that needs a vowel,
// nor "999" or "dv": no vowels, no y, no v, no 9. The disguised app's
// listener serves ids, tokens and hashes in them, so that no random value
// it sends can happen to hold a word that gives the app away (package
// disguise/words).
const (
	neutralLower = "bcdfghjkmnpqrstwxz"                          // 18: 4.17 bits each
	neutralMixed = "bcdfghjkmnpqrstwxzBCDFGHJKMNPQRSTWXZ2345678" // 43: 5.43 bits each
)

// NeutralID is New drawn from lower-case consonants only: prefix and n of
// them (16 carry 66 bits).
func NeutralID(prefix string, n int) string {
	return prefix + draw(neutralLower, n)
}

// NeutralToken is a secret of at least nbytes of randomness in mixed-case
// consonants and digits 2–8: 32 bytes make 48 characters.
func NeutralToken(nbytes int) string {
	n := (nbytes*8*100 + 542) / 543 // ceil(bits / 5.43)
	return draw(neutralMixed, n)
}

// NeutralHash writes a digest's bytes in neutral letters, one per byte:
// not uniform, but an ETag or a version only needs to change with the
// content.
func NeutralHash(sum []byte) string {
	b := make([]byte, len(sum))
	for i, c := range sum {
		b[i] = neutralMixed[int(c)%len(neutralMixed)]
	}
	return string(b)
}

// draw returns n symbols drawn uniformly from alphabet (len < 256).
func draw(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+16)
	for len(out) < n {
		rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// Valid reports whether id has the shape New(prefix, n) gives: prefix, then
// n lower-case letters. It lets a malformed id be answered without a lookup.
func Valid(id, prefix string, n int) bool {
	if len(id) != len(prefix)+n || !strings.HasPrefix(id, prefix) {
		return false
	}
	for _, c := range id[len(prefix):] {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
