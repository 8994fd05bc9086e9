package disguise

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// words is the one list of words the app listener must never serve, in
// any letter case. Keep it here and nowhere else: the handler's tests,
// the server's tests and the manifest's name check all read it through
// Words and Clean.
var words = []string{
	// Named by the issue.
	"waymark", "abuse", "domestic", "alert", "panic", "duress", "help",
	"refuge", "police", "survivor", "safe", "emergency", "sos", "victim",
	"idva",
	// What else would tell an abuser what the calculator is.
	"999", "violence", "violent", "rescue", "escape", "danger", "threat",
	"hotline", "shelter", "stalk", "crisis", "coerci", "assault", "harass",
	"distress", "mayday", "samaritan", "trafficking", "hideout",
}

// shortWord is the length up to which a word only counts at the start of
// a word of the text (see Clean).
const shortWord = 4

// Words returns a copy of the list of words the app listener must never
// serve. How a word is matched is Clean's business: use Clean to check
// text, not strings.Contains with these.
func Words() []string {
	return append([]string(nil), words...)
}

// Clean reports whether b holds none of Words, ignoring letter case. If
// it holds one, Clean returns the first found and false.
//
// The matching rule: words longer than four characters ("alert",
// "domestic", "emergency") count anywhere, inside other words too
// ("alerts", "nonviolent"). Words of four characters or fewer ("sos",
// "999", "help", "safe", "idva") count only where a word of the text
// starts, so "helper", "helpline", "safety" and "SOS" are caught while
// "cosos", "episode", "unsafe" or the digits of "19998" are not. A word
// of the text starts after anything that is not a letter or digit, at a
// change from a lower-case to an upper-case letter ("sendSos"), and at a
// change between letters and digits ("x999").
func Clean(b []byte) (word string, ok bool) {
	low := asciiLower(b)
	for _, w := range words {
		if len(w) > shortWord {
			if strings.Contains(low, w) {
				return w, false
			}
			continue
		}
		for i := 0; ; {
			j := strings.Index(low[i:], w)
			if j < 0 {
				break
			}
			at := i + j
			if wordStart(b, at) {
				return w, false
			}
			i = at + 1
		}
	}
	return "", true
}

// asciiLower lowers ASCII letters only, so that byte offsets in the
// result are offsets in b (the words on the list are ASCII).
func asciiLower(b []byte) string {
	l := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	return string(l)
}

// wordStart reports whether a word of b starts at byte at.
func wordStart(b []byte, at int) bool {
	if at == 0 || at > len(b) {
		return true
	}
	prev, _ := utf8.DecodeLastRune(b[:at])
	cur, _ := utf8.DecodeRune(b[at:])
	switch {
	case !isAlnum(prev):
		return true
	case unicode.IsLower(prev) && unicode.IsUpper(cur):
		return true
	case unicode.IsDigit(prev) != unicode.IsDigit(cur):
		return true
	}
	return false
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
