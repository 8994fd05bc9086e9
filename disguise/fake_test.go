package disguise

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// call is one request the fake app API received, and its answer.
type call struct {
	Method, Path, Query, Auth string
	Body                      map[string]any
	Status                    int
	At                        time.Time // when the fake received it
}

func (c call) kind() string { s, _ := c.Body["kind"].(string); return s }
func (c call) str(k string) string {
	s, _ := c.Body[k].(string)
	return s
}

// fakeAPI is a hand-written fake of the app API (/v1/app/…), recording
// every request. It answers as the server's contract says: the same 202
// for every signal whatever its PIN, 401 for an unknown token, {"v":…}
// for open and find.
type fakeAPI struct {
	mu      sync.Mutex
	calls   []call
	codes   map[string]map[string]any // enrolment code → look
	tokens  map[string]bool
	pins    map[string]bool // PINs that open the settings
	down    bool            // answer 503 to everything but enrol
	changed chan struct{}   // closed and replaced on every request
	n       int
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{codes: map[string]map[string]any{}, tokens: map[string]bool{}, pins: map[string]bool{}, changed: make(chan struct{})}
}

func (f *fakeAPI) set(fn func(f *fakeAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// addCode makes code enrol a phone with the given look.
func (f *fakeAPI) addCode(code, kind, name, icon string) {
	f.set(func(f *fakeAPI) { f.codes[code] = map[string]any{"kind": kind, "name": name, "icon": icon} })
}

func (f *fakeAPI) snapshot() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// wait waits until cond holds over the calls so far, or fails t at the
// deadline. It wakes on every request, so it never sleeps.
func (f *fakeAPI) wait(t testing.TB, d time.Duration, what string, cond func([]call) bool) []call {
	t.Helper()
	deadline := time.After(d)
	for {
		f.mu.Lock()
		calls := append([]call(nil), f.calls...)
		ch := f.changed
		f.mu.Unlock()
		if cond(calls) {
			return calls
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: not within %v; the fake got %s", what, d, describe(calls))
		}
	}
}

// within is wait without failing: whether cond held within d.
func (f *fakeAPI) within(d time.Duration, cond func([]call) bool) bool {
	deadline := time.After(d)
	for {
		f.mu.Lock()
		calls := append([]call(nil), f.calls...)
		ch := f.changed
		f.mu.Unlock()
		if cond(calls) {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

func describe(calls []call) string {
	var b strings.Builder
	for _, c := range calls {
		j, _ := json.Marshal(c.Body)
		b.WriteString("\n  " + c.Method + " " + c.Path + " " + c.Query + " " + string(j) + " → " + http.StatusText(c.Status))
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}

// signals returns the signal requests the fake accepted.
func signals(calls []call, kind string) []call {
	var out []call
	for _, c := range calls {
		if c.Path == "/v1/app/signal" && c.Status == http.StatusAccepted && (kind == "" || c.kind() == kind) {
			out = append(out, c)
		}
	}
	return out
}

func v(x any) map[string]string {
	b, _ := json.Marshal(x)
	return map[string]string{"v": Veil(b)}
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	json.Unmarshal(raw, &body)
	f.mu.Lock()
	status, answer := f.answer(r, body)
	f.calls = append(f.calls, call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body, Status: status, At: time.Now()})
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(answer)
}

// answer decides the fake's reply; f.mu is held.
func (f *fakeAPI) answer(r *http.Request, body map[string]any) (int, any) {
	notFound := map[string]string{"error": "not found"}
	ok := map[string]string{"status": "ok"}
	route := r.Method + " " + r.URL.Path
	if route == "POST /v1/app/enrol" {
		code, _ := body["code"].(string)
		look, found := f.codes[code]
		if !found {
			return http.StatusNotFound, notFound
		}
		delete(f.codes, code)
		f.n++
		tok := "tok" + strings.Repeat("x", f.n) + code
		f.tokens[tok] = true
		return http.StatusOK, map[string]any{"token": tok, "device_id": "dev" + code, "look": look}
	}
	if !f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		return http.StatusUnauthorized, map[string]string{"error": "unauthorized"}
	}
	if f.down {
		return http.StatusServiceUnavailable, map[string]string{"error": "try later"}
	}
	pin, _ := body["pin"].(string)
	switch route {
	case "POST /v1/app/signal", "PUT /v1/app/checkins", "DELETE /v1/app/checkins":
		return http.StatusAccepted, ok
	case "POST /v1/app/open":
		if f.pins[pin] {
			return http.StatusOK, v(map[string]any{"ok": true, "every_minutes": 120, "times": []string{}, "grace_minutes": 15, "window_s": 30})
		}
		return http.StatusOK, v(map[string]any{"ok": false})
	case "DELETE /v1/app/device":
		delete(f.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		return http.StatusAccepted, ok
	case "GET /v1/app/find":
		return http.StatusOK, v(map[string]any{
			"categories": []map[string]string{{"id": "dv", "label": "Domestic abuse"}, {"id": "housing", "label": "Housing"}},
			"services": []map[string]any{
				{"id": "s1", "name": "Harbour Outreach", "description": "Advice and a refuge referral, 9 to 5.", "phone": "023 8000 0001", "url": "https://harbour.example", "distance_km": 1.24, "open_now": true, "categories": []string{"dv"}},
				{"id": "s2", "name": "Nightline", "description": "Listening line.", "phone": "0800 000 002", "url": "", "open_now": false, "categories": []string{"dv"}},
			},
		})
	}
	return http.StatusNotFound, notFound
}

// newServer serves Handler and the fake API on one loopback origin, as
// the app listener will.
func newServer(t *testing.T) (*httptest.Server, *fakeAPI) {
	t.Helper()
	api := newFakeAPI()
	mux := http.NewServeMux()
	mux.Handle("/v1/app/", api)
	mux.Handle("/", Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, api
}
