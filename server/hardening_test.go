package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"waymark/alert"
	"waymark/problem"
	"waymark/push"
	"waymark/staff"
)

// TestRouterErrorsAreJSON: the router's own 404 and 405 answer as every
// other error does, JSON {error, request_id}, and are never cached.
func TestRouterErrorsAreJSON(t *testing.T) {
	h := publicHandler(Deps{})
	for _, tc := range []struct {
		method, path string
		status       int
		error, allow string
	}{
		{"GET", "/no/such/path", http.StatusNotFound, "not found", ""},
		{"GET", "/v1/nothing", http.StatusNotFound, "not found", ""},
		{"PUT", "/v1/auth/login", http.StatusMethodNotAllowed, "method not allowed", "POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", w.Body, err)
			}
			hd := w.Header()
			if w.Code != tc.status || body.Error != tc.error || body.RequestID == "" || body.RequestID != hd.Get("X-Request-Id") {
				t.Errorf("= %d %+v, want %d %q with the request id", w.Code, body, tc.status, tc.error)
			}
			if ct := hd.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := hd.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if got := hd.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

// TestMetricsNotCached: the operator listener's /metrics is never cached.
func TestMetricsNotCached(t *testing.T) {
	w := httptest.NewRecorder()
	Listeners(Deps{}).Operator.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("GET /metrics = %d, Cache-Control %q; want 200, no-store", w.Code, w.Header().Get("Cache-Control"))
	}
}

// TestJSONBodyNeedsJSONType: a JSON body labelled anything but
// application/json (text/plain is what a cross-site form or a fetch
// without preflight sends) is refused with 415 before it is read.
func TestJSONBodyNeedsJSONType(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	body := []byte(`{"alias":"Heron"}`)
	for _, tc := range []struct {
		contentType string
		status      int
	}{
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/plain;charset=UTF-8", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType},
		{"application/json; charset=utf-8", http.StatusUnprocessableEntity},
		{"application/json", http.StatusUnprocessableEntity},
	} {
		status, _, got := env.call(t, cw, "POST", "/v1/cases", body, "Content-Type", tc.contentType)
		var eb errorBody
		json.Unmarshal(got, &eb)
		if status != tc.status || eb.RequestID == "" {
			t.Errorf("Content-Type %q: %d %s, want %d", tc.contentType, status, got, tc.status)
		}
		if tc.status == http.StatusUnsupportedMediaType && eb.Error != "unsupported media type" {
			t.Errorf("Content-Type %q: error %q", tc.contentType, eb.Error)
		}
	}
}

// TestRevealOtherTeamIs404: revealing another team's case answers exactly
// as revealing a case that does not exist (docs/roles.md), so the answer
// says nothing about other teams' cases.
func TestRevealOtherTeamIs404(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	status, _, body := env.call(t, cw, "POST", "/v1/cases", caseBody())
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	id, _ := caseJSON(t, body)["id"].(string)
	reason := map[string]string{"reason": "calling back after the alert"}
	other := env.login(t, "nell", []staff.Role{staff.RoleCaseworker}, []string{"north"})
	otherResponder := env.login(t, "nora", []staff.Role{staff.RoleResponder}, []string{"north"})
	missingID := id[:len(id)-1] + map[bool]string{true: "b", false: "a"}[id[len(id)-1] == 'a']
	missing, _, want := env.call(t, other, "POST", "/v1/cases/"+missingID+"/reveal", reason)
	if missing != http.StatusNotFound {
		t.Fatalf("reveal of a missing case = %d %s", missing, want)
	}
	for name, c := range map[string]*http.Client{"caseworker": other, "responder": otherResponder} {
		status, _, got := env.call(t, c, "POST", "/v1/cases/"+id+"/reveal", reason)
		var a, b errorBody
		json.Unmarshal(got, &a)
		json.Unmarshal(want, &b)
		if status != missing || a.Error != b.Error {
			t.Errorf("other team's %s: reveal = %d %s, want %d %s as for a missing case", name, status, got, missing, want)
		}
	}
}

// TestSocketRefusalIsJSON: a refused WebSocket handshake answers with the
// usual error body (here a hub that is not running: 503).
func TestSocketRefusalIsJSON(t *testing.T) {
	hub, err := push.New(push.Options{Stream: nopStream{}, Auth: nopAuth{}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	publicHandler(Deps{Hub: hub}).ServeHTTP(w, httptest.NewRequest("GET", "/v1/ws", nil))
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusServiceUnavailable || body.RequestID == "" {
		t.Errorf("GET /v1/ws on a stopped hub = %d %q, want 503 with the error body", w.Code, w.Body)
	}
}

// nopStream and nopAuth let a hub be built that is never run.
type nopStream struct{}

func (nopStream) Tail(context.Context, string, time.Duration, int) ([]alert.Event, error) {
	return nil, nil
}
func (nopStream) Range(context.Context, string, int) ([]alert.Event, error) { return nil, nil }
func (nopStream) Bounds(context.Context) (string, string, error)            { return "0-0", "0-0", nil }

type nopAuth struct{}

func (nopAuth) Redeem(context.Context, string) (*staff.Principal, time.Time, error) {
	return nil, time.Time{}, problem.ErrUnauthorized
}
func (nopAuth) Check(context.Context, *staff.Principal) (time.Time, error) {
	return time.Time{}, problem.ErrUnauthorized
}
