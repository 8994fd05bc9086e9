package pii

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// sensitiveKeys are attribute keys (compared in lower case) whose values are
// blanked by ReplaceAttr whatever their type. "alias" is deliberately absent:
// responders see a case's alias. slog's own "msg" key is not listed; its text
// is scrubbed of phone-like digit runs instead.
var sensitiveKeys = map[string]bool{
	"phone": true, "phone_number": true, "mobile": true,
	"from": true, "to": true,
	"body": true, "message": true, "msg_body": true, "text": true,
	"notes": true, "note": true, "safety_notes": true,
	"lat": true, "lon": true, "lng": true, "latitude": true, "longitude": true,
	"location": true, "address": true, "postcode": true,
	"password": true, "pin": true, "duress_pin": true, "totp": true,
	"token": true, "ticket": true, "code": true,
	"code_word": true, "code_words": true, "duress_words": true,
	"name": true, "email": true, "secret": true,
	"authorization": true, "cookie": true, "set-cookie": true,
}

// minPhoneDigits is the fewest digits in a run that ReplaceAttr masks as a
// likely phone number: UK national numbers have 10 or 11, most numbers
// written with a country code more.
const minPhoneDigits = 9

// NewLogger returns a slog logger writing to w at level, in format "json" or
// "text", with ReplaceAttr installed as a backstop.
func NewLogger(w io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: ReplaceAttr}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("pii: unknown log format %q (want json or text)", format)
	}
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that blanks personal data
// a caller logged by mistake:
//
//   - an attribute whose key, or the name of any group enclosing it, is a
//     known sensitive key (phone, body, notes, lat, pin, token, name, …;
//     compared case-insensitively) gets the value Redacted;
//   - in every other string value, the message included, and in error
//     values, runs of nine or more digits that look like a phone number are
//     replaced with Redacted.
//
// It is a backstop, not the rule: personal data belongs in pii values, which
// redact themselves.
func ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	for _, g := range groups {
		if sensitiveKey(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	switch a.Value.Kind() {
	case slog.KindString:
		s := a.Value.String()
		if masked := maskPhones(s); masked != s {
			return slog.String(a.Key, masked)
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok && err != nil {
			s := err.Error()
			if masked := maskPhones(s); masked != s {
				return slog.String(a.Key, masked)
			}
		}
	}
	return a
}

func sensitiveKey(k string) bool {
	if sensitiveKeys[k] {
		return true
	}
	return sensitiveKeys[strings.ToLower(k)]
}

// maskPhones replaces phone-number-like runs in s with Redacted. A run starts
// at a "+", "(" or digit not preceded by a letter, digit or underscore (so
// identifiers are left alone), continues over digits separated by at most two
// of " -()", and must hold at least minPhoneDigits digits and not be followed
// by a letter, digit or underscore. Runs that begin like an ISO date
// (2006-01-02) are left alone so timestamps in error text stay readable.
func maskPhones(s string) string {
	if countDigits(s) < minPhoneDigits {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if (c == '+' || c == '(' || isDigit(c)) && (i == 0 || !isWord(s[i-1])) {
			end, digits := phoneRun(s, i)
			if digits >= minPhoneDigits && (end == len(s) || !isWord(s[end])) && !dateLike(s[i:end]) {
				b.WriteString(s[last:i])
				b.WriteString(Redacted)
				i, last = end, end
				continue
			}
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// phoneRun scans a candidate phone number starting at s[i] and returns where
// its last digit ends and how many digits it holds.
func phoneRun(s string, i int) (end, digits int) {
	j := i
	if s[j] == '+' {
		j++
	}
	end = i
	for j < len(s) {
		if isDigit(s[j]) {
			digits++
			j++
			end = j
			continue
		}
		k := j
		for k < len(s) && k-j < 2 && strings.IndexByte(" -()", s[k]) >= 0 {
			k++
		}
		if k == j || k >= len(s) || !isDigit(s[k]) {
			break
		}
		j = k
	}
	return end, digits
}

func dateLike(s string) bool {
	if len(s) < 10 {
		return false
	}
	for i := range 10 {
		switch i {
		case 4, 7:
			if s[i] != '-' {
				return false
			}
		default:
			if !isDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWord(c byte) bool {
	return isDigit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
