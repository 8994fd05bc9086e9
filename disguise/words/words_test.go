package words

import (
	"slices"
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
