package postcode

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"SO14 7DU", "so147du", "GIR 0AA", "EC1A 1BB", "W1A 0AX", "BT1 5GS", "SO14", "SO14 7", "", "\u00a0", "ＳＯ14 7DU"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if len(s) >= 5 && strings.Contains(err.Error(), s) {
				t.Fatalf("error repeats the input: %v", err)
			}
		} else {
			// Canonical form round-trips and is a fixed point.
			q, err := Parse(p.String())
			if err != nil || q != p {
				t.Fatalf("Parse(%q) = %q but re-parsing gives %q, %v", s, p, q, err)
			}
			if p.Sector() != p.Outward()+" "+p.String()[len(p.Outward())+1:][:1] {
				t.Fatalf("sector %q of %q", p.Sector(), p)
			}
		}
		a, err := ParseArea(s)
		if err == nil {
			b, err := ParseArea(a.String())
			if err != nil || b != a {
				t.Fatalf("ParseArea(%q) = %q but re-parsing gives %q, %v", s, a, b, err)
			}
		}
	})
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{"help at so14 7du now", "SO147DU", "مدد SO14 7DU", "🆘so14 7du🆘", "ref ABSO14 7DU", "gir 0aa", "SO14\u00a07DU", "SO14 \t7DU"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := Find(s)
		if !ok {
			if p != (Postcode{}) {
				t.Fatalf("Find(%q) returned %q with ok=false", s, p)
			}
			return
		}
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Fatalf("Find(%q) = %q, which does not parse: %v", s, p, err)
		}
		// Anything Find reports appears in the text, ignoring case and separators.
		flat := strings.NewReplacer(" ", "", "\t", "", "\u00a0", "").Replace(strings.ToUpper(s))
		if !strings.Contains(flat, p.Outward()+p.String()[len(p.Outward())+1:]) {
			t.Fatalf("Find(%q) = %q, not in the text", s, p)
		}
	})
}
