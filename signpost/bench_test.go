package signpost

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/postcode"
)

// generateDirectory makes n services spread over Great Britain's sector
// centroids, deterministically: a mix of categories, languages, opening
// patterns (24/7, office hours, split days, overnight, unknown), service
// areas and confidential refuges, roughly as a national directory would
// hold them.
func generateDirectory(pc *postcode.Directory, n int) []Service {
	rng := rand.New(rand.NewPCG(2026, 3))
	sectors := validSectors(pc)
	words := []string{"support", "advice", "women", "families", "counselling", "outreach", "refuge", "recovery", "safety", "housing", "legal", "young", "community", "helpline", "wellbeing"}
	places := []string{"Harbour", "Bridge", "Meadow", "Castle", "River", "Hill", "Forest", "Market", "Station", "Park"}
	schedules := [][]Schedule{
		{{ByDay: "MO,TU,WE,TH,FR", OpensAt: "09:00", ClosesAt: "17:00"}},
		{{ByDay: "MO,TU,WE,TH,FR", OpensAt: "09:00", ClosesAt: "13:00"}, {ByDay: "MO,TU,WE,TH,FR", OpensAt: "14:00", ClosesAt: "17:00"}},
		{{ByDay: "MO,TU,WE,TH,FR,SA,SU", OpensAt: "20:00", ClosesAt: "02:00", Overnight: true}},
		{{ByDay: "TU,TH", OpensAt: "10:00", ClosesAt: "16:00"}, {ByDay: "SA", OpensAt: "10:00", ClosesAt: "12:00"}},
	}
	out := make([]Service, 0, n)
	for i := range n {
		sector := sectors[rng.IntN(len(sectors))]
		centre, _ := pc.Sector(sector)
		district := strings.Fields(sector)[0]
		cat := categories[rng.IntN(len(categories))]
		s := Service{
			ID:           fmt.Sprintf("gen-%05d", i),
			Name:         fmt.Sprintf("%s %s %s", places[rng.IntN(len(places))], strings.ToUpper(words[rng.IntN(len(words))][:1])+words[rng.IntN(len(words))][1:], cat),
			Organisation: Organisation{Name: places[rng.IntN(len(places))] + " Trust"},
			Description:  fmt.Sprintf("Local %s and %s for people in %s.", words[rng.IntN(len(words))], words[rng.IntN(len(words))], district),
			Categories:   []Category{cat, CategoryDomesticAbuse},
			Phones:       []Phone{{Number: fmt.Sprintf("023 8049 6%03d", i%1000)}},
			LastVerified: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(400)).Format(time.DateOnly),
			Eligibility:  Eligibility{Gender: []Gender{GenderAny, GenderAny, GenderWomen, GenderMen}[rng.IntN(4)]},
		}
		switch r := rng.IntN(10); {
		case r == 0:
			s.Hours.Open247 = true
		case r == 9: // no hours known
		default:
			s.Hours.Schedules = schedules[r%len(schedules)]
		}
		if rng.IntN(7) == 0 {
			s.Languages = []string{[]string{"ur", "pl", "pa", "cy", "bn", "ar"}[rng.IntN(6)], "en"}
		}
		switch r := rng.IntN(100); {
		case r < 3: // a confidential refuge
			s.Categories = []Category{CategoryRefuge, CategoryDomesticAbuse}
			s.ConfidentialAddress = true
			s.Locations = []Location{{District: district}}
			s.Gateway = &Gateway{Phone: "0808 157 0101"}
		case r < 7: // serves its district, no office
			s.Area.Districts = []string{district}
		case r < 8: // serves a circle
			s.Area.Centre, s.Area.RadiusKm = &centre, 10
		default:
			pt := postcode.Point{Lat: centre.Lat + (rng.Float64()-0.5)*0.01, Lon: centre.Lon + (rng.Float64()-0.5)*0.015}
			s.Locations = []Location{{Name: "Office", Point: &pt, District: district}}
		}
		out = append(out, s)
	}
	return out
}

// pcOnce shares the postcode directory between tests; postcode.Load keeps
// no state of its own.
var pcOnce = sync.OnceValues(postcode.Load)

func testPostcodes(t testing.TB) *postcode.Directory {
	t.Helper()
	d, err := pcOnce()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// validSectors lists the data's sectors that ParseArea accepts (not the
// retired NPT and W1N-style ones).
func validSectors(pc *postcode.Directory) []string {
	var out []string
	for _, s := range pc.Sectors() {
		if a, err := postcode.ParseArea(s); err == nil && a.Kind == postcode.Sector {
			out = append(out, s)
		}
	}
	return out
}

func BenchmarkNewIndex(b *testing.B) {
	pc := testPostcodes(b)
	svcs := generateDirectory(pc, 50_000)
	hol := mustHolidays(b)
	for b.Loop() {
		NewIndex(svcs, pc, hol)
	}
}

// TestGeneratedSearchAgreesWithScan checks the spatial grid and the word
// index against a plain scan over a generated directory.
func TestGeneratedSearchAgreesWithScan(t *testing.T) {
	pc := testPostcodes(t)
	svcs := generateDirectory(pc, 3000)
	ix := NewIndex(svcs, pc, mustHolidays(t))
	rng := rand.New(rand.NewPCG(11, 12))
	sectors := validSectors(pc)
	now := time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC)
	for range 200 {
		sec := sectors[rng.IntN(len(sectors))]
		q := Query{Near: sec, RadiusKm: float64(5 + rng.IntN(100)), Limit: MaxLimit}
		res, err := ix.Search(q, now)
		if err != nil {
			t.Fatal(err)
		}
		origin, _ := pc.Sector(sec)
		var want []float64 // distances of located services in the radius
		for _, e := range ix.entries {
			if e.national || e.area || len(e.points) == 0 {
				continue
			}
			best := -1.0
			for _, p := range e.points {
				if d := postcode.Distance(origin, p); best < 0 || d < best {
					best = d
				}
			}
			if best <= q.RadiusKm {
				want = append(want, best)
			}
		}
		slices.Sort(want)
		got, covers, far := 0, 0, 0.0
		for _, r := range res.Results {
			switch {
			case r.National:
			case strings.Contains(strings.Join(r.Why, " "), "covers"):
				covers++
			default:
				got++
				if r.DistanceKm != nil {
					far = max(far, *r.DistanceKm)
				}
			}
		}
		if wantN := min(len(want), MaxLimit-covers); got != wantN {
			t.Errorf("near %s within %.0f km: scan finds %d, search returned %d (and %d covering)", sec, q.RadiusKm, len(want), got, covers)
		} else if got > 0 && far > want[got-1]+0.051 {
			t.Errorf("near %s: farthest result %.1f km, but the %d nearest are within %.2f km", sec, far, got, want[got-1])
		}
	}
	// Text: every word must match the start of a word.
	res, err := ix.Search(Query{Text: "counsel", Limit: MaxLimit}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		text := strings.ToLower(r.Name + " " + r.Description + " " + r.Organisation)
		if !strings.Contains(text, "counsel") {
			t.Errorf("%s matched 'counsel' without it", r.ID)
		}
	}
	if len(res.Results) == 0 {
		t.Error("no result for 'counsel'")
	}
}
