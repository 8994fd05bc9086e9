package codeword

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "Rose Garden", "🌹 rose garden SO14 7DZ 🙏", "STRASSE straße STRAẞE",
		"İstanbul ızmır", "ΟΔΟΣ οδος", "ＲＯＳＥ", "گلاب ۱۲۳۴", "Różowy parasol",
		"红色雨伞。", "नमस्ते!", "don’t", "a\xffb", "\u0345\u0301", "ΐ", "ǅ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q, not valid UTF-8", s, n)
		}
		if n2 := Normalize(n); n2 != n {
			t.Fatalf("Normalize not idempotent: %q → %q → %q", s, n, n2)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q has stray spaces", s, n)
		}
		if a, b := Fields(s), Fields(n); !cmp.Equal(a, b) {
			t.Fatalf("Fields(%q) = %q but Fields(Normalize) = %q", s, a, b)
		}
	})
}

func FuzzMatch(f *testing.F) {
	f.Add("rose garden", "blue umbrella", "OK", "OK 1234 rose garden SO14 7DZ")
	f.Add("گلاب", "نیلا آسمان", "ٹھیک", "ٹھیک ۱۲۳۴")
	f.Add("Różowy parasol", "Straße", "", "rozowy parasol 🌂")
	f.Add("红色雨伞", "kettle", "ok", "我在家红色雨伞")
	f.Add("kettle", "lavender", "all good", "all good4321 ketle lavendr")
	f.Fuzz(func(t *testing.T, code, duress, checkin, msg string) {
		// Rules and compiling never panic, whatever the words.
		_ = CheckWords([]string{code}, []string{duress}, checkin)
		_, _ = Compile(Words{Code: []string{code}, Duress: []string{duress}, CheckIn: checkin})

		// The exact code word always raises a confirmed panic.
		m, err := Compile(Words{Code: []string{code}})
		if err != nil {
			if Fields(code) != nil {
				t.Fatalf("Compile(%q) = %v, but it has words %q", code, err, Fields(code))
			}
			return
		}
		if got := m.Match(code); got.Kind != Panic || got.Unconfirmed || got.Hint != "" {
			t.Fatalf("Match(%q) with that code word = %+v, want a confirmed Panic with no hint", code, got)
		}
		if got := m.Match(msg + " " + code); got.Kind != Panic || got.Unconfirmed {
			t.Fatalf("Match(%q) = %+v, want a confirmed Panic", msg+" "+code, got)
		}

		// Any message gives a well-formed answer.
		m, err = Compile(Words{Code: []string{code}, Duress: []string{duress}, CheckIn: checkin})
		if err != nil {
			return
		}
		got := m.Match(msg)
		if got.Kind < Message || got.Kind > Duress {
			t.Fatalf("Match(%q).Kind = %v", msg, got.Kind)
		}
		if !utf8.ValidString(got.Hint) || len(got.Hint) > 2*len(msg)+8 {
			t.Fatalf("Match(%q).Hint = %q", msg, got.Hint)
		}
		if got.PIN != "" && !validPIN([]byte(got.PIN)) {
			t.Fatalf("Match(%q).PIN = %q", msg, got.PIN)
		}
		if got.OptOut && !got.CarrierKeyword {
			t.Fatalf("Match(%q) opt-out without carrier keyword", msg)
		}
		if got.Kind == Message && (got.Unconfirmed || got.Hint != "") {
			t.Fatalf("Match(%q) = %+v: a message carries no hint", msg, got)
		}
	})
}
