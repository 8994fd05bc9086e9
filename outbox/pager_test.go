package outbox

import (
	"strings"
	"testing"

	"waymark/alert"
)

func TestPagesCarryNoSurvivorDetail(t *testing.T) {
	for _, fb := range []bool{false, true} {
		for _, mode := range []alert.Mode{alert.ModeReal, alert.ModeDrill} {
			txt := PageText("north", fb, mode)
			tw := VoiceWords("north", fb, mode)
			for _, s := range []string{txt, tw} {
				if len(s) == 0 || !containsAll(s, "Waymark", "north") {
					t.Errorf("page %q", s)
				}
				if got := strings.Count(s, "DRILL"); (mode == alert.ModeDrill) != (got > 0) {
					t.Errorf("mode %q: page %q mentions DRILL %d times", mode, s, got)
				}
			}
			if mode == alert.ModeDrill && !strings.HasPrefix(txt, "DRILL. ") {
				t.Errorf("a drill's text must start with DRILL: %q", txt)
			}
		}
	}
	if w := VoiceWords("north", false, alert.ModeReal); !strings.HasSuffix(w, "Press 1 to take this alert.") {
		t.Errorf("a responder's call does not say how to take it: %q", w)
	}
	if w := VoiceWords("north", true, alert.ModeReal); !strings.HasSuffix(w, "Press 1 to confirm you have it.") {
		t.Errorf("the fallback's call does not say how to confirm: %q", w)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
