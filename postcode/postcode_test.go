package postcode

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in                              string
		want, outward, sector, district string
	}{
		{"SO14 7DU", "SO14 7DU", "SO14", "SO14 7", "SO14"},
		{"so147du", "SO14 7DU", "SO14", "SO14 7", "SO14"},
		{"  so14   7du ", "SO14 7DU", "SO14", "SO14 7", "SO14"},
		{"s o 1 4 7 d u", "SO14 7DU", "SO14", "SO14 7", "SO14"},
		{"M1 1AE", "M1 1AE", "M1", "M1 1", "M1"},           // A9
		{"B33 8TH", "B33 8TH", "B33", "B33 8", "B33"},      // A99
		{"CR2 6XH", "CR2 6XH", "CR2", "CR2 6", "CR2"},      // AA9
		{"DN55 1PT", "DN55 1PT", "DN55", "DN55 1", "DN55"}, // AA99
		{"W1A 0AX", "W1A 0AX", "W1A", "W1A 0", "W1A"},      // A9A
		{"EC1A 1BB", "EC1A 1BB", "EC1A", "EC1A 1", "EC1A"}, // AA9A
		{"gir0aa", "GIR 0AA", "GIR", "GIR 0", "GIR"},
		{"BT1 5GS", "BT1 5GS", "BT1", "BT1 5", "BT1"},
		{"SO14\u00a07DU", "SO14 7DU", "SO14", "SO14 7", "SO14"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		got := [4]string{p.String(), p.Outward(), p.Sector(), p.District()}
		want := [4]string{tt.want, tt.outward, tt.sector, tt.district}
		if got != want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	bad := []string{
		"", " ", "SO14", "SO14 7", "SO14 7D", "SO14 7DUX", "SO147DUU",
		"QO14 7DU", // Q never first
		"SI14 7DU", // I never second
		"SO14 7DC", // C never in the inward letters
		"SO14 7IU", // nor I
		"SO14 ADU", // inward must start with a digit
		"W1I 0AX",  // I never third in A9A
		"EC1C 1BB", // C never fourth in AA9A
		"SO14-7DU", // punctuation is not a postcode
		"ＳＯ14 7DU", // full-width letters
		"SO14 7DU; DROP",
		strings.Repeat("A", 1000),
		"SO14 7DÜ",
		"1234567",
	}
	for _, in := range bad {
		p, err := Parse(in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", in, p, err)
			continue
		}
		if in != "" && len(in) > 2 && strings.Contains(err.Error(), in) {
			t.Errorf("Parse(%q) error %q repeats the input", in, err)
		}
	}
}

func TestParseArea(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		kind     Kind
		district string
		sector   string
	}{
		{"SO14 7DU", "SO14 7DU", Full, "SO14", "SO14 7"},
		{"so147du", "SO14 7DU", Full, "SO14", "SO14 7"},
		{"SO14 7", "SO14 7", Sector, "SO14", "SO14 7"},
		{"so14  7", "SO14 7", Sector, "SO14", "SO14 7"},
		{"SO147", "SO14 7", Sector, "SO14", "SO14 7"},
		{"SO14", "SO14", District, "SO14", ""},
		{" so14 ", "SO14", District, "SO14", ""},
		{"SO17", "SO17", District, "SO17", ""},
		{"SO1 7", "SO1 7", Sector, "SO1", "SO1 7"},
		{"EC1A", "EC1A", District, "EC1A", ""},
		{"EC1A 1", "EC1A 1", Sector, "EC1A", "EC1A 1"},
		{"M1", "M1", District, "M1", ""},
		{"BT1", "BT1", District, "BT1", ""},
		{"GIR 0AA", "GIR 0AA", Full, "GIR", "GIR 0"},
	}
	for _, tt := range tests {
		a, err := ParseArea(tt.in)
		if err != nil {
			t.Errorf("ParseArea(%q): %v", tt.in, err)
			continue
		}
		if a.String() != tt.want || a.Kind != tt.kind || a.District() != tt.district || a.Sector() != tt.sector {
			t.Errorf("ParseArea(%q) = %q %v %q %q, want %q %v %q %q", tt.in,
				a.String(), a.Kind, a.District(), a.Sector(), tt.want, tt.kind, tt.district, tt.sector)
		}
		_, full := a.Postcode()
		if full != (tt.kind == Full) {
			t.Errorf("ParseArea(%q).Postcode() ok = %v", tt.in, full)
		}
	}
	for _, in := range []string{"", "S", "SO14 7D", "SO14 77", "SO14 A", "Q1", "SO1 47DU", "hello", "SO14 7DU X"} {
		if a, err := ParseArea(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseArea(%q) = %v, %v; want ErrInvalid", in, a, err)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{District: "district", Sector: "sector", Full: "full", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		text string
		want string // "" for none
	}{
		{"help at so14 7du now", "SO14 7DU"},
		{"SO147DU", "SO14 7DU"},
		{"I'm at SO14 7DU.", "SO14 7DU"},
		{"(so14 7du)", "SO14 7DU"},
		{"postcode:SO14\t7DU!!", "SO14 7DU"},
		{"🆘 so14 7du 🆘", "SO14 7DU"},
		{"مدد چاہیے SO14 7DU براہ کرم", "SO14 7DU"},
		{"مدد so147du", "SO14 7DU"},
		{"pizza then M1 1AE ok", "M1 1AE"},
		{"first EC1A 1BB then SO14 7DU", "EC1A 1BB"},
		{"ref ABSO14 7DU", ""},        // part of a longer token
		{"SO14 7DUX", ""},             // ditto
		{"tel 07700900123", ""},       // digits only
		{"meet at 10am in SO14", ""},  // a district alone is not a postcode
		{"so14 7du", "SO14 7DU"},      // whole text
		{"SO14   7DU", ""},            // three spaces is too far apart
		{"gir 0aa please", "GIR 0AA"}, // the Girobank oddity
		{"at S O 1 4 7 D U", ""},      // spaced-out letters are not found
		{"", ""},
		{"SO14 7D", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		p, ok := Find(tt.text)
		if got := p.String(); got != tt.want || ok != (tt.want != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
		}
	}
}
