package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

var (
	// ErrOpen is returned for any record that does not open: tampered,
	// sealed under another key, or bound to other additional data. It
	// deliberately says no more. ErrFormat and ErrUnknownKey refine it:
	// errors.Is(err, ErrOpen) holds for them too.
	ErrOpen error = &openError{"seal: cannot open record"}
	// ErrUnknownKey is returned, wrapped with the key id
	// (`seal: unknown key "k1"`), for a record sealed under a key the
	// keyring does not hold.
	ErrUnknownKey error = &openError{"seal: unknown key"}
	// ErrFormat is returned for bytes that are not a sealed record of the
	// expected kind: too short, another version, an unknown kind, a
	// malformed key id.
	ErrFormat error = &openError{"seal: malformed record"}
)

// openError is the type of the sentinels, so that each also matches ErrOpen.
type openError struct{ msg string }

func (e *openError) Error() string { return e.msg }

// Is makes every sentinel match ErrOpen.
func (e *openError) Is(target error) bool { return target == ErrOpen }

const (
	version   byte = 0x01
	kindKEK   byte = 'k'
	kindData  byte = 'd'
	nonceSize      = chacha20poly1305.NonceSizeX
	tagSize        = chacha20poly1305.Overhead
	// domain separates Waymark's additional data from any other use of
	// the same keys.
	domain = "waymark/seal/v1\x00"
	// purposeRecord and purposeDataKey keep a wrapped data key from
	// opening as a record and a record from unwrapping as a data key.
	purposeRecord  = "record"
	purposeDataKey = "data key"
)

// AD is the additional data that binds a sealed record to where it lives: its
// Redis key and, for a hash, its field. A record copied to another key or
// field does not open. Key must not be empty.
type AD struct {
	Key, Field string
}

// Sealer seals and opens records; *Keyring and *DataKey satisfy it.
type Sealer interface {
	Seal(plaintext []byte, ad AD) ([]byte, error)
	Open(ciphertext []byte, ad AD) ([]byte, error)
}

var (
	_ Sealer = (*Keyring)(nil)
	_ Sealer = (*DataKey)(nil)
)

// errNoADKey is a programming error: every sealed value lives under a key.
var errNoADKey = errors.New("seal: additional data has no key")

// header returns the record header for kind and key id.
func header(kind byte, id string) []byte {
	h := make([]byte, 0, 3+len(id))
	h = append(h, version, kind, byte(len(id)))
	return append(h, id...)
}

// additionalData is what the AEAD authenticates besides the ciphertext:
// the header, then the domain, purpose and AD, each string length-prefixed
// so that no two different inputs encode the same.
func additionalData(hdr []byte, purpose string, ad AD) []byte {
	out := make([]byte, 0, len(hdr)+len(domain)+3*binary.MaxVarintLen64+len(purpose)+len(ad.Key)+len(ad.Field))
	out = append(out, hdr...)
	out = append(out, domain...)
	for _, s := range []string{purpose, ad.Key, ad.Field} {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

// sealWith seals plaintext under aead with a fresh random nonce.
func sealWith(aead cipher.AEAD, kind byte, id, purpose string, plaintext []byte, ad AD) ([]byte, error) {
	if ad.Key == "" {
		return nil, errNoADKey
	}
	hdr := header(kind, id)
	out := make([]byte, len(hdr)+nonceSize, len(hdr)+nonceSize+len(plaintext)+tagSize)
	copy(out, hdr)
	nonce := out[len(hdr):]
	// crypto/rand.Read never fails (since Go 1.24 it aborts the program
	// if the system's generator does).
	_, _ = rand.Read(nonce)
	return aead.Seal(out, nonce, plaintext, additionalData(hdr, purpose, ad)), nil
}

// record is a parsed sealed record.
type record struct {
	kind  byte
	id    string
	hdr   []byte
	nonce []byte
	body  []byte
}

// parse splits ct into header, nonce and ciphertext, checking everything
// that can be checked without a key.
func parse(ct []byte) (record, error) {
	if len(ct) < 3 {
		return record{}, fmt.Errorf("%w: too short", ErrFormat)
	}
	if ct[0] != version {
		return record{}, fmt.Errorf("%w: unknown version", ErrFormat)
	}
	kind := ct[1]
	if kind != kindKEK && kind != kindData {
		return record{}, fmt.Errorf("%w: unknown kind", ErrFormat)
	}
	n := int(ct[2])
	if n == 0 || n > maxIDLen {
		return record{}, fmt.Errorf("%w: bad key id", ErrFormat)
	}
	hdrLen := 3 + n
	if len(ct) < hdrLen+nonceSize+tagSize {
		return record{}, fmt.Errorf("%w: too short", ErrFormat)
	}
	id := string(ct[3:hdrLen])
	if !validID(id) || (kind == kindData) != (id == dataKeyID) {
		return record{}, fmt.Errorf("%w: bad key id", ErrFormat)
	}
	return record{
		kind:  kind,
		id:    id,
		hdr:   ct[:hdrLen],
		nonce: ct[hdrLen : hdrLen+nonceSize],
		body:  ct[hdrLen+nonceSize:],
	}, nil
}

// openWith opens a parsed record under aead.
func openWith(aead cipher.AEAD, r record, purpose string, ad AD) ([]byte, error) {
	if ad.Key == "" {
		return nil, errNoADKey
	}
	pt, err := aead.Open(nil, r.nonce, r.body, additionalData(r.hdr, purpose, ad))
	if err != nil {
		return nil, ErrOpen
	}
	if pt == nil {
		// Keep "opened an empty record" distinct from nil-on-error.
		pt = []byte{}
	}
	return pt, nil
}

// KeyID returns the id of the key that sealed ct: a key-encryption key's id,
// or "dk" for a record sealed under a data key. It reads only the header and
// proves nothing about the record's integrity; use it to track rotation.
func KeyID(ct []byte) (string, error) {
	r, err := parse(ct)
	if err != nil {
		return "", err
	}
	return r.id, nil
}
