package audit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testOldKey = bytes.Repeat([]byte{1}, 32)
	testNewKey = bytes.Repeat([]byte{2}, 32)
)

// rotatedChain is three entries under the old key, a key rotation MAC'd
// under it naming the new key, and two entries under the new key.
func rotatedChain() []ChainEntry {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	oldID, newID := AuditKeyID(testOldKey), AuditKeyID(testNewKey)
	var out []ChainEntry
	prev := ""
	for i := 1; i <= 6; i++ {
		e := ChainEntry{Seq: int64(i), ID: "e_abcdefghijklmnop", At: at.Add(time.Duration(i) * time.Minute),
			Actor: "s_x", Action: "case.reveal", Outcome: "ok", Key: oldID}
		key := testOldKey
		switch {
		case i == 4:
			e.Actor, e.Action, e.NextKey = ActorSystem, ActionKeyRotated, newID
		case i > 4:
			e.Key, key = newID, testNewKey
		}
		e.Hash = ChainHash(key, prev, e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestAuditKeyID(t *testing.T) {
	a, b := AuditKeyID(testOldKey), AuditKeyID(testNewKey)
	if len(a) != 16 || a == b || a != AuditKeyID(bytes.Clone(testOldKey)) || strings.Contains(string(testOldKey), a) {
		t.Errorf("key ids %q and %q", a, b)
	}
	r := NewAuditKeyring(testNewKey, testOldKey, nil, testNewKey)
	if got, want := r.IDs(), []string{b, a}; !cmp.Equal(got, want) || r.Current() != b {
		t.Errorf("ring ids = %v (current %s), want %v", got, r.Current(), want)
	}
}

func TestVerifyChainAcrossKeyRotation(t *testing.T) {
	newID := AuditKeyID(testNewKey)
	for _, tc := range []struct {
		name    string
		retired [][]byte
		change  func(es []ChainEntry) []ChainEntry
		wantSeq int64 // 0: verifies
		problem string
	}{
		{"untouched", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry { return es }, 0, ""},
		{"old key not configured", nil, func(es []ChainEntry) []ChainEntry { return es }, 1, "not configured"},
		{"rotation names another key", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry { es[3].NextKey = AuditKeyID(testAuditKey); return es }, 4, "hash does not match"},
		{"rotation turned into another action", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry { es[3].Action = "case.reveal"; return es }, 4, "new key id on another entry"},
		{"rotation removed", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry { return append(es[:3], es[4:]...) }, 5, "sequence number"},
		{"entry after the rotation changed", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry { es[4].Outcome = "refused"; return es }, 5, "hash does not match"},
		{"entry before the rotation changed", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry { es[1].Outcome = "refused"; return es }, 2, "hash does not match"},
		{"old key used after the rotation", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry {
			es[5].Key = AuditKeyID(testOldKey)
			es[5].Hash = ChainHash(testOldKey, es[4].Hash, es[5])
			return es
		}, 6, "where the chain's key is " + newID},
		{"key changed without a rotation", [][]byte{testOldKey}, func(es []ChainEntry) []ChainEntry {
			es[3] = ChainEntry{Seq: 4, ID: "e_x", At: es[3].At, Actor: "s_x", Action: "case.reveal", Key: newID}
			es[3].Hash = ChainHash(testNewKey, es[2].Hash, es[3])
			return es
		}, 4, "without a key rotation entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := VerifyChain(testNewKey, nil, tc.change(rotatedChain()), tc.retired...)
			switch {
			case tc.wantSeq == 0 && b != nil:
				t.Fatalf("break %v, want none", b)
			case tc.wantSeq != 0 && (b == nil || b.Seq != tc.wantSeq || !strings.Contains(b.Problem, tc.problem)):
				t.Fatalf("break %v, want seq %d with %q", b, tc.wantSeq, tc.problem)
			}
		})
	}
	v, _ := NewChainVerifier(testNewKey, nil, testOldKey)
	for _, e := range rotatedChain() {
		if b := v.Next(e, nil); b != nil {
			t.Fatal(b)
		}
	}
	if got, want := v.Keys(), []string{AuditKeyID(testOldKey), newID}; !cmp.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
}

// TestV1EntriesThenRotation: entries written before key ids verify under
// the key they were made with; the chain can then rotate away from it.
func TestV1EntriesThenRotation(t *testing.T) {
	es := testChain(3) // v1, under testAuditKey
	rot := ChainEntry{Seq: 4, ID: "e_r", At: es[2].At, Actor: ActorSystem, Action: ActionKeyRotated,
		Key: AuditKeyID(testAuditKey), NextKey: AuditKeyID(testNewKey)}
	rot.Hash = ChainHash(testAuditKey, es[2].Hash, rot)
	next := ChainEntry{Seq: 5, ID: "e_n", At: es[2].At, Actor: "s_x", Action: "case.reveal", Key: AuditKeyID(testNewKey)}
	next.Hash = ChainHash(testNewKey, rot.Hash, next)
	chain := append(es, rot, next)
	if b := VerifyChain(testNewKey, nil, chain, testAuditKey); b != nil {
		t.Fatalf("v1 then rotated: %v", b)
	}
	if b := VerifyChain(testAuditKey, nil, testChain(3)); b != nil {
		t.Fatalf("v1 chain alone: %v", b)
	}
	late := testChain(4)
	if b := VerifyChain(testNewKey, nil, append(chain, late[3]), testAuditKey); b == nil || b.Seq != 4 {
		t.Errorf("v1 entry after keyed ones: %v", b)
	}
}

func TestCheckpointKeys(t *testing.T) {
	es := rotatedChain()
	at := es[0].At
	for _, tc := range []struct {
		name   string
		cp     Checkpoint
		from   int
		broken string
	}{
		{"under the new key after the rotation", Checkpoint{Seq: 1, Hash: es[0].Hash, At: at}.Signed(testNewKey), 1, ""},
		{"v1 checkpoint under the old key, none rotated after it", Checkpoint{Seq: 4, Hash: es[3].Hash, At: at, MAC: Checkpoint{Seq: 4, Hash: es[3].Hash, At: at}.mac(testOldKey)}, 4, ""},
		{"under a key the chain retires after it", Checkpoint{Seq: 1, Hash: es[0].Hash, At: at}.Signed(testOldKey), 1, "retires"},
		{"under an unknown key", Checkpoint{Seq: 1, Hash: es[0].Hash, At: at}.Signed(testAuditKey), 1, "not configured"},
		{"MAC changed", func() Checkpoint {
			c := (Checkpoint{Seq: 1, Hash: es[0].Hash, At: at}).Signed(testNewKey)
			c.Seq = 2
			return c
		}(), 2, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := VerifyChain(testNewKey, &tc.cp, es[tc.from:], testOldKey)
			if (b == nil) != (tc.broken == "") || b != nil && !strings.Contains(b.Problem, tc.broken) {
				t.Errorf("break %v, want %q", b, tc.broken)
			}
		})
	}
}

func TestCanonicalV2RoundTrip(t *testing.T) {
	for _, e := range rotatedChain()[2:5] {
		got, err := ParseCanonical(e.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		e.Hash, e.StreamID = "", ""
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	if !strings.HasPrefix(string(testChain(1)[0].Canonical()), `{"v":1,`) || strings.Contains(string(testChain(1)[0].Canonical()), "key") {
		t.Error("an entry without a key id is no longer format v1")
	}
}
