package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/config"
	"waymark/internal/testenv"
	"waymark/signpost"
	"waymark/signpost/oruk"
	"waymark/store"
)

// fakeFeed is another directory's ORUK API serving the official examples
// over pages, with faults to order.
type fakeFeed struct {
	mu       sync.Mutex
	pages    [][]string        // ids per page
	services map[string]string // id -> full record
	fail     map[string]string // path -> "500", "garbage" or "hang"
}

func (f *fakeFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.URL.Path
	if r.URL.Path == "/api/services" {
		key += "?page=" + r.URL.Query().Get("page")
	}
	switch f.fail[key] {
	case "500":
		http.Error(w, "upstream broke", http.StatusInternalServerError)
		return
	case "garbage":
		w.Write([]byte("<html>not json</html>"))
		return
	case "hang":
		f.mu.Unlock()
		<-r.Context().Done() // held until the client gives up
		f.mu.Lock()
		return
	}
	if r.URL.Path == "/api/services" {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if n < 1 || n > len(f.pages) {
			json.NewEncoder(w).Encode(map[string]any{"total_items": 0, "total_pages": len(f.pages), "page_number": n, "contents": []any{}})
			return
		}
		var items []json.RawMessage
		for _, id := range f.pages[n-1] {
			items = append(items, json.RawMessage(`{"id":"`+id+`","name":"listed"}`))
		}
		json.NewEncoder(w).Encode(map[string]any{"total_items": 3, "total_pages": len(f.pages), "page_number": n,
			"first_page": n == 1, "last_page": n == len(f.pages), "contents": items})
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/api/services/")
	rec, ok := f.services[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(rec))
}

func (f *fakeFeed) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

const (
	ukID   = "ac148810-d857-441c-9679-408f346de14b"
	hsdsID = "0f5a3c59-5b0a-4b53-8a8e-6a2bdc7f0c11" // HSDS's example shares the UK one's id
	badID  = "6c1e3f1a-2a41-4a43-9d1c-8b7e0c4c2d55"
)

func exampleJSON(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "signpost", "oruk", "testdata", "oruk", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDirectorySync pulls a local ORUK API serving the official UK and
// HSDS 3.0 examples over two pages, then the same feed again, then feeds
// that fail halfway (a 500, garbage, a timeout), then a feed that changed:
// one service renamed, one gone, one broken record.
func TestDirectorySync(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"

	f := &fakeFeed{
		pages: [][]string{{ukID}, {hsdsID}},
		services: map[string]string{
			ukID:   exampleJSON(t, "uk-profile-3.0_service_full.json"),
			hsdsID: strings.ReplaceAll(exampleJSON(t, "hsds-3.0_service_full.json"), ukID, hsdsID),
		},
		fail: map[string]string{},
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	feedURL := srv.URL + "/api/services"

	out, errOut, err := directoryRun(t, env, "", "sync", feedURL)
	if err != nil {
		t.Fatalf("sync: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "2 pages; 2 added, 0 changed, 0 unchanged, 0 retired; rejected 0, skipped 0") ||
		!strings.Contains(out, "added    record (id "+hsdsID+")") {
		t.Errorf("first sync report:\n%s", out)
	}
	// The first sync into an empty directory brings the national lines too.
	if want := fmt.Sprintf("national services: %d shipped, %d brought up to date", len(nationalSeed(t)), len(nationalSeed(t))); !strings.Contains(out, want) {
		t.Errorf("first sync report lacks %q:\n%s", want, out)
	}
	// HSDS's extras it cannot keep are named, not silently lost.
	if !strings.Contains(out, "program: programs are not kept") {
		t.Errorf("first sync does not name the dropped fields:\n%s", out)
	}
	st := openTestStore(t, env)
	before := directoryState(t, st)
	if len(before) != 2 {
		t.Fatalf("stored %d services after the first sync, want 2", len(before))
	}

	out, _, err = directoryRun(t, env, "", "sync", srv.URL+"/api")
	if err != nil || !strings.Contains(out, "0 added, 0 changed, 2 unchanged, 0 retired") {
		t.Errorf("second sync: %v\n%s", err, out)
	}

	for _, fault := range []struct{ path, kind string }{
		{"/api/services?page=2", "500"},
		{"/api/services?page=2", "garbage"},
		{"/api/services/" + hsdsID, "hang"},
		{"/api/services/" + hsdsID, "500"},
		{"/api/services/" + hsdsID, "garbage"},
		{"/api/services?page=1", "hang"},
	} {
		f.set(func() {
			f.fail = map[string]string{fault.path: fault.kind}
			f.services[ukID] = strings.Replace(f.services[ukID], `"Community Counselling"`, `"Renamed Counselling"`, 1)
		})
		out, _, err := directoryRun(t, env, "", "sync", "--timeout", "300ms", feedURL)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "nothing changed") {
			t.Errorf("%s %s: %v\n%s", fault.path, fault.kind, err, out)
		}
		if after := directoryState(t, st); !mapsEqual(before, after) {
			t.Errorf("%s %s changed the directory", fault.path, fault.kind)
		}
	}

	// The feed changed: the UK service renamed, HSDS's gone, a broken
	// record listed, and a shipped national line with another number. The
	// broken one is named, the national one skipped; the rest applies.
	national := nationalSeed(t)
	var dah signpost.Service
	for _, s := range national {
		if s.ID == "national-da-helpline" {
			dah = s
		}
	}
	shippedNumber := dah.Phones[0].Number
	dah.Phones = []signpost.Phone{{Number: "0808 157 0996", Type: signpost.PhoneVoice}}
	var dahJSON strings.Builder
	if err := oruk.EncodeService(&dahJSON, dah); err != nil {
		t.Fatal(err)
	}
	dahID := signpost.ORUKID("national-da-helpline")
	// Another national line as a directory that re-publishes it without
	// Waymark's extension would: by its ORUK id alone.
	var sam signpost.Service
	for _, s := range national {
		if s.ID == "samaritans" {
			sam = s
		}
	}
	var samJSON strings.Builder
	if err := oruk.EncodeService(&samJSON, sam); err != nil {
		t.Fatal(err)
	}
	var samMap map[string]any
	if err := json.Unmarshal([]byte(samJSON.String()), &samMap); err != nil {
		t.Fatal(err)
	}
	delete(samMap, "x_waymark")
	samPlain, _ := json.Marshal(samMap)
	samID := signpost.ORUKID("samaritans")
	f.set(func() {
		f.fail = map[string]string{}
		f.pages = [][]string{{ukID, dahID}, {badID, samID}}
		f.services[badID] = `{"id":"` + badID + `","status":"active"}`
		f.services[dahID] = dahJSON.String()
		f.services[samID] = string(samPlain)
	})
	out, _, err = directoryRun(t, env, "", "sync", feedURL)
	if exitCode(err) != 1 {
		t.Errorf("sync with a broken record: %v", err)
	}
	for _, want := range []string{
		"rejected record (id " + badID + "): name: required",
		"changed  record (id " + ukID + ")",
		"retired  record (id " + hsdsID + ")",
		"skipped  record (id national-da-helpline): a shipped national service, kept as shipped",
		"skipped  record (id " + samID + "): a shipped national service, kept as shipped",
		"0 added, 1 changed, 0 unchanged, 1 retired; rejected 1, skipped 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("changed-feed report lacks %q:\n%s", want, out)
		}
	}
	after := directoryState(t, st)
	if len(after) != 1 || !strings.Contains(after[ukID], "Renamed Counselling") {
		t.Errorf("after the changed feed: %v", after)
	}
	// No sync removed or changed a national line.
	stored, _, err := st.LoadDirectory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, s := range stored {
		if s.ID == "national-da-helpline" && s.Phones[0].Number != shippedNumber {
			t.Errorf("a feed changed a national line's number to %s", s.Phones[0].Number)
		}
		if s.National() && s.Feed == "" {
			kept++
		}
	}
	if kept != len(national) {
		t.Errorf("%d national lines after the syncs, want %d", kept, len(national))
	}
}

// TestScheduledDirectorySync: serve's scheduled sync pulls at once, then on
// every tick, and a failing feed on a tick changes nothing.
func TestScheduledDirectorySync(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example"
	f := &fakeFeed{
		pages:    [][]string{{ukID}},
		services: map[string]string{ukID: exampleJSON(t, "uk-profile-3.0_service_full.json")},
		fail:     map[string]string{},
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := buildApp(ctx, cfg, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ticks := make(chan time.Time)
	type outcome struct {
		rep syncReport
		err error
	}
	outcomes := make(chan outcome)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		runDirectorySync(ctx, a, srv.URL+"/api", ticks, func(rep syncReport, err error) { outcomes <- outcome{rep, err} })
	}()
	defer func() { cancel(); <-stopped }()

	if o := <-outcomes; o.err != nil || o.rep.added != 1 {
		t.Fatalf("first pull: %+v %v", o.rep, o.err)
	}
	f.set(func() { f.fail["/api/services?page=1"] = "500" })
	ticks <- time.Now()
	if o := <-outcomes; o.err == nil {
		t.Errorf("a failing feed synced: %+v", o.rep)
	}
	if got := directoryState(t, a.store.Directory); len(got) != 1 {
		t.Errorf("a failing feed changed the directory: %d services", len(got))
	}
	f.set(func() {
		f.fail = map[string]string{}
		f.services[ukID] = strings.Replace(f.services[ukID], `"Community Counselling"`, `"Renamed Counselling"`, 1)
	})
	ticks <- time.Now()
	if o := <-outcomes; o.err != nil || o.rep.changed != 1 {
		t.Errorf("tick after the feed changed: %+v %v", o.rep, o.err)
	}
}

func nationalSeed(t *testing.T) []signpost.Service {
	t.Helper()
	national, err := oruk.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return national
}

func openTestStore(t *testing.T, env map[string]string) *store.Directory {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(context.Background(), cfg, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return a.store.Directory
}

// directoryState is the stored services by id (as JSON), shipped
// national services left out.
func directoryState(t *testing.T, st *store.Directory) map[string]string {
	t.Helper()
	services, _, err := st.LoadDirectory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	national, _, _ := nationalIDs()
	out := map[string]string{}
	for _, s := range services {
		if national[s.ID] {
			continue
		}
		b, _ := json.Marshal(s)
		out[s.ID] = string(b)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
