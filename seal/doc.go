// Package seal encrypts personal data before it reaches Redis, keeps the keys
// that do it, and derives the keyed values (blind index, PIN hashes) that let
// Waymark look things up without storing them in the clear.
//
// # Keys
//
// Key-encryption keys (KEKs) come from configuration as "id:base64" pairs
// (config parses WAYMARK_KEYS into Keys); the first is active and seals
// everything new, the others only open. Each case has its own random data
// key, stored wrapped (sealed) under the active KEK; erasing a case deletes
// its wrapped key and with it every record sealed under it. Rotation: put
// the new key first, Rewrap every data key and Reseal every record that is
// sealed directly under a KEK, check with KeyID that none is left under the
// old key, then drop it (Keyring.Without).
//
// # Record format
//
//	offset  size  field
//	0       1     version, 0x01
//	1       1     kind: 'k' sealed under a KEK, 'd' sealed under a data key
//	2       1     n, length of the key id (1 to 16)
//	3       n     key id, [a-z0-9_-]; "dk" for kind 'd' (the data key is
//	              known from context, so none is named)
//	3+n     24    random nonce
//	27+n    rest  XChaCha20-Poly1305 ciphertext and 16-byte tag
//
// The AEAD's additional data is the header (its first 3+n bytes), then
// "waymark/seal/v1", a zero byte, and three uvarint-length-prefixed strings:
// the purpose ("record" or "data key"), AD.Key and AD.Field. So flipping any
// header byte, copying a record to another Redis key or field, or passing a
// wrapped data key off as a record (or the reverse) makes Open fail.
//
// # Lookups
//
// Index maps a phone number to a short, letters-only bucket name under its
// own key (a blind index, truncated so each bucket holds several cases);
// PINKey hashes PINs with HMAC-SHA256 and checks the real and duress PINs in
// the same constant time.
package seal
