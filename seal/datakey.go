package seal

import (
	"crypto/cipher"
	"fmt"
	"log/slog"

	"golang.org/x/crypto/chacha20poly1305"
)

// DataKey is one case's data key. Records sealed under it carry the key id
// "dk"; which data key to use comes from the case they belong to. It is safe
// for concurrent use and redacts itself when printed or logged.
type DataKey struct {
	// aead is a pointer to an interface so that no reflection-based dump
	// of a DataKey reaches the key bytes (see Keyring.aeads).
	aead *cipher.AEAD
}

// NewDataKey makes a random data key and returns it with its wrapped form:
// the key sealed under the active key-encryption key, bound to ad (where the
// wrapped key will be stored). Store only the wrapped form.
func (k *Keyring) NewDataKey(ad AD) (*DataKey, []byte, error) {
	raw := NewRandomKey()
	defer clear(raw)
	wrapped, err := sealWith(*k.aeads[k.active], kindKEK, k.active, purposeDataKey, raw, ad)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: new data key: %w", err)
	}
	dk, err := newDataKey(raw)
	if err != nil {
		return nil, nil, err
	}
	return dk, wrapped, nil
}

// UnwrapDataKey opens a wrapped data key made by NewDataKey (or Rewrap)
// under any key in the ring. Errors are those of Open.
func (k *Keyring) UnwrapDataKey(wrapped []byte, ad AD) (*DataKey, error) {
	raw, err := k.open(wrapped, purposeDataKey, ad)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	if len(raw) != KeySize {
		// Only a wrapped data key authenticates under this purpose, so
		// this means a bug, not an attack.
		return nil, fmt.Errorf("%w: data key is %d bytes", ErrFormat, len(raw))
	}
	return newDataKey(raw)
}

// Rewrap re-wraps a wrapped data key under the active key-encryption key, for
// rotation. A key already under the active one is checked and returned as a
// copy.
func (k *Keyring) Rewrap(wrapped []byte, ad AD) ([]byte, error) {
	return k.reseal(wrapped, purposeDataKey, ad)
}

func newDataKey(raw []byte) (*DataKey, error) {
	aead, err := chacha20poly1305.NewX(raw) // copies raw
	if err != nil {
		return nil, fmt.Errorf("seal: data key: %w", err)
	}
	return &DataKey{aead: &aead}, nil
}

// Seal seals plaintext under the data key, bound to ad.
func (d *DataKey) Seal(plaintext []byte, ad AD) ([]byte, error) {
	ct, err := sealWith(*d.aead, kindData, dataKeyID, purposeRecord, plaintext, ad)
	if err != nil {
		return nil, fmt.Errorf("seal: seal: %w", err)
	}
	return ct, nil
}

// Open opens a record sealed by d.Seal. Errors: ErrFormat (not a record, or
// one sealed under a key-encryption key), ErrOpen (anything else, including
// another case's data key).
func (d *DataKey) Open(ct []byte, ad AD) ([]byte, error) {
	r, err := parse(ct)
	if err != nil {
		return nil, err
	}
	if r.kind != kindData {
		return nil, fmt.Errorf("%w: sealed under a key-encryption key, not a data key", ErrFormat)
	}
	return openWith(*d.aead, r, purposeRecord, ad)
}

// String returns a redacted form.
func (d *DataKey) String() string { return "seal.DataKey{[redacted]}" }

// GoString is String, for %#v.
func (d *DataKey) GoString() string { return d.String() }

// Format prints String for every verb.
func (d *DataKey) Format(f fmt.State, verb rune) { formatString(f, verb, d.String()) }

// LogValue logs a redacted form.
func (d *DataKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }
