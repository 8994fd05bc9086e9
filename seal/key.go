package seal

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length in bytes of a key-encryption key and of a data key.
const KeySize = chacha20poly1305.KeySize

// maxIDLen is the longest key id; the header stores the length in one byte.
const maxIDLen = 16

// dataKeyID is the key id written in records sealed under a data key. It is
// reserved: no configured key may use it.
const dataKeyID = "dk"

// Key is a key-encryption key as configured (config.Config.Keys, parsed
// from WAYMARK_KEYS): an id written into every record it seals, and a
// 32-byte secret. Key redacts its secret when printed, logged or
// marshalled, since the configuration holding it may be; but its Secret
// field is plain bytes: keep a Key only until NewKeyring has copied it,
// and never in a struct that might be dumped.
type Key struct {
	ID     string
	Secret []byte
}

// String returns the id and a redacted secret.
func (k Key) String() string { return "seal.Key{ID: " + strconv.Quote(k.ID) + ", Secret: [redacted]}" }

// GoString is String, for %#v.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb, so no verb reaches the secret.
func (k Key) Format(f fmt.State, verb rune) { formatString(f, verb, k.String()) }

// LogValue logs the id only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("secret", "[redacted]"))
}

// MarshalJSON writes the id only.
func (k Key) MarshalJSON() ([]byte, error) {
	return []byte(`{"id":` + strconv.Quote(k.ID) + `,"secret":"[redacted]"}`), nil
}

// validID reports whether id is 1 to 16 characters of [a-z0-9_-].
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkKey validates one configured key. Its errors name the id only when
// the id is well formed: a malformed one may be a secret pasted in the wrong
// place.
func checkKey(k Key, n int) error {
	if !validID(k.ID) {
		return fmt.Errorf("seal: key %d: id must be 1 to %d of a-z 0-9 _ -", n, maxIDLen)
	}
	if k.ID == dataKeyID {
		return fmt.Errorf("seal: key %q: id is reserved", k.ID)
	}
	if len(k.Secret) != KeySize {
		return fmt.Errorf("seal: key %q: secret is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
	}
	return nil
}

// NewRandomKey returns 32 bytes from crypto/rand, for a new key-encryption,
// index or PIN key.
func NewRandomKey() []byte {
	b := make([]byte, KeySize)
	// crypto/rand.Read never fails (since Go 1.24 it aborts the program
	// if the system's generator does).
	_, _ = rand.Read(b)
	return b
}

// FormatKey returns "id:base64url" (no padding), the form of one entry of
// WAYMARK_KEYS (config parses it), for `waymark keys new`.
func FormatKey(id string, secret []byte) string {
	return id + ":" + base64.RawURLEncoding.EncodeToString(secret)
}

// formatString implements fmt.Formatter for types that must print only s.
func formatString(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}
