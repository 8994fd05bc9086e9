// Package postcode parses and normalises UK postcodes and resolves postcode
// districts and sectors to points offline, from centroid files embedded in
// the binary (Office for National Statistics data under the Open Government
// Licence; see data/NOTICE.md for the attribution to ship).
//
// Resolution is deliberately coarse: a district (a few km) or a sector
// (about 1 km). There is no data for individual full postcodes, so a full
// postcode resolves to its sector. That suits both users of the package:
// signposting needs no more, and a survivor's exact address should never be
// derived from what they typed.
//
// The package is a leaf: it imports only the standard library.
package postcode

import (
	"errors"
	"strings"
	"unicode"
)

// ErrInvalid reports text that is not shaped like a UK postcode, sector or
// district. It never carries the text itself: a postcode is a location.
var ErrInvalid = errors.New("postcode: not a valid UK postcode")

// Kind says how precise an Area is.
type Kind int

// The kinds of Area, from the coarsest.
const (
	District Kind = iota + 1 // an outward code, e.g. "SO14"
	Sector                   // an outward code and the inward digit, e.g. "SO14 7"
	Full                     // a whole postcode, e.g. "SO14 7DU"
)

// String returns "district", "sector" or "full".
func (k Kind) String() string {
	switch k {
	case District:
		return "district"
	case Sector:
		return "sector"
	case Full:
		return "full"
	}
	return "unknown"
}

// Postcode is a valid, normalised UK postcode. The zero value is not valid.
type Postcode struct {
	out string // outward code, e.g. "SO14"
	in  string // inward code, e.g. "7DU"
}

// String returns the canonical form, upper case with one space: "SO14 7DU".
func (p Postcode) String() string {
	if p.out == "" {
		return ""
	}
	return p.out + " " + p.in
}

// Outward returns the outward code, e.g. "SO14".
func (p Postcode) Outward() string { return p.out }

// District returns the postcode district, which is the outward code ("SO14");
// it is spelled out separately because callers think in districts.
func (p Postcode) District() string { return p.out }

// Sector returns the postcode sector, e.g. "SO14 7".
func (p Postcode) Sector() string {
	if p.out == "" {
		return ""
	}
	return p.out + " " + p.in[:1]
}

// Area returns the postcode as a full-precision Area.
func (p Postcode) Area() Area { return Area{Kind: Full, out: p.out, in: p.in} }

// Parse normalises s (upper case, spaces removed and then one re-inserted
// before the last three characters) and checks that it has the shape of a UK
// postcode, GIR 0AA included. The error never repeats the input.
func Parse(s string) (Postcode, error) {
	c, ok := compact(s)
	if !ok {
		return Postcode{}, ErrInvalid
	}
	return parseCompact(c)
}

func parseCompact(c string) (Postcode, error) {
	n := len(c)
	if n < 5 || n > 7 {
		return Postcode{}, ErrInvalid
	}
	out, in := c[:n-3], c[n-3:]
	if out == "GIR" && in == "0AA" {
		return Postcode{out: out, in: in}, nil
	}
	if !validOutward(out) || !validInward(in) {
		return Postcode{}, ErrInvalid
	}
	return Postcode{out: out, in: in}, nil
}

// Area is a full postcode, a sector or a district, normalised.
type Area struct {
	Kind Kind
	out  string
	in   string // whole inward code (Full), its digit (Sector), or "" (District)
}

// String returns the canonical form: "SO14 7DU", "SO14 7" or "SO14".
func (a Area) String() string {
	if a.in == "" {
		return a.out
	}
	return a.out + " " + a.in
}

// District returns the area's postcode district (its outward code).
func (a Area) District() string { return a.out }

// Sector returns the area's sector, or "" when the area is a district.
func (a Area) Sector() string {
	if a.in == "" {
		return ""
	}
	return a.out + " " + a.in[:1]
}

// Postcode returns the full postcode when the area is one.
func (a Area) Postcode() (Postcode, bool) {
	if a.Kind != Full {
		return Postcode{}, false
	}
	return Postcode{out: a.out, in: a.in}, true
}

// NorthernIreland reports whether the area is in Northern Ireland (BT), for
// which there is no centroid data.
func (a Area) NorthernIreland() bool { return isNI(a.out) }

// ParseArea accepts a full postcode ("SO14 7DU"), a sector ("SO14 7") or a
// district ("SO14"), in any case. A space decides between readings that are
// otherwise ambiguous: "SO1 7" is a sector of SO1, "SO17" is a district.
// Without a space, a full postcode is tried first, then a district, then a
// sector ("SO147" can only be "SO14 7").
func ParseArea(s string) (Area, error) {
	if len(s) > maxInput {
		return Area{}, ErrInvalid
	}
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
		c, ok := compact(fields[0])
		if !ok {
			return Area{}, ErrInvalid
		}
		if p, err := parseCompact(c); err == nil {
			return p.Area(), nil
		}
		if validOutward(c) {
			return Area{Kind: District, out: c}, nil
		}
		if n := len(c); n >= 3 && isDigit(c[n-1]) && validOutward(c[:n-1]) {
			return Area{Kind: Sector, out: c[:n-1], in: c[n-1:]}, nil
		}
	case 2:
		out, ok1 := compact(fields[0])
		in, ok2 := compact(fields[1])
		if !ok1 || !ok2 {
			return Area{}, ErrInvalid
		}
		switch len(in) {
		case 3:
			if p, err := parseCompact(out + in); err == nil && p.out == out {
				return p.Area(), nil
			}
		case 1:
			if isDigit(in[0]) && validOutward(out) {
				return Area{Kind: Sector, out: out, in: in}, nil
			}
		}
	default:
		if p, err := Parse(s); err == nil {
			return p.Area(), nil
		}
	}
	return Area{}, ErrInvalid
}

// maxInput bounds the work done on hostile input; no postcode needs more.
const maxInput = 32

// compact upper-cases s and removes white space. It reports false for
// anything other than ASCII letters and digits, or for overlong input.
func compact(s string) (string, bool) {
	if len(s) > maxInput {
		return "", false
	}
	b := make([]byte, 0, 8)
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 'a' && r <= 'z':
			b = append(b, byte(r-'a'+'A'))
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		default:
			return "", false
		}
	}
	return string(b), true
}

// validOutward checks the six outward shapes (A9, A99, AA9, AA99, A9A, AA9A)
// and the letters Royal Mail allows in each position.
func validOutward(s string) bool {
	n := len(s)
	if n < 2 || n > 4 || !isLetter(s[0]) || strings.IndexByte("QVX", s[0]) >= 0 {
		return false
	}
	if isDigit(s[1]) { // A9, A99, A9A
		switch n {
		case 2:
			return true
		case 3:
			return isDigit(s[2]) || strings.IndexByte("ABCDEFGHJKPSTUW", s[2]) >= 0
		}
		return false
	}
	// AA9, AA99, AA9A
	if strings.IndexByte("IJZ", s[1]) >= 0 || !isLetter(s[1]) || n < 3 || !isDigit(s[2]) {
		return false
	}
	switch n {
	case 3:
		return true
	case 4:
		return isDigit(s[3]) || strings.IndexByte("ABEHMNPRVWXY", s[3]) >= 0
	}
	return false
}

// validInward checks digit, letter, letter, without the letters C I K M O V
// that Royal Mail never uses there.
func validInward(s string) bool {
	return len(s) == 3 && isDigit(s[0]) && inwardLetter(s[1]) && inwardLetter(s[2])
}

func inwardLetter(c byte) bool { return isLetter(c) && strings.IndexByte("CIKMOV", c) < 0 }
func isLetter(c byte) bool     { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

func isNI(out string) bool {
	return len(out) >= 3 && out[0] == 'B' && out[1] == 'T' && isDigit(out[2])
}
