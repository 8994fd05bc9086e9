package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"waymark/problem"
	"waymark/server/respond"
)

func TestHealthAndReadiness(t *testing.T) {
	var down error
	hs := Listeners(Deps{Ready: func(context.Context) error { return down }})
	h := hs.Public
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	if w := get("/healthz"); w.Code != 200 {
		t.Errorf("healthz = %d", w.Code)
	}
	if w := get("/readyz"); w.Code != 200 {
		t.Errorf("readyz up = %d", w.Code)
	}
	down = fmt.Errorf("store: ping: %w", problem.ErrUnavailable)
	if w := get("/readyz"); w.Code != 503 {
		t.Errorf("readyz down = %d, want 503", w.Code)
	}
	if w := get("/healthz"); w.Code != 200 {
		t.Errorf("healthz while redis down = %d, want 200", w.Code)
	}
	if w := get("/metrics"); w.Code != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404: it is the operator listener's", w.Code)
	}
	w := httptest.NewRecorder()
	hs.Operator.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "waymark_http_requests_total") {
		t.Errorf("operator /metrics = %d, missing waymark_http_requests_total", w.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := publicHandler(Deps{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", w.Header().Get("Content-Security-Policy"))
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
}

type sample struct {
	Kind  string   `json:"kind" validate:"required,oneof=panic message"`
	Count int      `json:"count" validate:"gte=0,lte=5"`
	Lat   *float64 `json:"lat" validate:"omitempty,latitude"`
}

func TestDecode(t *testing.T) {
	srv := newServer(Deps{Logger: discard()})
	for _, tc := range []struct {
		name   string
		body   string
		fields []problem.Field
		err    error
	}{
		{"ok", `{"kind":"panic","count":1}`, nil, nil},
		{"unknown field", `{"kind":"panic","pin":"1234"}`, []problem.Field{{Name: "pin", Problem: "unknown field"}}, nil},
		{"malformed", `{"kind":`, []problem.Field{{Name: "body", Problem: "malformed JSON"}}, nil},
		{"empty", ``, []problem.Field{{Name: "body", Problem: "must not be empty"}}, nil},
		{"two objects", `{"kind":"panic"}{}`, []problem.Field{{Name: "body", Problem: "must hold a single JSON object"}}, nil},
		{"wrong type", `{"kind":"panic","count":"x"}`, []problem.Field{{Name: "count", Problem: "must be a whole number"}}, nil},
		{"rules", `{"kind":"dance","count":9,"lat":100}`, []problem.Field{
			{Name: "count", Problem: "must be at most 5"},
			{Name: "kind", Problem: "must be one of: panic, message"},
			{Name: "lat", Problem: "must be a latitude between -90 and 90"},
		}, nil},
		{"too large", `{"kind":"` + strings.Repeat("a", respond.MaxJSONBody) + `"}`, nil, problem.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var v sample
			err := srv.decode(w, r, &v)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			var got []problem.Field
			var inv *problem.Invalid
			if errors.As(err, &inv) {
				got = inv.Fields
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tc.fields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	s := newServer(Deps{Logger: discard()})
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{problem.Invalidf("kind", "is required"), 422, "invalid request"},
		{fmt.Errorf("alert: %w", problem.ErrNotFound), 404, "not found"},
		{&problem.Claimed{By: "Sam"}, 409, "already claimed"},
		{fmt.Errorf("x: %w", problem.ErrUnauthorized), 401, "unauthorized"},
		{fmt.Errorf("x: %w", problem.ErrForbidden), 403, "forbidden"},
		{fmt.Errorf("x: %w", problem.ErrUnavailable), 503, "service unavailable"},
		{problem.ErrTooLarge, 413, "request body too large"},
		{errors.New("store: load case c_x: secret detail"), 500, "internal error"},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/v1/x", nil)
		s.error(w, r, tc.err)
		var body errorBody
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tc.status || body.Error != tc.msg {
			t.Errorf("%v → %d %q, want %d %q", tc.err, w.Code, body.Error, tc.status, tc.msg)
		}
		if strings.Contains(w.Body.String(), "secret detail") {
			t.Errorf("internal error text reached the client: %s", w.Body)
		}
	}
}
