// Package words is the one list of words that give Waymark's disguised
// app away, and the one way to look for them. The app listener serves
// none of them (disguise.Clean checks every byte), and config warns when
// WAYMARK_APP_URL's host holds one. It is a leaf: config, a domain
// package, reads it too.
package words

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// words is the one list of words the app listener must never serve, in
// any letter case, and a host name of the app must not hold. Keep it here
// and nowhere else.
var words = []string{
	// Named by the issue.
	"waymark", "abuse", "domestic", "alert", "panic", "duress", "help",
	"refuge", "police", "survivor", "safe", "emergency", "sos", "victim",
	"idva",
	// What else would tell an abuser what the calculator is.
	"999", "violence", "violent", "rescue", "escape", "danger", "threat",
	"hotline", "shelter", "stalk", "crisis", "coerci", "assault", "harass",
	"distress", "mayday", "samaritan", "trafficking", "hideout",
	// Seen in host names in the field ("WomensAid").
	"women",
}

// hostOnly are words looked for in host names only (InHost), each as a
// whole word: "dv" is "domestic violence" in a name like north-dv, but
// two letters are too few to look for in every byte the app serves (its
// icons' compressed pixels hold "dv" between two non-letters by chance).
var hostOnly = []string{"dv"}

// shortWord is the length up to which a word only counts at the start of
// a word of the text (see Clean).
const shortWord = 4

// Clean reports whether b holds none of the words, ignoring letter case. If
// it holds one, Clean returns the first found and false.
//
// The matching rule: words longer than four characters ("alert",
// "domestic", "emergency") count anywhere, inside other words too
// ("alerts", "nonviolent"). Words of four characters or fewer ("sos",
// "999", "help", "safe", "idva") count only where a word of the text
// starts, so "helper", "helpline", "safety" and "SOS" are caught while
// "cosos", "episode", "unsafe" or the digits of "19998" are not. A word
// of the text starts (and ends) at anything that is not a letter or digit, at a change from
// a lower-case to an upper-case letter ("sendSos"), and at a change
// between letters and digits ("x999").
func Clean(b []byte) (word string, ok bool) {
	if found := find(b, true); len(found) > 0 {
		return found[0], false
	}
	return "", true
}

// All returns every word of the list that b holds, in the list's order.
func All(b []byte) []string { return find(b, false) }

// InHost returns the words a host name holds that say what a disguised
// app is for: those of the list, by Clean's rule, and a few more that
// count in a name only as a whole word ("dv" in north-dv.example, not in
// dvd.example).
func InHost(host string) []string {
	b := []byte(host)
	found := All(b)
	low := asciiLower(b)
	for _, w := range hostOnly {
		if matches(b, low, w, true) {
			found = append(found, w)
		}
	}
	return found
}

func find(b []byte, first bool) []string {
	low := asciiLower(b)
	var found []string
	for _, w := range words {
		if matches(b, low, w, false) {
			found = append(found, w)
			if first {
				break
			}
		}
	}
	return found
}

// matches reports whether w counts in b (low is b lowered) by Clean's
// rule, or only as a whole word.
func matches(b []byte, low, w string, whole bool) bool {
	if len(w) > shortWord && !whole {
		return strings.Contains(low, w)
	}
	for i := 0; ; {
		j := strings.Index(low[i:], w)
		if j < 0 {
			return false
		}
		at := i + j
		if wordStart(b, at) && (!whole || wordEnd(b, at+len(w))) {
			return true
		}
		i = at + 1
	}
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
	if at == 0 || at >= len(b) {
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

// wordEnd reports whether a word of b ends just before byte at.
func wordEnd(b []byte, at int) bool {
	if at >= len(b) {
		return true
	}
	cur, _ := utf8.DecodeRune(b[at:])
	return !isAlnum(cur) || wordStart(b, at)
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
