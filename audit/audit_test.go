package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testAuditKey = bytes.Repeat([]byte{7}, 32)

func testChain(n int) []ChainEntry {
	var out []ChainEntry
	prev := ""
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		e := ChainEntry{Seq: int64(i), ID: "e_abcdefghijklmnop", StreamID: "s", At: at.Add(time.Duration(i) * time.Minute),
			Actor: "s_x", Action: "case.reveal", CaseID: "c_abcdefghijklmnopqrst", Outcome: "ok",
			ReasonDigest: ReasonDigest("e_abcdefghijklmnop", "why")}
		e.Hash = ChainHash(testAuditKey, prev, e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestVerifyChainNamesFirstChangedEntry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(es []ChainEntry) []ChainEntry
		wantSeq int64 // 0: verifies
	}{
		{"untouched", func(es []ChainEntry) []ChainEntry { return es }, 0},
		{"actor", func(es []ChainEntry) []ChainEntry { es[2].Actor = "s_y"; return es }, 3},
		{"time", func(es []ChainEntry) []ChainEntry { es[1].At = es[1].At.Add(time.Millisecond); return es }, 2},
		{"outcome", func(es []ChainEntry) []ChainEntry { es[4].Outcome = "refused"; return es }, 5},
		{"reason digest", func(es []ChainEntry) []ChainEntry { es[0].ReasonDigest = ""; return es }, 1},
		{"dropped", func(es []ChainEntry) []ChainEntry { return append(es[:3], es[4:]...) }, 5},
		{"swapped", func(es []ChainEntry) []ChainEntry { es[1], es[2] = es[2], es[1]; return es }, 3},
		{"hash rewritten", func(es []ChainEntry) []ChainEntry {
			es[3].CaseID = "c_other"
			es[3].Hash = ChainHash(bytes.Repeat([]byte{8}, 32), es[2].Hash, es[3]) // the wrong key
			return es
		}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := VerifyChain(testAuditKey, nil, tc.change(testChain(6)))
			switch {
			case tc.wantSeq == 0 && b != nil:
				t.Errorf("break %v, want none", b)
			case tc.wantSeq != 0 && (b == nil || b.Seq != tc.wantSeq):
				t.Errorf("break %v, want at seq %d", b, tc.wantSeq)
			}
		})
	}
}

func TestCheckpointStartsTheChain(t *testing.T) {
	es := testChain(6)
	cp := Checkpoint{Seq: 3, Hash: es[2].Hash, At: time.Now()}.Signed(testAuditKey)
	if b := VerifyChain(testAuditKey, &cp, es[3:]); b != nil {
		t.Errorf("from a checkpoint: %v", b)
	}
	forged := cp
	forged.Seq = 2
	if b := VerifyChain(testAuditKey, &forged, es[2:]); b == nil || !strings.Contains(b.Problem, "checkpoint") {
		t.Errorf("forged checkpoint: %v", b)
	}
	if b := VerifyChain(testAuditKey, &cp, es[4:]); b == nil || b.Seq != 5 {
		t.Errorf("entry missing after the checkpoint: %v", b)
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	e := testChain(1)[0]
	e.Outcome = "ok: \"quoted\" <tag> \u2028"
	got, err := ParseCanonical(e.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	e.Hash, e.StreamID = "", ""
	e.At = e.At.Local()
	if diff := cmp.Diff(e, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"v":1}`, `{"v":2,"seq":1,"id":"","at":0,"actor":"","action":"","case":"","alert":"","outcome":"","reason":""}`,
		` {"v":1,"seq":1,"id":"","at":0,"actor":"","action":"","case":"","alert":"","outcome":"","reason":""}`} {
		if _, err := ParseCanonical([]byte(bad)); err == nil {
			t.Errorf("ParseCanonical(%s) accepted", bad)
		}
	}
}

func TestBundleSignature(t *testing.T) {
	key := SigningKey(testAuditKey)
	es := testChain(3)
	content := []byte(`{"id":"c_x"}`)
	m := Manifest{Format: "waymark-audit-bundle-v1", Subject: "case c_x", GeneratedAt: time.Now(), ContentDigest: EntryDigest(content)}
	for _, e := range es {
		m.Segment.Entries = append(m.Segment.Entries, SegmentEntry{Seq: e.Seq, Digest: EntryDigest(e.Canonical()), Hash: e.Hash})
	}
	b := AuditBundle{Attestation: Attest(key, m), Content: string(content),
		Disclosed: []DisclosedEntry{{Canonical: string(es[1].Canonical()), Reason: "why"}}}
	data, _ := json.MarshalIndent(b, "", "  ")
	pub := key.Public().(ed25519.PublicKey)
	if _, err := VerifyBundle(data, pub); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := VerifyBundle(data, other); err == nil {
		t.Error("verified with another key")
	}
	if p, err := ParsePublicKey(PublicKeyString(pub)); err != nil || !p.Equal(pub) {
		t.Errorf("public key round trip: %v", err)
	}
}

// VerifyChain checks a whole chain; nil means it verifies. The product
// verifies entry by entry (ChainVerifier); the tests check whole chains.
func VerifyChain(key []byte, cp *Checkpoint, entries []ChainEntry, retired ...[]byte) *Break {
	v, b := NewChainVerifier(key, cp, retired...)
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
