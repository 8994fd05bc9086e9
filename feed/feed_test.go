package feed

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://dir.example/api/v3":           "https://dir.example/api/v3",
		"https://dir.example/api/v3/":          "https://dir.example/api/v3",
		"https://dir.example/api/v3/services":  "https://dir.example/api/v3",
		"https://dir.example/services?page=2":  "https://dir.example",
		" http://127.0.0.1:8080/oruk/services": "http://127.0.0.1:8080/oruk",
	} {
		if got, err := Base(in); err != nil || got != want {
			t.Errorf("Base(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x/services", "dir.example/services", "https://"} {
		if _, err := Base(bad); !errors.Is(err, ErrFeed) {
			t.Errorf("Base(%q) = %v, want ErrFeed", bad, err)
		}
	}
}

func TestRedacted(t *testing.T) {
	if got := Redacted("https://user:s3cret@dir.example/api"); strings.Contains(got, "s3cret") || !strings.Contains(got, "dir.example/api") {
		t.Errorf("Redacted = %q", got)
	}
}

func TestParsePage(t *testing.T) {
	p, err := parsePage([]byte(`{"total_pages":3,"last_page":false,"contents":[{"id":"a"},{"id":7},{}]}`))
	if err != nil || len(p.ids) != 3 || p.ids[0] != "a" || p.ids[1] != "" || p.last || p.totalPages != 3 {
		t.Errorf("page = %+v, %v", p, err)
	}
	if p, err := parsePage([]byte(`{"content":[]}`)); err != nil || !p.last {
		t.Errorf("empty page = %+v, %v; want the last", p, err)
	}
	for _, bad := range []string{``, `<html>`, `[]`, `{"contents":{}}`, `{"total_items":3}`, `null`} {
		if _, err := parsePage([]byte(bad)); err == nil {
			t.Errorf("parsePage(%q) accepted", bad)
		}
	}
}

// A feed whose service answers hang is given up on at the timeout, with
// an error and no items.
func TestFetchTimesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services" {
			w.Write([]byte(`{"total_pages":1,"contents":[{"id":"x"}]}`))
			return
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	start := time.Now()
	res, err := (&Client{Timeout: 200 * time.Millisecond}).Fetch(context.Background(), srv.URL)
	if !errors.Is(err, ErrFeed) || len(res.Items) != 0 {
		t.Fatalf("Fetch = %+v, %v; want ErrFeed and nothing", res, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// A service that answers something that is not ORUK JSON (an HTML page
// behind a 200, an answer cut off) breaks the feed: an error and no items.
// A service whose JSON fails validation is one broken record.
func TestFetchGarbageServiceBreaksTheFeed(t *testing.T) {
	for _, tt := range []struct {
		answer string
		broken bool // the whole feed
	}{
		{"<html>Sign in</html>", true},
		{`{"id":"b","name":"B",`, true},
		{`{"contents":5}`, true},
		{`{"id":"b","status":"active"}`, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/services":
				w.Write([]byte(`{"total_pages":1,"contents":[{"id":"a"},{"id":"b"}]}`))
			case "/services/a":
				w.Write([]byte(`{"id":"a","name":"A","status":"active"}`))
			default:
				w.Write([]byte(tt.answer))
			}
		}))
		res, err := (&Client{}).Fetch(context.Background(), srv.URL)
		srv.Close()
		if tt.broken {
			if !errors.Is(err, ErrFeed) || len(res.Items) != 0 {
				t.Errorf("%q: Fetch = %+v, %v; want ErrFeed and nothing", tt.answer, res, err)
			}
			continue
		}
		if err != nil || len(res.Items) != 2 || res.Items[0].Err != nil || res.Items[1].Err == nil || res.Items[1].ID != "b" {
			t.Errorf("%q: Fetch = %+v, %v; want a, and b named broken", tt.answer, res, err)
		}
	}
}

// The official UK example, served as a one-page feed, comes back whole.
func TestFetchOfficialExample(t *testing.T) {
	full, err := os.ReadFile(filepath.Join("..", "signpost", "oruk", "testdata", "oruk", "uk-profile-3.0_service_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join("..", "signpost", "oruk", "testdata", "oruk", "uk-profile-3.0_service_list.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/services" && r.URL.Query().Get("page") == "1":
			// The example says it is page 1 of 10: say where it ends.
			w.Write([]byte(strings.Replace(string(list), `"last_page": false`, `"last_page": true`, 1)))
		case r.URL.Path == "/services/ac148810-d857-441c-9679-408f346de14b":
			w.Write(full)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	res, err := (&Client{}).Fetch(context.Background(), srv.URL+"/services")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].Err != nil || res.Items[0].Service.Name != "Community Counselling" || res.Pages != 1 {
		t.Errorf("Fetch = %+v", res)
	}
}

// An API that ignores page answers the same page for ever: the feed ends
// at the first page that brings nothing new, not after 10,000 requests.
func TestFetchStopsOnARepeatedPage(t *testing.T) {
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		if r.URL.Path == "/services" {
			w.Write([]byte(`{"contents":[{"id":"a"}]}`))
			return
		}
		w.Write([]byte(`{"id":"a","name":"A","status":"active"}`))
	}))
	defer srv.Close()
	res, err := (&Client{}).Fetch(context.Background(), srv.URL)
	if err != nil || len(res.Items) != 1 || res.Pages != 2 || requests != 3 {
		t.Errorf("Fetch = %d items, %d pages, %d requests, %v", len(res.Items), res.Pages, requests, err)
	}
}

func FuzzParsePage(f *testing.F) {
	for _, s := range []string{`{"contents":[{"id":"a"}],"last_page":true}`, `{"content":[],"total_pages":0}`, `{"total_pages":-1,"contents":[1,"x",null]}`, `<html>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePage(b)
		if err != nil {
			return
		}
		for _, id := range p.ids {
			if id != strings.TrimSpace(id) {
				t.Fatalf("id %q not trimmed", id)
			}
		}
	})
}
