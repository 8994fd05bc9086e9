package oruk

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"waymark/signpost"
)

// The national seed carries every row of the helplines file
// (testdata/national-helplines.csv is a copy of the shared data) with its
// number, sources and verification note, and marks unverified hours.
func TestSeedMatchesHelplines(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "national-helplines.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := Seed()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]signpost.Service{}
	for _, s := range seed {
		byID[s.ID] = s
	}
	for _, r := range rows[1:] {
		id, phone, text, hours, open247, cats, verified, sources := r[0], r[3], r[4], r[5], r[6] == "true", r[8], r[11], r[10]
		s, ok := byID[id]
		if !ok {
			t.Errorf("%s missing from the seed", id)
			continue
		}
		if s.Phones[0].Number != phone || (text != "" && s.TextNumbers()[0].Number != text) {
			t.Errorf("%s: phones %+v", id, s.Phones)
		}
		if s.Hours.Text != hours || s.Hours.Open247 != open247 {
			t.Errorf("%s: hours %+v", id, s.Hours)
		}
		if s.VerificationNote != verified || !cmp.Equal(s.Sources, strings.Fields(sources)) {
			t.Errorf("%s: verification %q %v", id, s.VerificationNote, s.Sources)
		}
		if strings.Contains(verified, "UNVERIFIED") && !s.Hours.Unverified {
			t.Errorf("%s: hours UNVERIFIED in the source but not marked", id)
		}
		if !s.Hours.Open247 && len(s.Hours.Schedules) == 0 && !s.Hours.Unverified {
			t.Errorf("%s: hours kept as text only but not marked unverified", id)
		}
		for _, c := range strings.Split(cats, ";") {
			if !s.Has(signpost.Category(c)) {
				t.Errorf("%s: lacks category %s", id, c)
			}
		}
		if !s.National() {
			t.Errorf("%s: not national", id)
		}
	}
	// Entries beyond the helplines file: each national, with a public
	// source, and marked to be verified again before anyone relies on it.
	added := []string{"ask-for-ani", "999-bsl", "emergency-sms", "clares-law",
		"national-stalking-helpline", "hourglass-helpline", "signhealth-domestic-abuse", "womens-aid-live-chat",
		"southall-black-sisters", "respect-phoneline-partners", "operation-encompass"}
	for _, id := range added {
		s, ok := byID[id]
		if !ok || !s.Reverify || !s.National() {
			t.Errorf("%s: missing, or not marked for re-verification", id)
		}
		if !slices.ContainsFunc(s.Sources, func(u string) bool { return strings.HasPrefix(u, "https://") }) {
			t.Errorf("%s: no public source", id)
		}
	}
	// Each category is said once: no untyped term repeats a category the
	// service already carries (an export would list it twice).
	for _, s := range seed {
		for _, term := range s.Terms {
			if c, ok := signpost.ParseCategory(term.Name); ok && s.Has(c) {
				t.Errorf("%s: term %q repeats its category %s", s.ID, term.Name, c)
			}
		}
	}
	if s := byID["operation-encompass"]; !strings.Contains(s.Description, "Clare's Law") || !strings.Contains(s.Description, "school") {
		t.Errorf("Operation Encompass does not explain its route: %q", s.Description)
	}
	if s := byID["signhealth-domestic-abuse"]; !slices.Contains(s.Languages, "bfi") {
		t.Errorf("SignHealth does not offer BSL: %v", s.Languages)
	}
	if s := byID["emergency-sms"]; !strings.Contains(s.Description, "register") {
		t.Errorf("emergencySMS does not say registration is needed: %q", s.Description)
	}
	if len(seed) != len(rows)-1+len(added) {
		t.Errorf("seed has %d services, want %d", len(seed), len(rows)-1+len(added))
	}
}

// dramaNumber reports whether a number is in one of Ofcom's ranges reserved
// for drama.
func dramaNumber(n string) bool {
	d := strings.NewReplacer(" ", "", "(", "", ")", "", "-", "").Replace(n)
	for _, prefix := range []string{"07700900", "08081570", "02079460", "02380496"} {
		if strings.HasPrefix(d, prefix) && len(d) == len(prefix)+3 {
			return true
		}
	}
	return false
}

func TestDemoSeed(t *testing.T) {
	demo, err := DemoSeed()
	if err != nil {
		t.Fatal(err)
	}
	if len(demo) < 12 {
		t.Errorf("demo has %d services", len(demo))
	}
	var confidential, idva, outreach, respect, children, lgbt, urdu, polish int
	for _, s := range demo {
		if !s.Example || !strings.HasPrefix(s.Description, "EXAMPLE DATA") {
			t.Errorf("%s: not marked as example data", s.ID)
		}
		for _, p := range s.Phones {
			if !dramaNumber(p.Number) {
				t.Errorf("%s: %s is not a drama number", s.ID, p.Number)
			}
		}
		if s.Gateway != nil && !dramaNumber(s.Gateway.Phone) {
			t.Errorf("%s: gateway %s is not a drama number", s.ID, s.Gateway.Phone)
		}
		var districts []string
		districts = append(districts, s.Area.Districts...)
		for _, l := range s.Locations {
			districts = append(districts, l.District)
		}
		for _, d := range districts {
			if d < "SO14" || d > "SO19" || len(d) != 4 {
				t.Errorf("%s: district %s outside SO14-SO19", s.ID, d)
			}
		}
		if s.ConfidentialAddress {
			confidential++
			if s.Gateway == nil || s.Gateway.Phone == "" {
				t.Errorf("%s: confidential without a gateway", s.ID)
			}
			for _, l := range s.Locations {
				if !reflect.DeepEqual(l, signpost.Location{District: l.District}) {
					t.Errorf("%s: confidential location holds %+v", s.ID, l)
				}
			}
		}
		count := func(n *int, ok bool) {
			if ok {
				*n++
			}
		}
		count(&idva, s.Has(signpost.CategoryIDVAISVA))
		count(&outreach, s.Has(signpost.CategoryOutreach))
		count(&respect, s.RespectAccredited)
		count(&children, s.Has(signpost.CategoryChildrenYoungPeople))
		count(&lgbt, s.Has(signpost.CategoryLGBT))
		count(&urdu, slices.Contains(s.Languages, "ur"))
		count(&polish, slices.Contains(s.Languages, "pl"))
	}
	if confidential != 2 || idva == 0 || outreach == 0 || respect == 0 || children == 0 || lgbt == 0 || urdu == 0 || polish == 0 {
		t.Errorf("demo lacks a kind of service: confidential=%d idva=%d outreach=%d respect=%d children=%d lgbt=%d urdu=%d polish=%d",
			confidential, idva, outreach, respect, children, lgbt, urdu, polish)
	}
}

func TestDramaNumber(t *testing.T) {
	for n, want := range map[string]bool{
		"07700 900123": true, "0808 157 0999": true, "023 8049 6000": true, "020 7946 0001": true,
		"07700 901000": false, "0808 2000 247": false, "023 8049 7000": false, "07700 9001234": false,
	} {
		if got := dramaNumber(n); got != want {
			t.Errorf("dramaNumber(%q) = %v", n, got)
		}
	}
}
