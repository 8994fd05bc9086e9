package pii

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in, region string
		want       string
	}{
		{"07700 900123", "GB", "+447700900123"},
		{"+447700900123", "GB", "+447700900123"},
		{"00447700900123", "GB", "+447700900123"},
		{"(07700) 900-123", "GB", "+447700900123"},
		{"07700 900123", "", "+447700900123"},
		{"07700 900123", "gb", "+447700900123"},
		{" 07700.900.123 ", "GB", "+447700900123"},
		{"+44 (0)7700 900123", "GB", "+447700900123"},
		{"07911 123456", "GB", "+447911123456"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"+1 650 253 0000", "GB", "+16502530000"},
		{"650 253 0000", "US", "+16502530000"},
		{"+353 85 123 4567", "GB", "+353851234567"},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.in, tt.region)
		if err != nil {
			t.Errorf("ParsePhone(%q, %q): %v", tt.in, tt.region, err)
			continue
		}
		if got := p.Reveal(); got != tt.want {
			t.Errorf("ParsePhone(%q, %q) = %q, want %q", tt.in, tt.region, got, tt.want)
		}
		if p.IsZero() {
			t.Errorf("ParsePhone(%q, %q).IsZero() = true", tt.in, tt.region)
		}
	}
}

func TestParsePhoneInvalid(t *testing.T) {
	tests := []struct{ name, in, region string }{
		{"empty", "", "GB"},
		{"spaces", "   ", "GB"},
		{"letters", "not a number", "GB"},
		{"vanity", "0800 FLOWERS", "GB"},
		{"extension", "07700 900123 ext 12", "GB"},
		{"hash extension", "07700 900123#12", "GB"},
		{"too short", "12", "GB"},
		{"one digit short", "07700 90012", "GB"},
		{"outside drama range and unassigned", "07700 901000", "GB"},
		{"unknown country code", "+999 1234 5678", "GB"},
		{"plus in the middle", "0770+0900123", "GB"},
		{"unknown region", "07700 900123", "XX"},
		{"non-ASCII digits", "٠٧٧٠٠٩٠٠١٢٣", "GB"},
		{"too long", strings.Repeat("0", 65), "GB"},
		{"separators only", "()--..", "GB"},
		{"plus only", "+", "GB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePhone(tt.in, tt.region)
			if err == nil {
				t.Fatalf("ParsePhone(%q, %q) = %q, want error", tt.in, tt.region, p.Reveal())
			}
			if !errors.Is(err, ErrInvalidPhone) {
				t.Errorf("error %v does not wrap ErrInvalidPhone", err)
			}
			if strings.ContainsAny(err.Error(), "0123456789") {
				t.Errorf("error %q contains digits", err)
			}
			if !p.IsZero() {
				t.Errorf("failed ParsePhone returned a non-zero Phone")
			}
		})
	}
}

func TestPhoneEqual(t *testing.T) {
	a, _ := ParsePhone("07700 900123", "GB")
	b, _ := ParsePhone("+447700900123", "GB")
	c, _ := ParsePhone("07700 900124", "GB")
	tests := []struct {
		name string
		x, y Phone
		want bool
	}{
		{"same number, other format", a, b, true},
		{"other number", a, c, false},
		{"zero and number", Phone{}, a, false},
		{"zero and zero", Phone{}, Phone{}, true},
	}
	for _, tt := range tests {
		if got := tt.x.Equal(tt.y); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := (Phone{}).Reveal(); got != "" {
		t.Errorf("zero Phone Reveal = %q, want empty", got)
	}
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{
		"07700 900123", "+447700900123", "00447700900123", "(07700) 900-123",
		"+1 650 253 0000", "0800 FLOWERS", "", "+", "00", "+44 (0)20 7946 0018",
		"07700900123 ext. 5", "0044 0044 7700", "+999999999999999999",
	} {
		f.Add(s, "GB")
	}
	f.Add("650 253 0000", "US")
	f.Add("07700 900123", "XX")
	f.Fuzz(func(t *testing.T, in, region string) {
		p, err := ParsePhone(in, region)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("error %v does not wrap ErrInvalidPhone", err)
			}
			// Stronger than "does not contain the input's digits": error
			// texts hold no digits at all.
			if strings.ContainsAny(err.Error(), "0123456789") {
				t.Fatalf("error %q contains digits", err)
			}
			if !p.IsZero() {
				t.Fatal("error with non-zero Phone")
			}
			return
		}
		got := p.Reveal()
		if !e164Shape(got) {
			t.Fatalf("ParsePhone(%q, %q) = %q, not E.164", in, region, got)
		}
		again, err := ParsePhone(got, region)
		if err != nil {
			t.Fatalf("ParsePhone(%q) (its own output) failed: %v", got, err)
		}
		if again.Reveal() != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again.Reveal())
		}
		// The region only matters without a "+": the E.164 form parses the
		// same under the default region too.
		if other, err := ParsePhone(got, ""); err != nil || other.Reveal() != got {
			t.Fatalf("E.164 %q depends on region: %q, %v", got, other.Reveal(), err)
		}
	})
}

func TestParseE164(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+447700900123", "+447700900123", true},
		{"+442079460018", "+442079460018", true},
		// The plan is not checked for a canonical UK number: a sender is
		// whoever the network says it is.
		{"+447000000000", "+447000000000", true},
		// Not canonical: ParsePhone decides, and normalises.
		{"+4407700900123", "+447700900123", true},
		{"+44 7700 900123", "+447700900123", true},
		{"07700 900123", "+447700900123", true},
		{"+16502530000", "+16502530000", true},
		{"+4477009001", "", false},
		{"+44770090012345", "", false},
		{"BANK", "", false},
		{"", "", false},
	}
	// Random canonical UK numbers: wherever ParsePhone accepts one, the
	// fast path returns exactly its answer.
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		b := []byte("+44")
		b = append(b, byte('1'+r.IntN(9)))
		for n := 8 + r.IntN(2); n > 0; n-- {
			b = append(b, byte('0'+r.IntN(10)))
		}
		in := string(b)
		full, err := ParsePhone(in, "GB")
		if fast, ferr := ParseE164(in); err == nil && (ferr != nil || fast.Reveal() != full.Reveal()) {
			t.Errorf("ParseE164(%q) = %q, %v; ParsePhone gives %q", in, fast.Reveal(), ferr, full.Reveal())
		}
	}
	for _, tc := range tests {
		p, err := ParseE164(tc.in)
		if (err == nil) != tc.ok || p.Reveal() != tc.want {
			t.Errorf("ParseE164(%q) = %q, %v; want %q, ok %v", tc.in, p.Reveal(), err, tc.want, tc.ok)
		}
	}
}

// FuzzParseE164 checks ParseE164 against ParsePhone: wherever ParsePhone
// accepts a number, ParseE164 gives the same E.164 string, so a sender's
// number always meets an enrolled one in the blind index.
func FuzzParseE164(f *testing.F) {
	for _, s := range []string{"+447700900123", "+4407700900123", "+441632960001", "+44163296000", "+16502530000", "+44", "BANK", "+447700 900123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast, ferr := ParseE164(in)
		full, err := ParsePhone(in, DefaultRegion)
		if err == nil {
			if ferr != nil || fast.Reveal() != full.Reveal() {
				t.Fatalf("ParseE164(%q) = %q, %v; ParsePhone gives %q", in, fast.Reveal(), ferr, full.Reveal())
			}
			return
		}
		if ferr != nil {
			if !errors.Is(ferr, ErrInvalidPhone) || strings.ContainsAny(ferr.Error(), "0123456789") {
				t.Fatalf("error %q", ferr)
			}
			return
		}
		// Accepted without the plan check: only a canonical UK number.
		if !ukCanonical(in) || fast.Reveal() != in {
			t.Fatalf("ParseE164(%q) = %q accepted what ParsePhone refuses", in, fast.Reveal())
		}
	})
}

func BenchmarkParseE164(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseE164("+447700900123"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePhoneE164(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePhone("+447700900123", "GB"); err != nil {
			b.Fatal(err)
		}
	}
}
