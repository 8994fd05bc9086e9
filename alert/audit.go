package alert

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
	// Hash is h_i, lower-case hex.
	Hash string
}

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

// Canonical is the exact byte string the chain hashes for e: compact JSON
// with a fixed field order, times in Unix milliseconds.
func (e ChainEntry) Canonical() []byte {
	b, _ := json.Marshal(canonicalEntry{V: 1, Seq: e.Seq, ID: e.ID, At: e.At.UnixMilli(), Actor: e.Actor,
		Action: e.Action, Case: e.CaseID, Alert: e.AlertID, Outcome: e.Outcome, Reason: e.ReasonDigest})
	return b
}

// ParseCanonical reads bytes written by Canonical back into an entry
// (without its Hash and StreamID). It refuses anything Canonical would not
// have written, so a bundle cannot smuggle a different reading past its
// digest.
func ParseCanonical(b []byte) (ChainEntry, error) {
	var c canonicalEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return ChainEntry{}, fmt.Errorf("alert: audit entry: %w", err)
	}
	e := ChainEntry{Seq: c.Seq, ID: c.ID, At: time.UnixMilli(c.At), Actor: c.Actor, Action: c.Action,
		CaseID: c.Case, AlertID: c.Alert, Outcome: c.Outcome, ReasonDigest: c.Reason}
	if c.V != 1 || !bytes.Equal(e.Canonical(), b) {
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
// HMAC-SHA256(k_audit, "waymark audit checkpoint v1" ‖ seq ‖ hash ‖ at).
type Checkpoint struct {
	Seq  int64
	Hash string
	At   time.Time
	MAC  string
}

func (c Checkpoint) mac(key []byte) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "waymark audit checkpoint v1\x00%d\x00%s\x00%d", c.Seq, c.Hash, c.At.UnixMilli())
	return hex.EncodeToString(m.Sum(nil))
}

// Signed returns c with its MAC set.
func (c Checkpoint) Signed(key []byte) Checkpoint {
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
	key  []byte
	prev string
	next int64
	n    int64
}

// NewChainVerifier starts at the checkpoint (nil: the chain must start at
// seq 1). A checkpoint whose MAC is wrong is itself a break.
func NewChainVerifier(key []byte, cp *Checkpoint) (*ChainVerifier, *Break) {
	v := &ChainVerifier{key: key, next: 1}
	if cp != nil {
		if !cp.Valid(key) {
			return nil, &Break{Seq: cp.Seq, Problem: "checkpoint MAC does not match"}
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
	want := ChainHash(v.key, v.prev, e)
	if !hmac.Equal([]byte(want), []byte(e.Hash)) {
		return brk("hash does not match (the entry or one before it was changed)")
	}
	v.prev, v.next = e.Hash, e.Seq+1
	v.n++
	return nil
}

// Head is the hash of the last verified entry and how many were verified.
func (v *ChainVerifier) Head() (hash string, n int64) { return v.prev, v.n }

// VerifyChain checks a whole chain; nil means it verifies.
func VerifyChain(key []byte, cp *Checkpoint, entries []ChainEntry) *Break {
	v, b := NewChainVerifier(key, cp)
	if b != nil {
		return b
	}
	for _, e := range entries {
		if b := v.Next(e, nil); b != nil {
			return b
		}
	}
	return nil
}

// --- attestation for third parties -----------------------------------------

// SigningKey derives the deployment's Ed25519 audit signing key from
// k_audit. Its public half (PublicKeyString) is published by the service;
// with it, anyone can check an export bundle without any secret.
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
		return nil, errors.New("alert: public key must start with ed25519:")
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
