package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"waymark/seal"
)

// KeySize is the length of a sealing key in bytes (XChaCha20-Poly1305).
const KeySize = 32

// maxKeys bounds WAYMARK_KEYS: rotation needs two or three at once, and a
// bound keeps a pasted file of junk from doing much work.
const maxKeys = 64

var keyIDPattern = regexp.MustCompile(`^[a-z0-9_-]{1,16}$`)

// parseKeys parses WAYMARK_KEYS: "id:base64" entries separated by commas
// (or newlines, for a _FILE with one key a line), the first active. Its
// error lists every problem, naming entries by position or by id and never
// quoting a secret or an id that failed the id rule (that may be a
// secret pasted in the wrong order).
func parseKeys(s string) ([]seal.Key, error) {
	var (
		keys     []seal.Key
		problems []string
		firstID  = make(map[string]int) // id → entry number
		entry    int
	)
	for item := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		entry++
		if entry > maxKeys {
			problems = append(problems, fmt.Sprintf("more than %d keys", maxKeys))
			break
		}
		id, b64, ok := strings.Cut(item, ":")
		if !ok {
			problems = append(problems, fmt.Sprintf("entry %d is not id:base64", entry))
			continue
		}
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if !keyIDPattern.MatchString(id) {
			problems = append(problems, fmt.Sprintf("entry %d: key id must be 1 to 16 of a-z, 0-9, _ and -", entry))
			continue
		}
		if n, dup := firstID[id]; dup {
			problems = append(problems, fmt.Sprintf("key id %q is used by entries %d and %d", id, n, entry))
			continue
		}
		firstID[id] = entry
		secret, ok := decodeBase64(b64)
		if !ok {
			problems = append(problems, fmt.Sprintf("key %q is not valid base64", id))
			continue
		}
		if len(secret) != KeySize {
			problems = append(problems, fmt.Sprintf("key %q is %d bytes; must be %d after base64 decoding", id, len(secret), KeySize))
			continue
		}
		for _, k := range keys {
			if bytes.Equal(k.Secret, secret) {
				problems = append(problems, fmt.Sprintf("keys %q and %q are the same key", k.ID, id))
			}
		}
		keys = append(keys, seal.Key{ID: id, Secret: secret})
	}
	if entry == 0 {
		problems = append(problems, "has no keys")
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return keys, nil
}

// decodeBase64 accepts standard or URL-safe base64, padded or not, as
// produced by any of the usual tools.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, false
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}
