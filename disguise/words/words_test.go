package words

import (
	"slices"
	"strings"
	"testing"
)

func TestAll(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"safe-help.example", []string{"help", "safe"}},
		{"sendSos", []string{"sos"}},
		{"cosos episode unsafe 19998", nil},
		{"x999", []string{"999"}},
		{"nonviolent", []string{"violent"}},
		{"WomensAid", []string{"women"}},
		{"bcdfghjkmnpqrstwxzBCDFGHJKMNPQRS2345678", nil},
	} {
		if got := All([]byte(tc.text)); !slices.Equal(got, tc.want) {
			t.Errorf("All(%q) = %q, want %q", tc.text, got, tc.want)
		}
		w, ok := Clean([]byte(tc.text))
		if ok != (len(tc.want) == 0) || (!ok && w != tc.want[0]) {
			t.Errorf("Clean(%q) = %q, %v", tc.text, w, ok)
		}
	}
}

func TestInHost(t *testing.T) {
	for host, want := range map[string][]string{
		"north-dv.example": {"dv"}, "dv.example": {"dv"}, "dvd.example": nil, "advice.example": nil,
		"safe-help.example": {"help", "safe"}, "WomensAid.example": {"women"},
	} {
		if got := InHost(host); !slices.Equal(got, want) {
			t.Errorf("InHost(%q) = %q, want %q", host, got, want)
		}
	}
}

// FuzzClean: Clean and All agree, and never panic on any bytes.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "help", "a-dv-b", "\xff\xfe", "Sos999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, ok := Clean(b)
		all := All(b)
		if ok != (len(all) == 0) || (!ok && w != all[0]) {
			t.Fatalf("Clean = %q %v, All = %q", w, ok, all)
		}
	})
}

// TestEveryWordIsCaught: every listed word is caught on its own, in any
// case, and the list holds the words the issue named.
func TestEveryWordIsCaught(t *testing.T) {
	for _, w := range words {
		for _, s := range []string{w, strings.ToUpper(w), " " + w + " "} {
			if _, ok := Clean([]byte(s)); ok {
				t.Errorf("Clean(%q) passes", s)
			}
		}
	}
	for _, w := range []string{"waymark", "abuse", "domestic", "alert", "panic", "duress", "help", "refuge", "police", "survivor", "safe", "emergency", "sos", "victim", "idva"} {
		found := false
		for _, x := range words {
			found = found || x == w
		}
		if !found {
			t.Errorf("Words() lacks %q", w)
		}
	}
}
