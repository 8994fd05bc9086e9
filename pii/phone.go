package pii

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhone is returned by ParsePhone for anything that is not a valid
// phone number. Errors wrapping it never contain the input.
var ErrInvalidPhone = errors.New("pii: invalid phone number")

// DefaultRegion is the region assumed for numbers written without a country
// code when ParsePhone is given an empty region.
const DefaultRegion = "GB"

// maxPhoneInput bounds the work ParsePhone does on hostile input; no real
// number, however formatted, comes near it.
const maxPhoneInput = 64

// ukDramaPrefix is Ofcom's range of mobile numbers reserved for drama
// (07700 900000 to 07700 900999). libphonenumber does not count them as valid,
// but they are the numbers demos and tests must use, so they are accepted.
const ukDramaPrefix = "+447700900"

// Phone is a phone number normalised to E.164. Its zero value is "no number".
// It redacts itself when printed, logged or marshalled; Reveal returns the
// number.
type Phone struct {
	e164 *string
}

// ParsePhone normalises s to E.164. Numbers without a country code are read
// in defaultRegion (an ISO 3166 code such as "GB"; empty means DefaultRegion);
// a leading "+" or the region's international prefix ("00" in the UK) selects
// another country. Only digits, spaces and the separators + ( ) - . / are
// accepted: letters (vanity numbers, extensions) are refused, as are numbers
// libphonenumber does not consider valid, except the UK drama range.
// Errors wrap ErrInvalidPhone and never contain s.
func ParsePhone(s, defaultRegion string) (Phone, error) {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if region == "" {
		region = DefaultRegion
	}
	if phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return Phone{}, fmt.Errorf("%w: unknown default region", ErrInvalidPhone)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Phone{}, fmt.Errorf("%w: empty", ErrInvalidPhone)
	}
	if len(s) > maxPhoneInput {
		return Phone{}, fmt.Errorf("%w: too long", ErrInvalidPhone)
	}
	if !phoneChars(s) {
		return Phone{}, fmt.Errorf("%w: unexpected character", ErrInvalidPhone)
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		// The library's errors do not echo the input today, but they are
		// not ours to vouch for: drop them.
		return Phone{}, fmt.Errorf("%w: not a number", ErrInvalidPhone)
	}
	if n.GetExtension() != "" {
		return Phone{}, fmt.Errorf("%w: has an extension", ErrInvalidPhone)
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if !e164Shape(e164) {
		return Phone{}, fmt.Errorf("%w: not a number", ErrInvalidPhone)
	}
	if !phonenumbers.IsValidNumber(n) && !isUKDrama(e164) {
		return Phone{}, fmt.Errorf("%w: not an assigned number range", ErrInvalidPhone)
	}
	return Phone{e164: &e164}, nil
}

// ParseE164 reads a number that is already in E.164, as Twilio reports a
// text's sender and as Waymark stores numbers. A UK number in canonical
// form ("+44", no trunk "0", 9 or 10 more digits) is taken as it is: for
// it ParsePhone would return the same string, and its numbering-plan check
// costs tens of kilobytes of regular-expression work per call on the SMS
// webhook's path. The plan is not checked: a sender is whoever the network
// says sent the text, and a stored number was checked when it was
// enrolled. Anything else goes through ParsePhone with region GB, so the
// result never differs from ParsePhone's where that accepts s.
func ParseE164(s string) (Phone, error) {
	if ukCanonical(s) {
		e := s
		return Phone{e164: &e}, nil
	}
	return ParsePhone(s, DefaultRegion)
}

// ukCanonical reports whether s is "+44", a digit other than 0, and 8 or
// 9 more digits. The UK's only national prefix is "0" and it has no
// prefix-transform rule, so libphonenumber neither strips nor adds
// anything to such a number.
func ukCanonical(s string) bool {
	const cc = "+44"
	if len(s) != len(cc)+9 && len(s) != len(cc)+10 || !strings.HasPrefix(s, cc) || s[len(cc)] == '0' {
		return false
	}
	for i := len(cc); i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// phoneChars reports whether s holds only ASCII digits, spaces and the usual
// separators, with "+" only at the start.
func phoneChars(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' && i == 0:
		case c == ' ' || c == '\t' || c == '(' || c == ')' || c == '-' || c == '.' || c == '/':
		default:
			return false
		}
	}
	return digits > 0
}

// e164Shape reports whether s is "+" followed by 2 to 15 digits (E.164 allows
// at most 15).
func e164Shape(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUKDrama(e164 string) bool {
	return len(e164) == len(ukDramaPrefix)+3 && strings.HasPrefix(e164, ukDramaPrefix)
}

// Reveal returns the number in E.164 ("+447700900123"), or "" for the zero
// Phone. It is the only way to the number: call it only where the number is
// needed (sending, sealing, indexing).
func (p Phone) Reveal() string {
	if p.e164 == nil {
		return ""
	}
	return *p.e164
}

// IsZero reports whether p holds no number.
func (p Phone) IsZero() bool { return p.e164 == nil }

// Equal reports whether p and o hold the same number. It also lets go-cmp
// compare Phones.
func (p Phone) Equal(o Phone) bool { return p.Reveal() == o.Reveal() }

// String returns Redacted.
func (p Phone) String() string { return Redacted }

// GoString returns a redacted Go-syntax form, for %#v.
func (p Phone) GoString() string { return goString("Phone") }

// Format prints Redacted for every verb.
func (p Phone) Format(f fmt.State, verb rune) { formatRedacted(f, verb, "Phone") }

// LogValue returns Redacted, so slog never sees the number.
func (p Phone) LogValue() slog.Value { return redactedValue() }

// MarshalJSON returns the JSON string "[redacted]".
func (p Phone) MarshalJSON() ([]byte, error) { return redactedJSONCopy(), nil }

// MarshalText returns Redacted, for encoders (YAML, XML, slog's text
// handler) that prefer encoding.TextMarshaler.
func (p Phone) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
