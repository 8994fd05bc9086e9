package seal

import (
	"crypto/cipher"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Keyring holds the key-encryption keys: the active one seals, any of them
// opens. It is immutable and safe for concurrent use. It redacts itself when
// printed or logged (ids only).
type Keyring struct {
	active string
	ids    []string
	// aeads holds pointers to interfaces, not the ciphers themselves: for
	// a bad verb (%s of a struct holding a Keyring) fmt dumps what a
	// pointer to a struct points at, but prints only the address of a
	// pointer to an interface, so no dump reaches the key bytes.
	aeads map[string]*cipher.AEAD
}

// NewKeyring builds a keyring from keys; the first is active. Ids must be
// unique, well formed and not the reserved "dk"; secrets exactly 32 bytes.
// The secrets are copied.
func NewKeyring(keys []Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("seal: keyring needs at least one key")
	}
	k := &Keyring{
		active: keys[0].ID,
		ids:    make([]string, 0, len(keys)),
		aeads:  make(map[string]*cipher.AEAD, len(keys)),
	}
	for i, key := range keys {
		if err := checkKey(key, i+1); err != nil {
			return nil, err
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("seal: key %q given twice", key.ID)
		}
		aead, err := chacha20poly1305.NewX(key.Secret) // copies the secret
		if err != nil {
			return nil, fmt.Errorf("seal: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = &aead
		k.ids = append(k.ids, key.ID)
	}
	return k, nil
}

// ActiveID returns the id of the key that seals.
func (k *Keyring) ActiveID() string { return k.active }

// IDs returns every key id, the active one first.
func (k *Keyring) IDs() []string { return slices.Clone(k.ids) }

// Without returns a keyring without key id, to retire it once KeyID shows no
// record left under it. The active key cannot be retired.
func (k *Keyring) Without(id string) (*Keyring, error) {
	if _, ok := k.aeads[id]; !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	if id == k.active {
		return nil, fmt.Errorf("seal: key %q is active and cannot be retired", id)
	}
	out := &Keyring{
		active: k.active,
		ids:    make([]string, 0, len(k.ids)-1),
		aeads:  make(map[string]*cipher.AEAD, len(k.aeads)-1),
	}
	for _, other := range k.ids {
		if other != id {
			out.ids = append(out.ids, other)
			out.aeads[other] = k.aeads[other]
		}
	}
	return out, nil
}

// Seal seals plaintext under the active key, bound to ad.
func (k *Keyring) Seal(plaintext []byte, ad AD) ([]byte, error) {
	ct, err := sealWith(*k.aeads[k.active], kindKEK, k.active, purposeRecord, plaintext, ad)
	if err != nil {
		return nil, fmt.Errorf("seal: seal: %w", err)
	}
	return ct, nil
}

// Open opens a record sealed by Seal under any key in the ring. Errors:
// ErrFormat (not a record, or one sealed under a data key), ErrUnknownKey
// (wrapped with the id), ErrOpen (anything else).
func (k *Keyring) Open(ct []byte, ad AD) ([]byte, error) {
	return k.open(ct, purposeRecord, ad)
}

func (k *Keyring) open(ct []byte, purpose string, ad AD) ([]byte, error) {
	r, err := parse(ct)
	if err != nil {
		return nil, err
	}
	if r.kind != kindKEK {
		return nil, fmt.Errorf("%w: sealed under a data key, not a key-encryption key", ErrFormat)
	}
	aead, ok := k.aeads[r.id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, r.id)
	}
	return openWith(*aead, r, purpose, ad)
}

// Reseal opens a record sealed by Seal and, unless it is already under the
// active key, seals it again under the active key, for rotation. A record
// already under the active key is checked and returned as a copy.
func (k *Keyring) Reseal(ct []byte, ad AD) ([]byte, error) {
	return k.reseal(ct, purposeRecord, ad)
}

func (k *Keyring) reseal(ct []byte, purpose string, ad AD) ([]byte, error) {
	pt, err := k.open(ct, purpose, ad)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	if id, _ := KeyID(ct); id == k.active {
		return slices.Clone(ct), nil
	}
	out, err := sealWith(*k.aeads[k.active], kindKEK, k.active, purpose, pt, ad)
	if err != nil {
		return nil, fmt.Errorf("seal: reseal: %w", err)
	}
	return out, nil
}

// String lists the key ids; it never shows a secret.
func (k *Keyring) String() string {
	return "seal.Keyring{active: " + strconv.Quote(k.active) + ", ids: [" + strings.Join(k.ids, " ") + "]}"
}

// GoString is String, for %#v.
func (k *Keyring) GoString() string { return k.String() }

// Format prints String for every verb.
func (k *Keyring) Format(f fmt.State, verb rune) { formatString(f, verb, k.String()) }

// LogValue logs the key ids only.
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(slog.String("active", k.active), slog.Any("ids", k.IDs()))
}
