package codeword

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"Rose Garden", "rose garden"},
		{"  ROSE \t\n  garden  ", "rose garden"},
		{"🌹🌹 rose garden!! 🙏🏽", "rose garden"},
		{"...rose, garden?", "rose, garden"},
		{"«Różowy parasol»", "różowy parasol"},
		{"STRASSE", "strasse"},
		{"straße", "strasse"},
		{"ΟΔΟΣ", "οδοσ"},
		{"οδος", "οδοσ"},
		{"İstanbul", "i̇stanbul"}, // full folding keeps the dot as U+0307
		{"ＲＯＳＥ　ＧＡＲＤＥＮ", "rose garden"},
		{"ﬁsh", "fish"},
		{"  گلاب  ", "گلاب"},
		{"\u200fگلاب\u200f", "گلاب"}, // right-to-left marks around
		{"КРАСНЫЙ ЗОНТ", "красный зонт"},
		{"红色雨伞。", "红色雨伞"},
		{"नमस्ते!", "नमस्ते"}, // the final vowel sign stays with its letter
		{"🙏❤️👍🏽", ""},
		{"!!!", ""},
		{"a\xffb", "a\ufffdb"},
		{"1️⃣", "1\ufe0f\u20e3"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"🌹", nil},
		{"Rose-garden, SO14 7DZ!", []string{"rose", "garden", "so14", "7dz"}},
		{"don’t DON'T dont", []string{"dont", "dont", "dont"}},
		{"'quoted' ‘words’", []string{"quoted", "words"}},
		{"İZMİR ızmır Izmir", []string{"izmir", "izmir", "izmir"}},
		{"STRAẞE", []string{"strasse"}},
		{"OK ١٢٣٤ ۱۲۳۴ １２３４", []string{"ok", "1234", "1234", "1234"}},
		{"我在家红色雨伞", []string{"我", "在", "家", "红", "色", "雨", "伞"}},
		{"zero\u200bwidth bidi\u200fmark", []string{"zerowidth", "bidimark"}},
		{"keycap 1️⃣", []string{"keycap", "1"}},
		{"a\xffb", []string{"a", "b"}},
		{"ﾛｰｽﾞ", []string{"ロ", "ー", "ズ"}}, // half-width katakana, NFKC
	}
	for _, tt := range tests {
		got := Fields(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Fields(%q) (-want +got):\n%s", tt.in, diff)
		}
		if n := Fields(Normalize(tt.in)); !cmp.Equal(n, got) {
			t.Errorf("Fields(Normalize(%q)) = %q, want %q", tt.in, n, got)
		}
	}
}

func TestNormalizeLong(t *testing.T) {
	in := strings.Repeat("Różowy PARASOL 🌂 ", 100) // well over 1,600 characters
	got := Normalize(in)
	want := strings.TrimSuffix(strings.Repeat("różowy parasol 🌂 ", 100), " 🌂 ")
	if got != want {
		t.Errorf("Normalize(long) = %q…, want %q…", got[:40], want[:40])
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"kettle", "kettle", true},
		{"kettle", "ketle", true},
		{"kettle", "ktetle", true},  // transposition is one edit
		{"kettle", "tkeelt", false}, // three
		{"rose garden", "rosegarden", true},
		{"rose garden", "rise gardn", true},
		{"rose garden", "rise grdn", false},
		{"abc", "", false},
		{"ab", "", true},
		{"różowy", "rozowy", true},
		{"różowy", "rozowi", false},
	}
	for _, tt := range tests {
		for _, ab := range [][2]string{{tt.a, tt.b}, {tt.b, tt.a}} {
			if got := within([]rune(ab[0]), []rune(ab[1]), 2, nil); got != tt.want {
				t.Errorf("within(%q, %q, 2) = %v, want %v", ab[0], ab[1], got, tt.want)
			}
		}
	}
}

// osa is the plain optimal string alignment distance, to check the banded
// one against.
func osa(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func FuzzWithin(f *testing.F) {
	f.Add("kettle", "ktetle", uint8(2))
	f.Add("rose garden", "rosegarden", uint8(1))
	f.Add("", "ab", uint8(0))
	f.Fuzz(func(t *testing.T, a, b string, k uint8) {
		ra, rb := []rune(a), []rune(b)
		if len(ra) > 64 || len(rb) > 64 {
			return
		}
		kk := int(k % 4)
		want := osa(ra, rb) <= kk
		if got := within(ra, rb, kk, nil); got != want {
			t.Errorf("within(%q, %q, %d) = %v, want %v (osa %d)", a, b, kk, got, want, osa(ra, rb))
		}
	})
}

// Normalize returns s in a normal form for whole texts, the tests' oracle
// for Fields (Fields(Normalize(s)) equals Fields(s)): NFKC, full Unicode case
// folding, internal whitespace collapsed to one space, and leading and
// trailing punctuation, symbols (emoji included), spaces and invisible
// characters stripped, in any script. Combining marks that follow the last
// letter stay with it. Invalid UTF-8 is replaced by U+FFFD first, so the
// result is always valid UTF-8. Normalize is idempotent.
func Normalize(s string) string {
	if isASCII(s) {
		// ASCII is NFKC already and folds by lowering A–Z.
		buf := []byte(s)
		for i, b := range buf {
			if 'A' <= b && b <= 'Z' {
				buf[i] = b + 'a' - 'A'
			}
		}
		return string(tidy(buf))
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	f := new(folder)
	f.init(s)
	buf := make([]byte, 0, len(s)+8)
	for {
		seg, _, _, ok := f.next()
		if !ok {
			break
		}
		buf = append(buf, seg...)
	}
	return string(tidy(buf))
}
