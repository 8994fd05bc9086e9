package alert

import (
	"strings"
	"testing"

	"waymark/casework"
)

func TestLevelOf(t *testing.T) {
	for _, tc := range []struct {
		a    Alert
		want casework.Risk
	}{
		{Alert{Class: ClassDuress, Risk: casework.RiskStandard}, casework.RiskHigh},
		{Alert{Class: ClassPanic, Risk: casework.RiskMedium}, casework.RiskMedium},
		{Alert{Class: ClassMessage}, casework.RiskStandard},
	} {
		if got := levelOf(&tc.a); got != tc.want {
			t.Errorf("levelOf(%v %q) = %s, want %s", tc.a.Class, tc.a.Risk, got, tc.want)
		}
	}
}

func TestPagesCarryNoSurvivorDetail(t *testing.T) {
	for _, fb := range []bool{false, true} {
		for _, mode := range []Mode{ModeReal, ModeDrill} {
			txt := PageText("north", fb, mode)
			tw := VoiceWords("north", fb, mode)
			for _, s := range []string{txt, tw} {
				if len(s) == 0 || !containsAll(s, "Waymark", "north") {
					t.Errorf("page %q", s)
				}
				if got := strings.Count(s, "DRILL"); (mode == ModeDrill) != (got > 0) {
					t.Errorf("mode %q: page %q mentions DRILL %d times", mode, s, got)
				}
			}
			if mode == ModeDrill && !strings.HasPrefix(txt, "DRILL. ") {
				t.Errorf("a drill's text must start with DRILL: %q", txt)
			}
		}
	}
	if w := VoiceWords("north", false, ModeReal); !strings.HasSuffix(w, "Press 1 to take this alert.") {
		t.Errorf("a responder's call does not say how to take it: %q", w)
	}
	if w := VoiceWords("north", true, ModeReal); !strings.HasSuffix(w, "Press 1 to confirm you have it.") {
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
