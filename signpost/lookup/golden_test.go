package lookup

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/postcode"
	"waymark/signpost"
	"waymark/signpost/oruk"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// pcOnce shares the postcode directory between tests; postcode.Load keeps
// no state of its own.
var pcOnce = sync.OnceValues(postcode.Load)

// seedIndex indexes the national and demo seeds, and extra.
func seedIndex(t testing.TB, extra ...signpost.Service) *signpost.Index {
	t.Helper()
	pc, err := pcOnce()
	if err != nil {
		t.Fatal(err)
	}
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		t.Fatalf("DefaultHolidays: %v", err)
	}
	national, err := oruk.Seed()
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	demo, err := oruk.DemoSeed()
	if err != nil {
		t.Fatalf("DemoSeed: %v", err)
	}
	return signpost.NewIndex(append(append(national, demo...), extra...), pc, hol)
}

func fptr(f float64) *float64 { return &f }

func cats(c ...signpost.Category) []signpost.Category { return c }
func auds(a ...signpost.Audience) []signpost.Audience { return a }

var (
	tuesdayMorning = time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC)  // 11:00 GMT
	springNight    = time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) // 00:30 GMT, Sunday, clocks go forward at 01:00
	easterMonday   = time.Date(2026, 4, 6, 10, 0, 0, 0, time.UTC)  // 11:00 BST
)

func TestSearchGolden(t *testing.T) {
	ix := seedIndex(t)
	tests := []struct {
		name string
		q    signpost.Query
		at   time.Time
	}{
		{"refuge_near_SO14_7DU", signpost.Query{Near: "SO14 7DU", Categories: []signpost.Category{signpost.CategoryRefuge}}, tuesdayMorning},
		{"near_SO14_7DU", signpost.Query{Near: "SO14 7DU"}, tuesdayMorning},
		{"open_now_spring_night", signpost.Query{Near: "SO14 7DU", OpenNow: true}, springNight},
		{"urdu_near_point", signpost.Query{Lat: fptr(50.92), Lon: fptr(-1.40), Language: "ur"}, tuesdayMorning},
		{"text_lgbt_anywhere", signpost.Query{Text: "LGBT"}, tuesdayMorning},
		{"northern_ireland", signpost.Query{Near: "BT1 5GS", Categories: []signpost.Category{signpost.CategoryHelpline}}, tuesdayMorning},
		{"unknown_area", signpost.Query{Near: "YY99 9ZZ", Categories: []signpost.Category{signpost.CategoryRefuge}}, tuesdayMorning},
		{"men_easter_monday", signpost.Query{Near: "SO14", Audience: []signpost.Audience{signpost.AudienceMen}, Categories: []signpost.Category{signpost.CategoryMaleVictims, signpost.CategoryDomesticAbuse}}, easterMonday},
		{"outside_idva_area", signpost.Query{Near: "SO50", Categories: []signpost.Category{signpost.CategoryIDVAISVA}}, tuesdayMorning},
		{"edinburgh", signpost.Query{Near: "EH1 1", Categories: []signpost.Category{signpost.CategoryRefuge}}, tuesdayMorning},
		{"perpetrator_programme", signpost.Query{Near: "SO15", Categories: []signpost.Category{signpost.CategoryPerpetratorProgramme}, Limit: 3}, tuesdayMorning},
		{"wales_nrpf", signpost.Query{Near: "CF10", Audience: []signpost.Audience{signpost.AudienceNRPF}}, tuesdayMorning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(tt.q, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			got := renderResults(tt.q, tt.at, res)
			path := filepath.Join("testdata", "search_"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("results differ from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

func renderResults(q signpost.Query, at time.Time, res signpost.Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query: %+v\n", struct {
		Near, Language, Text string
		Categories           []signpost.Category
		Audience             []signpost.Audience
		OpenNow              bool
		Limit                int
		Point                bool
	}{q.Near, q.Language, q.Text, q.Categories, q.Audience, q.OpenNow, q.Limit, q.Lat != nil})
	fmt.Fprintf(&b, "at: %s (%s)\n", at.Format(time.RFC3339), at.In(mustLondon()).Format("Mon 2006-01-02 15:04 MST"))
	if res.Origin != nil {
		fmt.Fprintf(&b, "origin: %s (%s, %s)\n", res.Origin.Area, res.Origin.Precision, res.Origin.Nation)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for i, r := range res.Results {
		dist := "-"
		if r.DistanceKm != nil {
			dist = fmt.Sprintf("%.1fkm", *r.DistanceKm)
		}
		open := "closed"
		if r.OpenNow {
			open = "open"
		}
		if !r.OpenKnown {
			open += "?"
		}
		fmt.Fprintf(&b, "%2d. %-28s %-7s %-6s district=%-4s why=%q\n", i+1, r.ID, open, dist, r.District, r.Why)
	}
	fmt.Fprintf(&b, "sms1: %s\n", listSMS(res, 1))
	fmt.Fprintf(&b, "sms2: %s\n", listSMS(res, 2))
	return b.String()
}

func mustLondon() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}

// A confidential refuge's address never appears in a search answer, its
// JSON or its SMS rendering, whatever the record it was built from held.
func TestSearchConfidentialRefuge(t *testing.T) {
	secret := signpost.Service{
		ID: "secret-refuge", Name: "Quiet Harbour Refuge", ConfidentialAddress: true,
		Categories: []signpost.Category{signpost.CategoryRefuge}, Gateway: &signpost.Gateway{Name: "Gateway", Phone: "0808 157 0999"},
		Hours: signpost.Hours{Open247: true},
		Locations: []signpost.Location{{Name: "Hidden House", Description: "Blue door", District: "SO14",
			Point:   &postcode.Point{Lat: 50.9087123, Lon: -1.4041123},
			Address: &signpost.Address{Line1: "99 Hidden Lane", City: "Southampton", PostalCode: "SO14 7DU"}}},
	}
	ix := seedIndex(t, secret)
	for _, q := range []signpost.Query{
		{Near: "SO14 7DU", Categories: []signpost.Category{signpost.CategoryRefuge}},
		{Near: "SO14 7DU"},
		{Lat: fptr(50.9087), Lon: fptr(-1.4041), Categories: []signpost.Category{signpost.CategoryRefuge}},
		{Near: "SO15", Categories: []signpost.Category{signpost.CategoryRefuge}, RadiusKm: 200},
		{Text: "quiet harbour"},
	} {
		res, err := ix.Search(q, tuesdayMorning)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range res.Results {
			if r.ID != "secret-refuge" {
				continue
			}
			found = true
			if r.DistanceKm != nil || !r.Confidential || r.Gateway == nil || r.Gateway.Phone != "0808 157 0999" || r.District != "SO14" {
				t.Errorf("query %+v: confidential result %+v", q, r)
			}
		}
		if !found {
			t.Errorf("query %+v: refuge not found", q)
		}
		js, _ := json.Marshal(res)
		sms := listSMS(res, 2)
		for _, leak := range []string{"Hidden", "Blue door", "99 Hidden", "SO14 7DU", "50.9087", "-1.4041", "latitude", "\"lat\""} {
			if bytes.Contains(js, []byte(leak)) {
				t.Errorf("query %+v: JSON contains %q", q, leak)
			}
			if strings.Contains(sms, leak) {
				t.Errorf("query %+v: SMS contains %q", q, leak)
			}
		}
	}
	// Nor does the service record the index hands out, nor its export.
	s, ok := ix.Service("secret-refuge")
	if !ok {
		t.Fatal("Service(secret-refuge) not found")
	}
	var buf bytes.Buffer
	if err := oruk.EncodeService(&buf, s); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(s)
	for _, leak := range []string{"Hidden", "99 Hidden", "SO14 7DU", "50.9087"} {
		if bytes.Contains(buf.Bytes(), []byte(leak)) || bytes.Contains(js, []byte(leak)) {
			t.Errorf("service record or export contains %q", leak)
		}
	}
	// The caller's value is untouched (the index validated a copy).
	if secret.Locations[0].Address == nil {
		t.Error("NewIndex changed its caller's service")
	}
}
