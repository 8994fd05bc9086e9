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
