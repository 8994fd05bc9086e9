package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/internal/orukschema"
	"waymark/postcode"
	"waymark/signpost"
	"waymark/signpost/oruk"
)

// orukIndex is the seeds, a refuge given an address, three unpublished
// services, and the official UK and HSDS 3.0 examples as imported.
func orukIndex(t *testing.T) *signpost.Index {
	t.Helper()
	seed, _ := oruk.Seed()
	demo, _ := oruk.DemoSeed()
	services := append(seed, demo...)
	services = append(services, signpost.Service{
		ID: "hidden-refuge", Name: "Hidden Refuge", ConfidentialAddress: true,
		Categories: []signpost.Category{signpost.CategoryRefuge}, Gateway: &signpost.Gateway{Phone: "0808 157 0999"},
		Locations: []signpost.Location{{Name: "Secret House", District: "SO14",
			Point:   &postcode.Point{Lat: 50.9087123, Lon: -1.4041123},
			Address: &signpost.Address{Line1: "99 Secret Lane", City: "Southampton", PostalCode: "SO14 7DU"}}},
	})
	// Unpublished services: never served, listed or found by id.
	for _, st := range []signpost.Status{signpost.StatusInactive, signpost.StatusDefunct, signpost.StatusTemporarilyClosed} {
		u := signpost.Service{
			ID: "unpublished-" + strings.ReplaceAll(string(st), " ", "-"), Name: "Unpublished Service", Status: st,
			Categories: []signpost.Category{signpost.CategoryHelpline}, Nations: []signpost.Nation{signpost.England},
			Phones: []signpost.Phone{{Number: "0808 157 0998", Type: signpost.PhoneVoice}},
		}
		if _, err := signpost.Validate(&u); err != nil { // kept out for its status, not for being invalid
			t.Fatal(err)
		}
		services = append(services, u)
	}
	for _, name := range []string{"uk-profile-3.0_service_full.json", "hsds-3.0_service_full.json"} {
		b, err := os.ReadFile(filepath.Join("..", "signpost", "oruk", "testdata", "oruk", name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "hsds") { // both examples use one id
			b = []byte(strings.ReplaceAll(string(b), "ac148810-d857-441c-9679-408f346de14b", "0f5a3c59-5b0a-4b53-8a8e-6a2bdc7f0c11"))
		}
		items, err := oruk.Decode(strings.NewReader(string(b)))
		if err != nil || items[0].Err != nil {
			t.Fatalf("%s: %v %v", name, err, items)
		}
		services = append(services, *items[0].Service)
	}
	pc, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		t.Fatal(err)
	}
	return signpost.NewIndex(services, pc, hol)
}

// TestORUKAPIAnswersMatchUKProfile: every page of GET /oruk/services (list
// items and full=true) and every GET /oruk/services/{id} validates against
// the UK profile's compiled schemas, with no violation; the examples keep
// their ids; a refuge's address never appears, nor does an inactive,
// defunct or temporarily closed service.
func TestORUKAPIAnswersMatchUKProfile(t *testing.T) {
	s, _ := directoryServer(t)
	ix := orukIndex(t)
	sch := orukschema.Load(t)
	get := func(pattern string, h func(func() *signpost.Index) http.Handler, url string) []byte {
		t.Helper()
		rec := serveDirectory(s, ix, pattern, h, url)
		if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: %d %q %s", url, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), rec.Body)
		}
		for _, leak := range []string{"Secret", "SO14 7DU", "50.9087", "Unpublished", "0808 157 0998"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("%s holds %q", url, leak)
			}
		}
		return rec.Body.Bytes()
	}
	var ids []string
	violations := 0
	for _, full := range []bool{false, true} {
		for page := 1; ; page++ {
			url := "/oruk/services?per_page=7&page=" + itoa(page)
			if full {
				url += "&full=true"
			}
			body := get("GET /oruk/services", s.dir.ORUKServices, url)
			for _, v := range sch.Page(body, full) {
				t.Errorf("%s: %s", url, v)
				violations++
			}
			var p struct {
				TotalItems int  `json:"total_items"`
				LastPage   bool `json:"last_page"`
				Contents   []struct {
					ID string `json:"id"`
				} `json:"contents"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.TotalItems != ix.Len() {
				t.Errorf("total_items %d, index holds %d", p.TotalItems, ix.Len())
			}
			for _, c := range p.Contents {
				if !full {
					ids = append(ids, c.ID)
				}
			}
			if p.LastPage {
				break
			}
		}
	}
	if len(ids) != ix.Len() {
		t.Fatalf("paged through %d services, the index holds %d", len(ids), ix.Len())
	}
	for _, id := range ids {
		body := get("GET /oruk/services/{id}", s.dir.ORUKService, "/oruk/services/"+id)
		for _, v := range sch.Service(body) {
			t.Errorf("/oruk/services/%s: %s", id, v)
			violations++
		}
	}
	t.Logf("%d services over the API, %d violations", len(ids), violations)
	for _, want := range []string{"ac148810-d857-441c-9679-408f346de14b", "0f5a3c59-5b0a-4b53-8a8e-6a2bdc7f0c11", signpost.ORUKID("national-da-helpline")} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("id %s not listed", want)
		}
	}
	// A shipped service is found by its readable id too.
	if b := get("GET /oruk/services/{id}", s.dir.ORUKService, "/oruk/services/national-da-helpline"); !strings.Contains(string(b), signpost.ORUKID("national-da-helpline")) {
		t.Errorf("by readable id: %s", b)
	}
}

func TestORUKAPIFiltersAndErrors(t *testing.T) {
	s, _ := directoryServer(t)
	ix := orukIndex(t)
	count := func(url string) int {
		t.Helper()
		rec := serveDirectory(s, ix, "GET /oruk/services", s.dir.ORUKServices, url)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", url, rec.Code, rec.Body)
		}
		var p struct {
			TotalItems int `json:"total_items"`
		}
		json.Unmarshal(rec.Body.Bytes(), &p)
		return p.TotalItems
	}
	if n := count("/oruk/services?search=community+counselling"); n != 2 {
		t.Errorf("search=community counselling: %d, want the 2 examples", n)
	}
	if n := count("/oruk/services?taxonomy_term_id=" + termID(t, ix, "respect-phoneline", "perpetrator-programme")); n < 2 {
		t.Errorf("taxonomy_term_id of perpetrator programmes: %d", n)
	}
	if n := count("/oruk/services?minimum_age=12"); n < 2 {
		t.Errorf("minimum_age=12: %d", n)
	}
	// postcode: the services that serve it, local and national; proximity
	// in metres narrows the local ones.
	ids := func(url string) map[string]bool {
		t.Helper()
		rec := serveDirectory(s, ix, "GET /oruk/services", s.dir.ORUKServices, url)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", url, rec.Code, rec.Body)
		}
		var p struct {
			Contents []struct {
				ID string `json:"id"`
			} `json:"contents"`
		}
		json.Unmarshal(rec.Body.Bytes(), &p)
		out := map[string]bool{}
		for _, c := range p.Contents {
			out[c.ID] = true
		}
		return out
	}
	so14 := ids("/oruk/services?postcode=SO14+7DU&per_page=500")
	for id, want := range map[string]bool{"demo-tideway-idva": true, "national-da-helpline": true, "live-fear-free": false, "scotland-da-fm-helpline": false} {
		if so14[signpost.ORUKID(id)] != want {
			t.Errorf("postcode=SO14 7DU: %s listed %v, want %v", id, !want, want)
		}
	}
	if cf10 := ids("/oruk/services?postcode=CF10&per_page=500"); !cf10[signpost.ORUKID("live-fear-free")] || cf10[signpost.ORUKID("demo-tideway-idva")] {
		t.Errorf("postcode=CF10: %v", cf10)
	}
	if near := ids("/oruk/services?postcode=SO14+7DU&proximity=100&per_page=500"); len(near) >= len(so14) {
		t.Errorf("proximity=100 m lists %d, without it %d", len(near), len(so14))
	}
	for _, url := range []string{"/oruk/services?postcode=ZZ99", "/oruk/services?proximity=5000", "/oruk/services?day=MO", "/oruk/services?page=0", "/oruk/services?per_page=100000", "/oruk/services?full=maybe"} {
		if rec := serveDirectory(s, ix, "GET /oruk/services", s.dir.ORUKServices, url); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", url, rec.Code)
		}
	}
	for _, id := range []string{"nope", "unpublished-inactive", "unpublished-defunct", "unpublished-temporarily-closed", signpost.ORUKID("unpublished-inactive")} {
		if rec := serveDirectory(s, ix, "GET /oruk/services/{id}", s.dir.ORUKService, "/oruk/services/"+id); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", id, rec.Code)
		}
	}
	if n := count("/oruk/services?search=unpublished"); n != 0 {
		t.Errorf("search=unpublished lists %d", n)
	}
}

// termID finds the ORUK id of a service's category term as exported.
func termID(t *testing.T, ix *signpost.Index, id, term string) string {
	t.Helper()
	svc, ok := ix.Service(id)
	if !ok {
		t.Fatalf("no service %s", id)
	}
	var b strings.Builder
	if err := oruk.EncodeService(&b, svc); err != nil {
		t.Fatal(err)
	}
	var o struct {
		Attributes []struct {
			TaxonomyTerm struct {
				ID   string `json:"id"`
				Term string `json:"term"`
			} `json:"taxonomy_term"`
		} `json:"attributes"`
	}
	json.Unmarshal([]byte(b.String()), &o)
	for _, a := range o.Attributes {
		if a.TaxonomyTerm.Term == term {
			return a.TaxonomyTerm.ID
		}
	}
	t.Fatalf("%s has no term %s", id, term)
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestORUKAPIRoutes: the routes exist, without a session, only when
// WAYMARK_ORUK_API is on.
func TestORUKAPIRoutes(t *testing.T) {
	ix := orukIndex(t)
	for _, on := range []bool{true, false} {
		h := publicHandler(Deps{Logger: discard(), Registry: prometheus.NewRegistry(), ORUKAPI: on,
			Directory: func() *signpost.Index { return ix }})
		for _, path := range []string{"/oruk/services", "/oruk/services/national-da-helpline"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[on]; rec.Code != want {
				t.Errorf("ORUKAPI %v: GET %s = %d, want %d", on, path, rec.Code, want)
			}
		}
	}
}
