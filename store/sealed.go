package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"waymark/seal"
)

// Crypto is what the store seals, indexes and tags with. Keys come from
// configuration and never reach Redis.
type Crypto struct {
	Keyring *seal.Keyring
	Index   *seal.Index
	// TagKey makes letter-only tags of secrets and identifiers that must
	// not appear in key names (token hashes, username and address tags).
	TagKey []byte
	// AuditKey is k_audit (WAYMARK_AUDIT_KEY), which keys the audit hash
	// chain; empty derives one from TagKey.
	AuditKey []byte
}

// sealKEK seals a record that belongs to no case (a staff phone, a TOTP
// secret) under the active key-encryption key, bound to its key and field.
func (s *conn) sealKEK(key, field string, plaintext []byte) ([]byte, error) {
	ct, err := s.crypto.Keyring.Seal(plaintext, seal.AD{Key: key, Field: field})
	if err != nil {
		return nil, fmt.Errorf("store: seal %s field %s: %w", key, field, err)
	}
	return ct, nil
}

// openKEK opens what sealKEK sealed.
func (s *conn) openKEK(key, field string, ct []byte) ([]byte, error) {
	pt, err := s.crypto.Keyring.Open(ct, seal.AD{Key: key, Field: field})
	if err != nil {
		return nil, fmt.Errorf("store: open %s field %s: %w", key, field, err)
	}
	return pt, nil
}

// tag is a letter-only HMAC-SHA256 (128 bits) of a secret or identifier,
// for use in key names and lookups: a session token, a device token, an
// enrolment code, a username, an IP address. Tags of tokens that are 128+
// random bits would be safe unkeyed; the key also hides low-entropy inputs.
func (s *conn) tag(kind, value string) string {
	m := hmac.New(sha256.New, s.crypto.TagKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	sum := m.Sum(nil)[:16]
	out := make([]byte, 32)
	for i, b := range sum {
		out[2*i] = 'a' + b>>4
		out[2*i+1] = 'a' + b&0x0f
	}
	return string(out)
}
