package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"waymark/pii"
)

// The audit trail is a hash chain. Entry i carries
//
//	h_i = HMAC-SHA256(k_audit, h_{i-1} ‖ canonical(entry_i))
//
// with h_0 empty, so changing, removing or reordering any entry breaks every
// hash after it, and nobody without k_audit (which lives in configuration,
// never in Redis) can forge a consistent chain. Retention trims the oldest
// entries; a checkpoint MAC'd under the same key carries (seq, h) of the
// last trimmed entry, so the chain still verifies from the first kept one.
//
// The functions here are pure: the store computes hashes with them while it
// appends (optimistically, against the head it read), and `waymark audit
// verify` checks a chain with them.
//
// k_audit can be rotated. Every entry names the key it is MAC'd under by a
// key id (AuditKeyID: a fingerprint, not the key). The first append under a
// new key first appends an "audit.key_rotated" entry MAC'd under the old
// key that names the new key's id, so the old key vouches for the change;
// from it on, the chain's key is the new one, and an entry under any other
// key is a break. A verifier holds the current key and the retired ones
// (WAYMARK_AUDIT_KEYS_RETIRED). Entries written before key ids existed
// (format v1) carry none: they verify under whichever configured key they
// were MAC'd with, the same key for all of them.

// AuditEntry is one line of the audit trail: who did or tried what, to which
// case or alert, why, and with what outcome. Reason is sealed by the store;
// Outcome is fixed wording ("ok", "refused: …") and never personal data.
type AuditEntry struct {
	At      time.Time
	Actor   string // staff id, or "app" / "system" / "cli"
	Action  string // e.g. "case.reveal"
	CaseID  string
	AlertID string
	Reason  pii.Text
	Outcome string
}

// ChainEntry is an audit entry as stored in the chain: the entry, its place
// and its hash. ReasonDigest binds the sealed reason into the chain without
// putting it there in the clear (see ReasonDigest).
type ChainEntry struct {
	Seq      int64
	ID       string // random entry id ("e_…"), also the reason's sealing context
	StreamID string // the Redis stream id, for naming an entry to an operator
	At       time.Time
	Actor    string
	Action   string
	CaseID   string
	AlertID  string
	Outcome  string
	// ReasonDigest is ReasonDigest(ID, reason), or "" for no reason.
	ReasonDigest string
	// Key is the id (AuditKeyID) of the key the entry is MAC'd under; ""
	// for a v1 entry written before keys could be rotated.
	Key string
	// NextKey is the new key's id on an ActionKeyRotated entry, else "".
	NextKey string
	// Hash is h_i, lower-case hex.
	Hash string
}

// ActionKeyRotated is the action of the chain entry that hands the chain
// from one k_audit to the next. It is MAC'd under the old key and names
// the new key's id in NextKey.
const ActionKeyRotated = "audit.key_rotated"

// AuditKeyID is k_audit's public fingerprint: 16 hex digits of an HMAC
// under the key of a fixed label. It identifies the key in entries,
// checkpoints and `waymark audit verify` output without revealing it.
func AuditKeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("waymark audit key id v1"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// AuditKeyring is the current k_audit and the keys it replaced, by id.
type AuditKeyring struct {
	current string
	keys    map[string][]byte
	order   []string // current first, then retired as given
}

// NewAuditKeyring builds a keyring; empty keys and repeats are ignored.
func NewAuditKeyring(current []byte, retired ...[]byte) AuditKeyring {
	r := AuditKeyring{keys: map[string][]byte{}}
	for i, k := range append([][]byte{current}, retired...) {
		if len(k) == 0 {
			continue
		}
		id := AuditKeyID(k)
		if i == 0 {
			r.current = id
		}
		if _, dup := r.keys[id]; !dup {
			r.keys[id] = k
			r.order = append(r.order, id)
		}
	}
	return r
}

// Current is the current key's id ("" when there is none).
func (r AuditKeyring) Current() string { return r.current }

// Key returns the key with id.
func (r AuditKeyring) Key(id string) ([]byte, bool) {
	k, ok := r.keys[id]
	return k, ok
}

// IDs lists the key ids, the current one first.
func (r AuditKeyring) IDs() []string { return slices.Clone(r.order) }

// canonicalEntry fixes the field order (encoding/json writes struct fields
// in declaration order), so canonical bytes never depend on a map's order.
type canonicalEntry struct {
	V       int    `json:"v"`
	Seq     int64  `json:"seq"`
	ID      string `json:"id"`
	At      int64  `json:"at"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Case    string `json:"case"`
	Alert   string `json:"alert"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// canonicalEntryV2 adds the key ids; v1 entries keep their exact bytes.
type canonicalEntryV2 struct {
	canonicalEntry
	Key     string `json:"key"`
	NextKey string `json:"next_key"`
}

// Canonical is the exact byte string the chain hashes for e: compact JSON
// with a fixed field order, times in Unix milliseconds. An entry with a key
// id is format v2 (two more fields); one without is v1, byte for byte as
// before key rotation existed.
func (e ChainEntry) Canonical() []byte {
	c := canonicalEntry{V: 1, Seq: e.Seq, ID: e.ID, At: e.At.UnixMilli(), Actor: e.Actor,
		Action: e.Action, Case: e.CaseID, Alert: e.AlertID, Outcome: e.Outcome, Reason: e.ReasonDigest}
	if e.Key == "" {
		b, _ := json.Marshal(c)
		return b
	}
	c.V = 2
	b, _ := json.Marshal(canonicalEntryV2{canonicalEntry: c, Key: e.Key, NextKey: e.NextKey})
	return b
}

// ParseCanonical reads bytes written by Canonical back into an entry
// (without its Hash and StreamID). It refuses anything Canonical would not
// have written, so a bundle cannot smuggle a different reading past its
// digest.
func ParseCanonical(b []byte) (ChainEntry, error) {
	var c canonicalEntryV2
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return ChainEntry{}, fmt.Errorf("alert: audit entry: %w", err)
	}
	e := ChainEntry{Seq: c.Seq, ID: c.ID, At: time.UnixMilli(c.At), Actor: c.Actor, Action: c.Action,
		CaseID: c.Case, AlertID: c.Alert, Outcome: c.Outcome, ReasonDigest: c.Reason, Key: c.Key, NextKey: c.NextKey}
	if (c.V != 1 && c.V != 2) || (c.V == 2) != (c.Key != "") || !bytes.Equal(e.Canonical(), b) {
		return ChainEntry{}, errors.New("alert: audit entry: not in canonical form")
	}
	return e, nil
}

// ReasonDigest is SHA-256 of the entry id, a zero byte and the reason, in
// hex; "" when there is no reason. The random entry id salts it, so the
// digest in the chain does not let anyone confirm a guessed reason, while
// whoever is shown the reason (in an export bundle) can check it.
func ReasonDigest(entryID, reason string) string {
	if reason == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(entryID))
	h.Write([]byte{0})
	h.Write([]byte(reason))
	return hex.EncodeToString(h.Sum(nil))
}

// ChainHash computes h_i from h_{i-1} (hex; "" for the first entry) and
// entry i.
func ChainHash(key []byte, prev string, e ChainEntry) string {
	p, _ := hex.DecodeString(prev)
	m := hmac.New(sha256.New, key)
	m.Write(p)
	m.Write(e.Canonical())
	return hex.EncodeToString(m.Sum(nil))
}

// EntryDigest is SHA-256 of an entry's canonical bytes, in hex: what an
// export bundle lists for entries it does not disclose.
func EntryDigest(canonical []byte) string {
	s := sha256.Sum256(canonical)
	return hex.EncodeToString(s[:])
}

// Checkpoint stands for the trimmed start of the chain: Seq and Hash are
// those of the last trimmed entry, At when it was trimmed. MAC is
// HMAC-SHA256(k_audit, "waymark audit checkpoint v2" ‖ key id ‖ seq ‖ hash
// ‖ at); a checkpoint without a key id (v1) leaves the key id out. A key
// rotation MACs the checkpoint again under the new key.
type Checkpoint struct {
	Seq  int64
	Hash string
	At   time.Time
	// Key is the id of the key the MAC is under; "" for a v1 checkpoint.
	Key string
	MAC string
}

func (c Checkpoint) mac(key []byte) string {
	m := hmac.New(sha256.New, key)
	if c.Key == "" {
		fmt.Fprintf(m, "waymark audit checkpoint v1\x00%d\x00%s\x00%d", c.Seq, c.Hash, c.At.UnixMilli())
	} else {
		fmt.Fprintf(m, "waymark audit checkpoint v2\x00%s\x00%d\x00%s\x00%d", c.Key, c.Seq, c.Hash, c.At.UnixMilli())
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Signed returns c with its key id and MAC set under key.
func (c Checkpoint) Signed(key []byte) Checkpoint {
	c.Key = AuditKeyID(key)
	c.MAC = c.mac(key)
	return c
}

// Valid reports whether c's MAC is right under key.
func (c Checkpoint) Valid(key []byte) bool {
	return hmac.Equal([]byte(c.MAC), []byte(c.mac(key)))
}

// Break names the first entry where a chain stops verifying, and why.
type Break struct {
	Seq      int64
	StreamID string
	Action   string
	At       time.Time
	Problem  string
}

// Error describes the break by position and id only.
func (b *Break) Error() string {
	if b.StreamID == "" {
		return fmt.Sprintf("audit chain broken at the checkpoint: %s", b.Problem)
	}
	return fmt.Sprintf("audit chain broken at entry seq %d (stream id %s, %s, %s): %s",
		b.Seq, b.StreamID, b.Action, b.At.UTC().Format(time.RFC3339), b.Problem)
}

// ChainVerifier checks a chain entry by entry, in order, so a long chain
// can be read page by page.
type ChainVerifier struct {
	ring AuditKeyring
	prev string
	next int64
	n    int64
	// epoch is the id of the key the next entry must be MAC'd under (""
	// until the first entry tells); keyed says a v2 entry was seen, after
	// which a v1 entry is a break.
	epoch string
	keyed bool
	// cpKey is the checkpoint's key: a rotation away from it is a break,
	// since a rotation MACs the checkpoint again under the new key.
	cpKey string
	keys  []string
}

// NewChainVerifier starts at the checkpoint (nil: the chain must start at
// seq 1) with the current key and any retired ones. A checkpoint whose MAC
// is wrong is itself a break.
func NewChainVerifier(key []byte, cp *Checkpoint, retired ...[]byte) (*ChainVerifier, *Break) {
	v := &ChainVerifier{ring: NewAuditKeyring(key, retired...), next: 1}
	if cp != nil {
		cpBreak := func(p string) *Break { return &Break{Seq: cp.Seq, Problem: p} }
		if cp.Key != "" {
			k, ok := v.ring.Key(cp.Key)
			if !ok {
				return nil, cpBreak(fmt.Sprintf("checkpoint is MAC'd under key id %s, which is not configured (WAYMARK_AUDIT_KEY or WAYMARK_AUDIT_KEYS_RETIRED)", cp.Key))
			}
			if !cp.Valid(k) {
				return nil, cpBreak("checkpoint MAC does not match")
			}
			v.cpKey = cp.Key
		} else {
			for _, id := range v.ring.IDs() {
				if k, _ := v.ring.Key(id); cp.Valid(k) {
					v.cpKey = id
					break
				}
			}
			if v.cpKey == "" {
				return nil, cpBreak("checkpoint MAC does not match")
			}
		}
		v.prev, v.next = cp.Hash, cp.Seq+1
	}
	return v, nil
}

// Next checks one entry; the reason, if reason is non-nil, is checked
// against the entry's digest too.
func (v *ChainVerifier) Next(e ChainEntry, reason *string) *Break {
	brk := func(p string) *Break {
		return &Break{Seq: e.Seq, StreamID: e.StreamID, Action: e.Action, At: e.At, Problem: p}
	}
	if e.Seq != v.next {
		return brk(fmt.Sprintf("sequence number %d where %d was due (an entry is missing or out of order)", e.Seq, v.next))
	}
	if reason != nil && ReasonDigest(e.ID, *reason) != e.ReasonDigest {
		return brk("reason does not match its digest")
	}
	if (e.Action == ActionKeyRotated) != (e.NextKey != "") {
		return brk("a key rotation entry without a new key id, or a new key id on another entry")
	}
	kid, p := v.keyOf(e)
	if p != "" {
		return brk(p)
	}
	k, _ := v.ring.Key(kid)
	if !hmac.Equal([]byte(ChainHash(k, v.prev, e)), []byte(e.Hash)) {
		return brk("hash does not match (the entry or one before it was changed)")
	}
	if e.NextKey != "" {
		if e.NextKey == kid {
			return brk("key rotation names the key it rotates from")
		}
		if v.cpKey == kid {
			return &Break{Seq: e.Seq, Problem: "checkpoint is MAC'd under key id " + kid + ", which the chain retires after it"}
		}
		kid = e.NextKey
	}
	if len(v.keys) == 0 || v.keys[len(v.keys)-1] != kid {
		v.keys = append(v.keys, kid)
	}
	v.epoch = kid
	v.prev, v.next = e.Hash, e.Seq+1
	v.n++
	return nil
}

// keyOf finds the id of the key e must verify under, or a problem.
func (v *ChainVerifier) keyOf(e ChainEntry) (string, string) {
	if e.Key != "" {
		v.keyed = true
		if v.epoch != "" && e.Key != v.epoch {
			return "", fmt.Sprintf("MAC'd under key id %s where the chain's key is %s (a key change without a key rotation entry)", e.Key, v.epoch)
		}
		if _, ok := v.ring.Key(e.Key); !ok {
			return "", fmt.Sprintf("MAC'd under key id %s, which is not configured (add it to WAYMARK_AUDIT_KEYS_RETIRED)", e.Key)
		}
		return e.Key, ""
	}
	if v.keyed {
		return "", "an entry without a key id after entries with one"
	}
	if v.epoch != "" {
		return v.epoch, ""
	}
	// The first v1 entry: whichever configured key it verifies under is
	// the key of every v1 entry.
	for _, id := range v.ring.IDs() {
		if k, _ := v.ring.Key(id); hmac.Equal([]byte(ChainHash(k, v.prev, e)), []byte(e.Hash)) {
			return id, ""
		}
	}
	return "", "hash does not match under any configured key (the entry or one before it was changed, or its key is not configured)"
}

// Head is the hash of the last verified entry and how many were verified.
func (v *ChainVerifier) Head() (hash string, n int64) { return v.prev, v.n }

// Keys lists the ids of the keys the verified entries are under, in chain
// order: one per rotation plus one. The last is the key the next entry
// must be MAC'd under.
func (v *ChainVerifier) Keys() []string { return slices.Clone(v.keys) }

// --- attestation for third parties -----------------------------------------

// SigningKey derives the deployment's Ed25519 audit signing key from
// k_audit. Its public half (PublicKeyString) is published by the service;
// with it, anyone can check an export bundle without any secret. The
// public key changes when k_audit is rotated: a bundle made before the
// rotation verifies with the public key published then, so publish each
// one and keep the old ones listed.
func SigningKey(auditKey []byte) ed25519.PrivateKey {
	m := hmac.New(sha256.New, auditKey)
	m.Write([]byte("waymark audit signing key v1"))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// PublicKeyString is the public key as printed and published:
// "ed25519:" + base64 (standard, padded).
func PublicKeyString(k ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(k)
}

// ParsePublicKey reads PublicKeyString's form.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	const prefix = "ed25519:"
	if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
		return nil, errors.New(`alert: public key lacks the "ed25519:" prefix`)
	}
	b, err := base64.StdEncoding.DecodeString(s[len(prefix):])
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("alert: public key is not 32 bytes of base64")
	}
	return ed25519.PublicKey(b), nil
}

// SegmentEntry is one chain entry in an export bundle's segment: its
// position, the digest of its canonical bytes and its chain hash. Entries
// of other cases appear only like this.
type SegmentEntry struct {
	Seq    int64  `json:"seq"`
	Digest string `json:"digest"`
	Hash   string `json:"hash"`
}

// Segment is a contiguous run of the chain, first to last entry that
// concerns what is exported, with the hash before it.
type Segment struct {
	PrevHash string         `json:"prev_hash"`
	Entries  []SegmentEntry `json:"entries"`
}

// DisclosedEntry is an entry shown in full: its canonical bytes as a JSON
// string (so no re-indenting can change them) and its reason in the clear.
type DisclosedEntry struct {
	Canonical string `json:"canonical"`
	Reason    string `json:"reason,omitempty"`
	// Redact marks third-party information to review before disclosure.
	Redact []string `json:"redact,omitempty"`
}

// Manifest is what the Ed25519 signature covers, as canonical JSON.
type Manifest struct {
	Format      string    `json:"format"` // "waymark-audit-bundle-v1"
	Subject     string    `json:"subject"`
	GeneratedAt time.Time `json:"generated_at"`
	// ContentDigest is SHA-256 (hex) of the bundle's canonical content
	// (case facts and alerts), so they are covered by the signature too.
	ContentDigest string  `json:"content_digest"`
	Segment       Segment `json:"segment"`
}

// Attestation is a manifest, its signature and the key that made it.
type Attestation struct {
	Manifest  Manifest `json:"manifest"`
	PublicKey string   `json:"public_key"`
	Signature string   `json:"signature"` // base64 Ed25519 over manifestBytes
}

func manifestBytes(m Manifest) []byte {
	m.GeneratedAt = m.GeneratedAt.UTC()
	b, _ := json.Marshal(m)
	return b
}

// Attest signs a manifest.
func Attest(key ed25519.PrivateKey, m Manifest) Attestation {
	sig := ed25519.Sign(key, manifestBytes(m))
	return Attestation{Manifest: m, PublicKey: PublicKeyString(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(sig)}
}

// AuditBundle is the verifiable part of an export: the attestation, the
// disclosed entries and the signed content.
type AuditBundle struct {
	Attestation Attestation      `json:"attestation"`
	Disclosed   []DisclosedEntry `json:"disclosed"`
	// Content is the exported facts as one JSON string, exactly as digested.
	Content string `json:"content"`
}

// ErrBundle is any reason a bundle does not verify.
var ErrBundle = errors.New("alert: bundle does not verify")

// VerifyBundle checks an export bundle with the published public key and
// nothing else: the signature over the manifest, the content digest, that
// the segment's sequence numbers run without a gap, and that every
// disclosed entry (and its reason) matches its digest in the segment.
func VerifyBundle(data []byte, pub ed25519.PublicKey) (*AuditBundle, error) {
	var b AuditBundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundle, err)
	}
	a := b.Attestation
	if a.Manifest.Format != "waymark-audit-bundle-v1" {
		return nil, fmt.Errorf("%w: unknown format", ErrBundle)
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil || !ed25519.Verify(pub, manifestBytes(a.Manifest), sig) {
		return nil, fmt.Errorf("%w: signature does not match the public key", ErrBundle)
	}
	if EntryDigest([]byte(b.Content)) != a.Manifest.ContentDigest {
		return nil, fmt.Errorf("%w: content does not match its digest", ErrBundle)
	}
	bySeq := map[int64]SegmentEntry{}
	for i, e := range a.Manifest.Segment.Entries {
		if i > 0 && e.Seq != a.Manifest.Segment.Entries[i-1].Seq+1 {
			return nil, fmt.Errorf("%w: segment has a gap before seq %d", ErrBundle, e.Seq)
		}
		bySeq[e.Seq] = e
	}
	for _, d := range b.Disclosed {
		e, err := ParseCanonical([]byte(d.Canonical))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBundle, err)
		}
		s, ok := bySeq[e.Seq]
		if !ok || s.Digest != EntryDigest([]byte(d.Canonical)) {
			return nil, fmt.Errorf("%w: disclosed entry seq %d does not match the segment", ErrBundle, e.Seq)
		}
		if d.Reason != "" && ReasonDigest(e.ID, d.Reason) != e.ReasonDigest {
			return nil, fmt.Errorf("%w: reason of seq %d does not match its digest", ErrBundle, e.Seq)
		}
	}
	return &b, nil
}

// Audit actors that are not staff.
const (
	ActorApp    = "app"    // the survivor's app
	ActorSystem = "system" // the intake and timers
)
