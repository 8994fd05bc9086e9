package randid

import (
	"strings"
	"testing"
)

func TestNewLettersOnly(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := New("a_", 20)
		if !strings.HasPrefix(id, "a_") || len(id) != 22 {
			t.Fatalf("New = %q", id)
		}
		if strings.ContainsAny(id[2:], "0123456789lo") {
			t.Fatalf("New = %q holds a digit or an ambiguous letter", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestToken(t *testing.T) {
	if got := len(Token(32)); got != 43 {
		t.Fatalf("len(Token(32)) = %d, want 43", got)
	}
	if a, b := Token(16), Token(16); a == b {
		t.Fatal("two tokens are equal")
	}
}

// TestNeutral: neutral ids, tokens and hashes hold no vowel, no y, no v
// and no 9, so they can spell none of the words the disguised app must
// never serve.
func TestNeutral(t *testing.T) {
	for range 500 {
		id, tok, h := NeutralID("r_", 16), NeutralToken(32), NeutralHash([]byte(Token(12)))
		if len(id) != 18 || len(tok) != 48 || len(h) != 16 {
			t.Fatalf("lengths %d %d %d", len(id), len(tok), len(h))
		}
		for _, s := range []string{id[2:], tok, h} {
			if strings.ContainsAny(strings.ToLower(s), "aeiouyv9l") || strings.ContainsAny(s, "01") {
				t.Fatalf("%q holds a vowel, y, v, 9, l, 0 or 1", s)
			}
		}
	}
	if a, b := NeutralToken(32), NeutralToken(32); a == b {
		t.Fatal("two tokens are equal")
	}
}
