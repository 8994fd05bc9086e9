package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// FuzzOpen feeds arbitrary bytes to every opener. Nothing may panic, every
// failure must match ErrOpen, and whatever opens must be exactly what Seal
// would have produced for that plaintext, AD and nonce: a record that opens
// after any change would show the format is malleable.
func FuzzOpen(f *testing.F) {
	keys := []Key{testKey("k1", 1), testKey("k2", 2)}
	ring := testRing(f, keys...)
	// A fixed data key, so that every fuzz worker process agrees on it.
	rawDK := bytes.Repeat([]byte{3}, KeySize)
	dk, err := newDataKey(rawDK)
	if err != nil {
		f.Fatal(err)
	}
	dkAD := AD{Key: "wm:{t}:case:c1", Field: "dk"}
	wrapped, err := sealWith(*ring.aeads["k1"], kindKEK, "k1", purposeDataKey, rawDK, dkAD)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(wrapped, "dk")
	for _, field := range []string{"phone", "", "notes"} {
		for _, s := range []Sealer{ring, dk} {
			for _, pt := range []string{"", "+447700900123", strings.Repeat("n", 300)} {
				ct, err := s.Seal([]byte(pt), AD{Key: "wm:{t}:case:c1", Field: field})
				if err != nil {
					f.Fatal(err)
				}
				f.Add(ct, field)
			}
		}
	}
	f.Add([]byte{}, "")
	f.Add([]byte{1, 'k', 2, 'k', '1'}, "phone")
	f.Add([]byte{1, 'd', 2, 'd', 'k'}, "phone")
	f.Add(bytes.Repeat([]byte{1}, 60), "phone")

	secrets := map[string][]byte{"k1": keys[0].Secret, "k2": keys[1].Secret, dataKeyID: rawDK}
	// canonical reports whether data is exactly what sealing pt with the
	// key named in its header, its nonce, purpose and ad produces.
	canonical := func(data, pt []byte, purpose string, ad AD) bool {
		r, err := parse(data)
		if err != nil {
			return false
		}
		aead, err := chacha20poly1305.NewX(secrets[r.id])
		if err != nil {
			return false
		}
		want := append(header(r.kind, r.id), r.nonce...)
		want = aead.Seal(want, r.nonce, pt, additionalData(want[:len(r.hdr)], purpose, ad))
		return bytes.Equal(want, data)
	}

	f.Fuzz(func(t *testing.T, data []byte, field string) {
		ad := AD{Key: "wm:{t}:case:c1", Field: field}
		_, idErr := KeyID(data)
		if idErr != nil && !errors.Is(idErr, ErrFormat) {
			t.Fatalf("KeyID error %v is not ErrFormat", idErr)
		}
		check := func(name string, pt []byte, purpose string, err error) {
			if err != nil {
				if !errors.Is(err, ErrOpen) {
					t.Fatalf("%s: error %v does not match ErrOpen", name, err)
				}
				return
			}
			if pt == nil {
				t.Fatalf("%s: nil error but nothing returned", name)
			}
			if idErr != nil {
				t.Fatalf("%s opened a record KeyID rejects", name)
			}
			if !canonical(data, pt, purpose, ad) {
				t.Fatalf("%s opened bytes Seal would not produce: %x (field %q)", name, data, field)
			}
		}
		pt, err := ring.Open(data, ad)
		check("Keyring.Open", pt, purposeRecord, err)
		pt, err = dk.Open(data, ad)
		check("DataKey.Open", pt, purposeRecord, err)
		raw, err := ring.open(data, purposeDataKey, ad)
		check("unwrap", raw, purposeDataKey, err)
		if _, err := ring.UnwrapDataKey(data, ad); (err == nil) != (raw != nil) {
			t.Fatalf("UnwrapDataKey disagrees with unwrap: %v", err)
		}
		if re, err := ring.Rewrap(data, ad); err == nil {
			if _, err := ring.UnwrapDataKey(re, ad); err != nil {
				t.Fatalf("Rewrap output does not unwrap: %v", err)
			}
		} else if !errors.Is(err, ErrOpen) {
			t.Fatalf("Rewrap: error %v does not match ErrOpen", err)
		}
		if re, err := ring.Reseal(data, ad); err == nil {
			if _, err := ring.Open(re, ad); err != nil {
				t.Fatalf("Reseal output does not open: %v", err)
			}
		} else if !errors.Is(err, ErrOpen) {
			t.Fatalf("Reseal: error %v does not match ErrOpen", err)
		}
	})
}
