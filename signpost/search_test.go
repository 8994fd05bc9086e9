package signpost_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/postcode"

	"waymark/signpost"
	"waymark/signpost/oruk"
)

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

func seedIndex(t testing.TB, extra ...signpost.Service) *signpost.Index {
	t.Helper()
	return signpost.NewIndex(append(allSeeds(t), extra...), testPostcodes(t), mustHolidays(t))
}

func fptr(f float64) *float64 { return &f }

func mustHolidays(t testing.TB) signpost.Holidays {
	t.Helper()
	h, err := signpost.DefaultHolidays()
	if err != nil {
		t.Fatalf("DefaultHolidays: %v", err)
	}
	return h
}

// allSeeds returns the national and the demo seed.
func allSeeds(t testing.TB) []signpost.Service {
	t.Helper()
	national, err := oruk.Seed()
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	demo, err := oruk.DemoSeed()
	if err != nil {
		t.Fatalf("DemoSeed: %v", err)
	}
	return append(national, demo...)
}

func fields(ps []signpost.FieldProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field)
	}
	return out
}

func cats(c ...signpost.Category) []signpost.Category { return c }

var (
	tuesdayMorning = time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC)  // 11:00 GMT
	springNight    = time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) // 00:30 GMT, Sunday, clocks go forward at 01:00
)

func TestSearchBehaviour(t *testing.T) {
	ix := seedIndex(t)
	ids := func(res signpost.Results) []string {
		var out []string
		for _, r := range res.Results {
			out = append(out, r.ID)
		}
		return out
	}
	search := func(q signpost.Query, at time.Time) signpost.Results {
		t.Helper()
		res, err := ix.Search(q, at)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		return res
	}

	// Filters combine: category and language and distance.
	res := search(signpost.Query{Near: "SO14 7DU", Categories: []signpost.Category{signpost.CategoryOutreach}, Language: "pl"}, tuesdayMorning)
	if got := ids(res); len(got) == 0 || got[0] != "demo-saheli-siostry" {
		t.Errorf("outreach in Polish: %v", got)
	}
	for _, r := range res.Results {
		if !r.National && !strings.Contains(strings.Join(r.Why, ","), "speaks pl") {
			t.Errorf("local result %s without 'speaks pl': %v", r.ID, r.Why)
		}
	}
	// Open now at 00:30 on a Sunday: the overnight line and 24/7 services only.
	res = search(signpost.Query{Near: "SO14 7DU", OpenNow: true}, springNight)
	for _, r := range res.Results {
		if !r.OpenNow {
			t.Errorf("open_now returned closed %s", r.ID)
		}
	}
	if got := ids(res); !contains(got, "demo-night-harbour-line") || contains(got, "demo-bargate-outreach") {
		t.Errorf("open now at night: %v", got)
	}
	// Radius: a small radius drops further services but keeps those that cover the area.
	small := ids(search(signpost.Query{Near: "SO14 7DU", RadiusKm: 1, Limit: 50}, tuesdayMorning))
	if contains(small, "demo-pride-path") || !contains(small, "demo-safe-at-home") || !contains(small, "demo-bargate-outreach") {
		t.Errorf("radius 1 km: %v", small)
	}
	// Limit is honoured and national services fill the rest.
	res = search(signpost.Query{Near: "SO14 7DU", Categories: []signpost.Category{signpost.CategoryLegal}, Limit: 3}, tuesdayMorning)
	if len(res.Results) != 3 || res.Results[0].ID != "demo-solent-family-law" || !res.Results[1].National {
		t.Errorf("legal, limit 3: %v", ids(res))
	}
	// Ranking: distance first.
	res = search(signpost.Query{Near: "SO14 7DU", Limit: 50}, tuesdayMorning)
	last := -1.0
	for _, r := range res.Results {
		if r.DistanceKm != nil {
			if *r.DistanceKm < last {
				t.Errorf("results not by distance: %v", ids(res))
			}
			last = *r.DistanceKm
		}
	}
	// Audience men excludes women-only services.
	for _, r := range search(signpost.Query{Near: "SO14", Audience: []signpost.Audience{signpost.AudienceMen}, Limit: 50}, tuesdayMorning).Results {
		if r.Eligibility.Gender == signpost.GenderWomen {
			t.Errorf("audience men returned women-only %s", r.ID)
		}
	}
	// Text matches word prefixes, case-insensitively, all words.
	if got := ids(search(signpost.Query{Text: "SANCTUARY sch"}, tuesdayMorning)); len(got) == 0 || got[0] != "demo-safe-at-home" {
		t.Errorf("text search: %v", got)
	}
	if got := ids(search(signpost.Query{Text: "sanctuary zebra"}, tuesdayMorning)); len(got) != 0 {
		t.Errorf("text with an unmatched word: %v", got)
	}
	// Northern Ireland: nation-wide services that serve NI, with a note.
	res = search(signpost.Query{Near: "BT48 6"}, tuesdayMorning)
	if len(res.Notes) != 1 || res.Notes[0] != signpost.NoteNorthernIreland {
		t.Errorf("NI notes %v", res.Notes)
	}
	for _, r := range res.Results {
		if !r.National || !containsNation(r.Nations, signpost.NorthernIreland) {
			t.Errorf("NI result %s serves %v", r.ID, r.Nations)
		}
	}
	// Scotland gets Scotland's line, not England's.
	got := ids(search(signpost.Query{Near: "EH1", Categories: []signpost.Category{signpost.CategoryRefuge}}, tuesdayMorning))
	if !contains(got, "scotland-da-fm-helpline") || contains(got, "national-da-helpline") {
		t.Errorf("Edinburgh refuge: %v", got)
	}
	// Vacancy reports older than a day are stale.
	for _, r := range search(signpost.Query{Near: "SO15", Categories: []signpost.Category{signpost.CategoryRefuge}}, tuesdayMorning).Results {
		if r.Vacancies != nil && !r.Vacancies.Stale {
			t.Errorf("%s vacancy from %s not stale in March", r.ID, r.Vacancies.UpdatedAt)
		}
	}
	fresh := search(signpost.Query{Near: "SO15", Categories: []signpost.Category{signpost.CategoryRefuge}}, time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC))
	if v := fresh.Results[0].Vacancies; fresh.Results[0].ID != "demo-solent-harbour-refuge" || v == nil || v.Stale {
		t.Errorf("fresh vacancy: %+v", fresh.Results[0])
	}
	// Results are copies: changing one does not change the index.
	res = search(signpost.Query{Near: "SO14 7DU", Limit: 1}, tuesdayMorning)
	res.Results[0].Phones[0].Number = "changed"
	if again := search(signpost.Query{Near: "SO14 7DU", Limit: 1}, tuesdayMorning); again.Results[0].Phones[0].Number == "changed" {
		t.Error("a result shares memory with the index")
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func containsNation(ns []signpost.Nation, n signpost.Nation) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

func TestSearchRejectsBadQuery(t *testing.T) {
	ix := seedIndex(t)
	_, err := ix.Search(signpost.Query{Near: "nowhere", Limit: 99}, tuesdayMorning)
	var ve *signpost.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, signpost.ErrInvalid) {
		t.Fatalf("error = %v", err)
	}
	if diff := cmp.Diff([]string{"near", "limit"}, fields(ve.Problems)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "nowhere") {
		t.Errorf("error repeats the input: %v", err)
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		qs     string
		want   signpost.Query
		fields []string
	}{
		{"near=SO14+7DU&category=refuge,IDVA&open_now=true&limit=5", signpost.Query{Near: "SO14 7DU", Categories: []signpost.Category{signpost.CategoryRefuge, signpost.CategoryIDVAISVA}, OpenNow: true, Limit: 5}, nil},
		{"lat=50.9&lon=-1.4&radius_km=10&language=UR&audience=women&audience=nrpf&q=refuge", signpost.Query{Lat: fptr(50.9), Lon: fptr(-1.4), RadiusKm: 10, Language: "ur", Audience: []signpost.Audience{signpost.AudienceWomen, signpost.AudienceNRPF}, Text: "refuge"}, nil},
		{"", signpost.Query{}, nil},
		{"near=SO14&lat=50.9&lon=-1.4", signpost.Query{Near: "SO14", Lat: fptr(50.9), Lon: fptr(-1.4)}, []string{"near"}},
		{"near=123", signpost.Query{Near: "123"}, []string{"near"}},
		{"lat=100&lon=-1.4", signpost.Query{Lat: fptr(100), Lon: fptr(-1.4)}, []string{"lat"}},
		{"lat=50.9", signpost.Query{Lat: fptr(50.9)}, []string{"lon"}},
		{"lat=abc&lon=1", signpost.Query{Lon: fptr(1)}, []string{"lat"}},
		{"radius_km=500", signpost.Query{RadiusKm: 500}, []string{"radius_km"}},
		{"radius_km=0", signpost.Query{}, []string{"radius_km"}},
		{"radius_km=-1", signpost.Query{RadiusKm: -1}, []string{"radius_km"}},
		{"radius_km=NaN", signpost.Query{}, []string{"radius_km"}},
		{"category=refuge,astrology", signpost.Query{Categories: []signpost.Category{signpost.CategoryRefuge, "astrology"}}, []string{"category"}},
		{"language=klingon", signpost.Query{Language: "klingon"}, []string{"language"}},
		{"audience=aliens", signpost.Query{Audience: []signpost.Audience{"aliens"}}, []string{"audience"}},
		{"open_now=maybe", signpost.Query{}, []string{"open_now"}},
		{"limit=0", signpost.Query{}, []string{"limit"}},
		{"limit=51", signpost.Query{Limit: 51}, []string{"limit"}},
		{"limit=ten", signpost.Query{}, []string{"limit"}},
		{"q=" + strings.Repeat("a", 201), signpost.Query{Text: strings.Repeat("a", 201)}, []string{"q"}},
		{"nearr=SO14", signpost.Query{}, []string{"nearr"}},
		{"near=SO14&near=SO15", signpost.Query{Near: "SO14"}, []string{"near"}},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.qs)
		if err != nil {
			t.Fatal(err)
		}
		got, probs := signpost.ParseQuery(v)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseQuery(%q) (-want +got):\n%s", tt.qs, diff)
		}
		if diff := cmp.Diff(tt.fields, fields(probs)); diff != "" {
			t.Errorf("ParseQuery(%q) problems (-want +got):\n%s\n%v", tt.qs, diff, probs)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"near=SO14+7DU&category=refuge", "lat=50.9&lon=-1.4&radius_km=10", "limit=0&open_now=yes", "q=%F0%9F%86%98&language=ur", "audience=women,men&category=,,"} {
		f.Add(s)
	}
	ix := seedIndex(f)
	f.Fuzz(func(t *testing.T, qs string) {
		v, err := url.ParseQuery(qs)
		if err != nil {
			return
		}
		q, probs := signpost.ParseQuery(v)
		res, err := ix.Search(q, tuesdayMorning)
		if (len(probs) == 0) != (err == nil) {
			// ParseQuery may find problems Search cannot see (unknown
			// parameters, repeats, bad numbers), never the other way round.
			if err != nil {
				t.Fatalf("ParseQuery accepted %q but Search rejects it: %v", qs, err)
			}
			return
		}
		if err == nil && len(res.Results) > max(q.Limit, signpost.DefaultLimit) {
			t.Fatalf("%d results for limit %d", len(res.Results), q.Limit)
		}
	})
}

// Everyday words find what the categories find: "perpetrator" used to
// find nothing while the category found the perpetrator lines.
func TestSearchEverydayWords(t *testing.T) {
	ix := seedIndex(t)
	ids := func(q signpost.Query) []string {
		t.Helper()
		res, err := ix.Search(q, tuesdayMorning)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res.Results {
			out = append(out, r.ID)
		}
		return out
	}
	byCategory := ids(signpost.Query{Categories: cats(signpost.CategoryPerpetratorProgramme), Limit: 50})
	for _, text := range []string{"perpetrator", "I want to change", "perpetrator programme"} {
		got := ids(signpost.Query{Text: text, Limit: 50})
		if len(got) == 0 || !cmp.Equal(got, byCategory) {
			t.Errorf("text %q finds %v; the category finds %v", text, got, byCategory)
		}
	}
	for _, tt := range []struct {
		text string
		want string
	}{
		{"men", "mens-advice-line"},
		{"LGBT", "galop-lgbt-da-helpline"},
		{"children", "childline"},
		{"forced marriage", "karma-nirvana"},
		{"stalking", "national-stalking-helpline"},
		// The coverage a helpline worker expects, by the words they use.
		{"stalked", "national-stalking-helpline"},
		{"older", "hourglass-helpline"},
		{"elderly", "hourglass-helpline"},
		{"deaf", "signhealth-domestic-abuse"},
		{"BSL", "signhealth-domestic-abuse"},
		{"live chat", "womens-aid-live-chat"},
		{"asian women", "southall-black-sisters"},
		{"black women", "southall-black-sisters"},
		{"my partner is a perpetrator", "respect-phoneline-partners"},
		{"Clare's Law", "clares-law"},
		{"clares law", "clares-law"},
		{"school", "operation-encompass"},
		{"men's", "mens-advice-line"},
	} {
		if got := ids(signpost.Query{Text: tt.text, Limit: 50}); !slices.Contains(got, tt.want) {
			t.Errorf("text %q finds %v, not %s", tt.text, got, tt.want)
		}
	}
	// Among national services, more of the asked categories first: men's
	// domestic-abuse support (how the signposting number reads "men") puts
	// the Men's Advice Line before a general scheme that is only domestic
	// abuse.
	// On a Sunday, when neither is open, so that opening hours do not decide.
	sunday := time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC)
	res, err := ix.Search(signpost.Query{Near: "SO14 7DU", Limit: 50, Categories: cats(signpost.CategoryMaleVictims, signpost.CategoryDomesticAbuse),
		Audience: []signpost.Audience{signpost.AudienceMen}}, sunday)
	if err != nil {
		t.Fatal(err)
	}
	var men []string
	for _, r := range res.Results {
		men = append(men, r.ID)
	}
	if a, b := slices.Index(men, "mens-advice-line"), slices.Index(men, "ask-for-ani"); a < 0 || (b >= 0 && b < a) {
		t.Errorf("men near SO14: mens-advice-line at %d, ask-for-ani at %d: %v", a, b, men)
	}
	// Nothing local near the postcode: the national services it promises.
	res, err = ix.Search(signpost.Query{Near: "CF10 1AA", Text: "perpetrator"}, tuesdayMorning)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || !res.Results[0].National || !slices.Contains(res.Notes, signpost.NoteNoLocal) {
		t.Errorf("perpetrator near CF10: %+v", res)
	}
}
