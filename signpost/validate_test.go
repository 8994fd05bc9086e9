package signpost

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"waymark/postcode"
)

func validService() Service {
	return Service{
		ID: "svc-1", Name: "Example Service",
		Phones:    []Phone{{Number: "023 8049 6001"}},
		Locations: []Location{{Name: "Office", Point: &postcode.Point{Lat: 50.9, Lon: -1.4}}},
		Hours:     Hours{Schedules: []Schedule{{ByDay: "mo,tu", OpensAt: "09:00:00", ClosesAt: "17:00"}}},
	}
}

func fields(ps []FieldProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field)
	}
	return out
}

func TestValidateHard(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Service)
		fields []string
	}{
		{"no id", func(s *Service) { s.ID = " " }, []string{"id"}},
		{"bad id", func(s *Service) { s.ID = "a b/c" }, []string{"id"}},
		{"long id", func(s *Service) { s.ID = strings.Repeat("a", 129) }, []string{"id"}},
		{"no name", func(s *Service) { s.Name = "" }, []string{"name"}},
		{"25:00", func(s *Service) { s.Hours.Schedules[0].OpensAt = "25:00" }, []string{"schedules[0].opens_at"}},
		{"closes 25:00", func(s *Service) { s.Hours.Schedules[0].ClosesAt = "25:00" }, []string{"schedules[0].closes_at"}},
		{"closes before opens", func(s *Service) { s.Hours.Schedules[0].ClosesAt = "08:00" }, []string{"schedules[0].closes_at"}},
		{"closes when opens", func(s *Service) { s.Hours.Schedules[0].ClosesAt = "09:00" }, []string{"schedules[0].closes_at"}},
		{"overnight the wrong way", func(s *Service) { s.Hours.Schedules[0].Overnight = true }, []string{"schedules[0].overnight"}},
		{"only opens_at", func(s *Service) { s.Hours.Schedules[0].ClosesAt = "" }, []string{"schedules[0].closes_at"}},
		{"bad byday", func(s *Service) { s.Hours.Schedules[0].ByDay = "MO,1TU" }, []string{"schedules[0].byday"}},
		{"bad valid_to", func(s *Service) { s.Hours.Schedules[0].ValidTo = "2026-02-30" }, []string{"schedules[0].valid_to"}},
		{"valid_to before valid_from", func(s *Service) {
			s.Hours.Schedules[0].ValidFrom, s.Hours.Schedules[0].ValidTo = "2026-02-02", "2026-02-01"
		}, []string{"schedules[0].valid_to"}},
		{"two problems", func(s *Service) { s.ID = ""; s.Name = "" }, []string{"id", "name"}},
		{"second schedule", func(s *Service) {
			s.Hours.Schedules = append(s.Hours.Schedules, Schedule{OpensAt: "22:00", ClosesAt: "02:00"})
		}, []string{"schedules[1].closes_at"}},
	}
	for _, tt := range tests {
		s := validService()
		tt.mutate(&s)
		_, err := Validate(&s)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate error = %v, want a ValidationError", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.fields, fields(ve.Problems)); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestValidateSoft(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		mutate func(*Service)
		fields []string
		check  func(*Service) bool
	}{
		{"lat 100", func(s *Service) { s.Locations[0].Point = &postcode.Point{Lat: 100, Lon: 101} }, []string{"locations[0].point"},
			func(s *Service) bool { return s.Locations[0].Point == nil }},
		{"NaN", func(s *Service) { s.Locations[0].Point = &postcode.Point{Lat: nan, Lon: 0} }, []string{"locations[0].point"},
			func(s *Service) bool { return s.Locations[0].Point == nil }},
		{"outside the UK", func(s *Service) { s.Locations[0].Point = &postcode.Point{Lat: 40.7, Lon: -74} }, []string{"locations[0].point"},
			func(s *Service) bool { return s.Locations[0].Point == nil }},
		{"unknown category", func(s *Service) { s.Categories = []Category{"refuge", "crystals", "Domestic Violence"} }, []string{"categories[1]"},
			func(s *Service) bool {
				return cmp.Equal(s.Categories, []Category{CategoryRefuge, CategoryDomesticAbuse})
			}},
		{"respect without programme", func(s *Service) { s.RespectAccredited = true }, []string{"respect_accredited"},
			func(s *Service) bool { return !s.RespectAccredited }},
		{"bad language", func(s *Service) { s.Languages = []string{"UR", "klingon", "pl"} }, []string{"languages[1]"},
			func(s *Service) bool { return cmp.Equal(s.Languages, []string{"ur", "pl"}) }},
		{"bad phone", func(s *Service) { s.Phones = append(s.Phones, Phone{Number: "call us"}) }, []string{"phones[1].number"},
			func(s *Service) bool { return len(s.Phones) == 1 }},
		{"bad email and url", func(s *Service) { s.Email = "nope"; s.URL = "javascript:alert(1)" }, []string{"url", "email"},
			func(s *Service) bool { return s.Email == "" && s.URL == "" }},
		{"bad district", func(s *Service) { s.Area.Districts = []string{"so14", "SO14 7", "XX"} }, []string{"service_area.districts[1]", "service_area.districts[2]"},
			func(s *Service) bool { return cmp.Equal(s.Area.Districts, []string{"SO14"}) }},
		{"radius without centre", func(s *Service) { s.Area.RadiusKm = 5 }, []string{"service_area.radius_km"},
			func(s *Service) bool { return s.Area.RadiusKm == 0 }},
		{"unknown nation", func(s *Service) { s.Nations = []Nation{"Wales", "Atlantis", "england"} }, []string{"nations[1]"},
			func(s *Service) bool { return cmp.Equal(s.Nations, []Nation{England, Wales}) }},
		{"ages", func(s *Service) { s.Eligibility.MinAge, s.Eligibility.MaxAge = 18, 12 }, []string{"eligibility.max_age"},
			func(s *Service) bool { return s.Eligibility.MinAge == 0 && s.Eligibility.MaxAge == 0 }},
		{"bad postal code", func(s *Service) { s.Locations[0].Address = &Address{Line1: "1 Road", PostalCode: "ABC 1234"} }, []string{"locations[0].address.postal_code"},
			func(s *Service) bool {
				return s.Locations[0].Address.PostalCode == "ABC 1234" && s.Locations[0].District == ""
			}},
		{"bad last_verified", func(s *Service) { s.LastVerified = "yesterday" }, []string{"last_verified"},
			func(s *Service) bool { return s.LastVerified == "" }},
		{"unknown status", func(s *Service) { s.Status = "sleeping" }, []string{"status"},
			func(s *Service) bool { return s.Status == StatusActive }},
	}
	for _, tt := range tests {
		s := validService()
		tt.mutate(&s)
		warnings, err := Validate(&s)
		if err != nil {
			t.Errorf("%s: Validate error %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.fields, fields(warnings)); diff != "" {
			t.Errorf("%s: warning fields (-want +got):\n%s", tt.name, diff)
		}
		if !tt.check(&s) {
			t.Errorf("%s: field not dropped: %+v", tt.name, s)
		}
	}
}

func TestValidateNormalises(t *testing.T) {
	s := validService()
	s.Locations[0].Address = &Address{Line1: " 1 Road ", PostalCode: "so147du"}
	s.Hours.Schedules = append(s.Hours.Schedules, Schedule{OpensAt: "18:00", ClosesAt: "24:00"})
	if w, err := Validate(&s); err != nil || len(w) > 0 {
		t.Fatalf("Validate = %v, %v", w, err)
	}
	want := []Schedule{{ByDay: "MO,TU", OpensAt: "09:00", ClosesAt: "17:00"}, {ByDay: "MO,TU,WE,TH,FR,SA,SU", OpensAt: "18:00", ClosesAt: "00:00"}}
	if diff := cmp.Diff(want, s.Hours.Schedules, cmpopts.IgnoreFields(Schedule{}, "ID")); diff != "" {
		t.Errorf("schedules (-want +got):\n%s", diff)
	}
	if id := s.Hours.Schedules[1].ID; id != subID(s.ID, "schedules/1") {
		t.Errorf("schedule id %q, want the id the export derives", id)
	}
	if s.Locations[0].District != "SO14" || s.Locations[0].Address.PostalCode != "SO14 7DU" || s.Locations[0].Address.Line1 != "1 Road" {
		t.Errorf("location not normalised: %+v %+v", s.Locations[0], s.Locations[0].Address)
	}
	if s.Status != StatusActive {
		t.Errorf("status = %q", s.Status)
	}
	// Validating again changes nothing and warns of nothing.
	again := cloneService(s)
	if w, err := Validate(&again); err != nil || len(w) > 0 || !cmp.Equal(again, s) {
		t.Errorf("second Validate: %v %v %s", w, err, cmp.Diff(s, again))
	}
}

func TestValidateConfidential(t *testing.T) {
	s := Service{
		ID: "refuge-1", Name: "Hidden Refuge", ConfidentialAddress: true,
		Description: "Women's refuge at 12 Secret Road, SO15 2ZZ, near the park.",
		Locations: []Location{
			{Name: "12 Secret Road", Point: &postcode.Point{Lat: 50.917, Lon: -1.426}, Address: &Address{Line1: "12 Secret Road", PostalCode: "SO15 2ZZ"}},
			{District: "SO15"},
		},
		Gateway: &Gateway{Phone: "0808 157 0101"},
	}
	warnings, err := Validate(&s)
	if err != nil {
		t.Fatal(err)
	}
	want := []Location{{District: "SO15"}}
	if diff := cmp.Diff(want, s.Locations); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}
	if s.Description != "" {
		t.Errorf("description with a postcode kept: %q", s.Description)
	}
	if diff := cmp.Diff([]string{"locations[0].address", "locations[0].point", "locations[0].name", "description"}, fields(warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	for _, w := range warnings {
		if strings.Contains(w.Problem, "Secret") || strings.Contains(w.Problem, "SO15") {
			t.Errorf("warning repeats the address: %v", w)
		}
	}
	// Without a gateway the record stays but says it cannot be reached.
	s.Gateway = nil
	if warnings, _ := Validate(&s); !cmp.Equal(fields(warnings), []string{"gateway"}) {
		t.Errorf("no gateway: warnings %v", warnings)
	}
}
