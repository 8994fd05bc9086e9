package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"waymark/postcode"
	"waymark/signpost"
	"waymark/signpost/oruk"
)

// directoryServer builds just enough of a server for the directory
// handlers, around an index of the seeds plus a refuge given an address.
func directoryServer(t *testing.T) (*server, *signpost.Index) {
	t.Helper()
	seed, err := oruk.Seed()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := oruk.DemoSeed()
	if err != nil {
		t.Fatal(err)
	}
	refuge := signpost.Service{
		ID: "hidden-refuge", Name: "Hidden Refuge", ConfidentialAddress: true,
		Categories: []signpost.Category{signpost.CategoryRefuge}, Gateway: &signpost.Gateway{Phone: "0808 157 0999"},
		Locations: []signpost.Location{{Name: "Secret House", District: "SO14",
			Point:   &postcode.Point{Lat: 50.9087123, Lon: -1.4041123},
			Address: &signpost.Address{Line1: "99 Secret Lane", PostalCode: "SO14 7DU"}}},
	}
	pc, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		t.Fatal(err)
	}
	ix := signpost.NewIndex(append(append(seed, demo...), refuge), pc, hol)
	s := newServer(Deps{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC) }})
	return s, ix
}

func serveDirectory(s *server, ix *signpost.Index, pattern string, h func(func() *signpost.Index) http.Handler, url string) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.Handle(pattern, h(func() *signpost.Index { return ix }))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	return rec
}

func TestDirectorySearchHTTP(t *testing.T) {
	s, ix := directoryServer(t)
	rec := serveDirectory(s, ix, "GET /v1/directory/search", s.dir.Search, "/v1/directory/search?near=SO14+7DU&category=refuge")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var res signpost.Results
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range res.Results {
		if r.ID == "hidden-refuge" {
			found = true
			if r.DistanceKm != nil || r.Gateway == nil {
				t.Errorf("confidential result %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("refuge not in results: %s", rec.Body)
	}
	for _, leak := range []string{"Secret", "99 Secret", "SO14 7DU", "50.9087", "-1.4041"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("search JSON contains %q", leak)
		}
	}
}

func TestDirectorySearchBadParameters(t *testing.T) {
	s, ix := directoryServer(t)
	rec := serveDirectory(s, ix, "GET /v1/directory/search", s.dir.Search, "/v1/directory/search?near=nowhere&radius_km=500&limit=0&open_now=perhaps")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range body.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "limit,near,open_now,radius_km" {
		t.Errorf("fields %q", got)
	}
	if strings.Contains(rec.Body.String(), "nowhere") {
		t.Errorf("error repeats the input: %s", rec.Body)
	}
}

func TestDirectoryServiceHTTP(t *testing.T) {
	s, ix := directoryServer(t)
	rec := serveDirectory(s, ix, "GET /v1/directory/services/{id}", s.dir.Service, "/v1/directory/services/hidden-refuge")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	for _, leak := range []string{"Secret", "99 Secret", "SO14 7DU", "50.9087", "addresses", "latitude"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("service JSON contains %q: %s", leak, rec.Body)
		}
	}
	items, err := oruk.Decode(rec.Body)
	if err != nil || len(items) != 1 || items[0].Err != nil || items[0].ID != "hidden-refuge" {
		t.Errorf("service JSON does not read back as ORUK: %v %+v", err, items)
	}
	// By its ORUK id too, as the export names it.
	rec = serveDirectory(s, ix, "GET /v1/directory/services/{id}", s.dir.Service, "/v1/directory/services/"+signpost.ORUKID("hidden-refuge"))
	if rec.Code != http.StatusOK {
		t.Errorf("by ORUK id: status %d", rec.Code)
	}
	rec = serveDirectory(s, ix, "GET /v1/directory/services/{id}", s.dir.Service, "/v1/directory/services/nope")
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown service: status %d", rec.Code)
	}
}

func TestDirectoryNotReadyAndAccess(t *testing.T) {
	s, _ := directoryServer(t)
	for _, h := range []http.Handler{s.dir.Search(nil), s.dir.Service(func() *signpost.Index { return nil })} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/directory/search?near=SO14", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("no index: status %d", rec.Code)
		}
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	rec := httptest.NewRecorder()
	s.directoryAccess(true)(ok).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/directory/search", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("public directory: status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	s.directoryAccess(false)(ok).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/directory/search", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("private directory without a session: status %d", rec.Code)
	}
}
