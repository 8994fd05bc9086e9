package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"waymark/oncall"
	"waymark/problem"
	"waymark/staff"
	"waymark/wallclock"
)

// problemsOf reads the per-field problems of an error answer.
func problemsOf(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var e struct {
		Fields []struct{ Field, Problem string } `json:"fields"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		out[f.Field] = f.Problem
	}
	return out
}

// invalidOf is the per-field problems of a domain error, as the CLI
// prints them.
func invalidOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var inv *problem.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("the domain did not refuse with field problems: %v", err)
	}
	out := map[string]string{}
	for _, f := range inv.Fields {
		out[f.Name] = f.Problem
	}
	return out
}

// TestCoordinatorRoutes: a coordinator writes rotas and policies of their
// own team with exactly the rules and words of the CLI (the same domain
// calls), stays right across the clock changes, and reaches nothing
// outside their team; staff accounts likewise.
func TestCoordinatorRoutes(t *testing.T) {
	e := newOncallEnv(t)
	ctx := context.Background()
	cora := e.login(t, "cora", []staff.Role{staff.RoleCoordinator}, []string{"north"})
	e.login(t, "ana", []staff.Role{staff.RoleResponder}, []string{"north"})
	ben := e.login(t, "ben", []staff.Role{staff.RoleResponder}, []string{"north"})
	e.login(t, "sid", []staff.Role{staff.RoleResponder}, []string{"south"})

	// A rota through the API, read back across the October clock change.
	rota := oncall.RotaFile{Shifts: []oncall.ShiftFile{
		{Tier: "primary", Staff: "ana", Days: oncall.DayNames{"daily"}, Start: "09:00", End: "21:00"},
		{Tier: "primary", Staff: "ben", Days: oncall.DayNames{"daily"}, Start: "21:00", End: "09:00"},
	}}
	if st, body := e.do(t, cora, "PUT", "/v1/teams/north/rota", rota); st != http.StatusOK {
		t.Fatalf("PUT rota: %d %s", st, body)
	}
	for _, tc := range []struct{ at, want string }{
		{"2026-10-23T09:00", "ana"},       // BST
		{"2026-10-26T09:00", "ana"},       // GMT: the same wall-clock time
		{"2026-10-26T08:59:00Z", "ben"},   // 08:59 GMT
		{"2026-10-25T01:30+01:00", "ben"}, // the first 01:30
	} {
		who, err := e.oncall.Who(ctx, "north", mustLondon(t, tc.at))
		if err != nil {
			t.Fatal(err)
		}
		if got := who.Tiers[oncall.TierPrimary]; len(got) != 1 || got[0].ID != e.users[tc.want].ID {
			t.Errorf("primary at %s: %+v, want %s", tc.at, got, tc.want)
		}
	}
	before, _ := e.oncall.Rota(ctx, "north")

	// A bad rota: the CLI's words, field by field; nothing stored.
	bad := oncall.RotaFile{Shifts: []oncall.ShiftFile{{Tier: "primary", Staff: "nobody", Days: oncall.DayNames{"daily"}, Start: "25:00", End: "09:00"}}}
	st, body := e.do(t, cora, "PUT", "/v1/teams/north/rota", bad)
	_, _, cliErr := e.oncall.SetRota(ctx, "north", bad, "cli")
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("bad rota: %d %s", st, body)
	}
	if got, want := problemsOf(t, body), invalidOf(t, cliErr); !equalMaps(got, want) || len(got) < 2 {
		t.Errorf("bad rota's problems %v; want the CLI's %v", got, want)
	}
	if after, _ := e.oncall.Rota(ctx, "north"); after.Version != before.Version {
		t.Errorf("a refused rota changed the version from %d to %d", before.Version, after.Version)
	}

	// A policy that does not end in a human: the CLI's words.
	noFallback := oncall.PolicyFile{High: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{{Whom: []string{"oncall:primary"}, How: []string{"dashboard"}, Wait: "2m"}}}}
	st, body = e.do(t, cora, "PUT", "/v1/teams/north/policies", noFallback)
	_, cliErr = oncall.CompilePolicies(noFallback, "north", func(string) (string, string) { return "", "" })
	if got, want := problemsOf(t, body), invalidOf(t, cliErr); st != http.StatusUnprocessableEntity || !equalMaps(got, want) {
		t.Errorf("policy without fallback: %d %v; want 422 with the CLI's %v", st, got, want)
	}
	good := oncall.PolicyFile{High: &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
		{Whom: []string{"oncall:primary"}, How: []string{"dashboard"}, Wait: "2m"},
		{Whom: []string{"fallback"}, How: []string{"sms"}, Wait: "5m"},
	}}}
	if st, body := e.do(t, cora, "PUT", "/v1/teams/north/policies", good); st != http.StatusOK {
		t.Errorf("good policy: %d %s", st, body)
	}

	// Outside the coordinator's team, or without the role.
	for _, c := range []struct {
		who    *http.Client
		method string
		path   string
		body   any
		want   int
	}{
		{cora, "PUT", "/v1/teams/south/rota", rota, http.StatusNotFound},
		{cora, "PUT", "/v1/teams/south/policies", good, http.StatusNotFound},
		{ben, "PUT", "/v1/teams/north/rota", rota, http.StatusForbidden},
		{ben, "POST", "/v1/staff", map[string]any{"username": "x1", "roles": []string{"responder"}, "teams": []string{"north"}}, http.StatusForbidden},
	} {
		if st, body := e.do(t, c.who, c.method, c.path, c.body); st != c.want {
			t.Errorf("%s %s: %d %s; want %d", c.method, c.path, st, body, c.want)
		}
	}

	// Staff accounts.
	st, body = e.do(t, cora, "POST", "/v1/staff", map[string]any{"username": "eve", "roles": []string{"responder"}, "teams": []string{"south"}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(problemsOf(t, body)["teams"], "not one of yours") {
		t.Errorf("account in another team: %d %s", st, body)
	}
	st, body = e.do(t, cora, "POST", "/v1/staff", map[string]any{"username": "eve", "roles": []string{"admin"}, "teams": []string{"north"}})
	if st != http.StatusUnprocessableEntity || problemsOf(t, body)["roles"] == "" {
		t.Errorf("admin role from a coordinator: %d %s", st, body)
	}
	st, body = e.do(t, cora, "POST", "/v1/staff", map[string]any{"username": "e", "roles": []string{"wizard"}, "teams": []string{"north"}})
	_, _, cliErr = e.Staff.Add(ctx, staff.NewAccount{Username: "e", Roles: []staff.Role{"wizard"}, Teams: []string{"north"}})
	if got, want := problemsOf(t, body), invalidOf(t, cliErr); st != http.StatusUnprocessableEntity || !equalMaps(got, want) {
		t.Errorf("bad account: %d %v; want 422 with the CLI's %v", st, got, want)
	}
	st, body = e.do(t, cora, "POST", "/v1/staff", map[string]any{"username": "eve", "display_name": "Eve Evans", "roles": []string{"responder"}, "teams": []string{"north"}})
	var created struct {
		ID        string `json:"id"`
		SetupPath string `json:"setup_path"`
	}
	json.Unmarshal(body, &created)
	if st != http.StatusCreated || !strings.HasPrefix(created.SetupPath, "/setup#") {
		t.Fatalf("create eve: %d %s", st, body)
	}
	if st, body := e.do(t, cora, "POST", "/v1/staff", map[string]any{"username": "eve", "roles": []string{"responder"}, "teams": []string{"north"}}); st != http.StatusUnprocessableEntity || problemsOf(t, body)["username"] == "" {
		t.Errorf("duplicate username: %d %s", st, body)
	}
	sid, err := e.Store.StaffByUsername(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	if st, body := e.do(t, cora, "PATCH", "/v1/staff/"+sid.ID, map[string]any{"disabled": true}); st != http.StatusNotFound {
		t.Errorf("disable another team's account: %d %s; want 404", st, body)
	}
	if st, body := e.do(t, cora, "PATCH", "/v1/staff/"+e.users["cora"].ID, map[string]any{"disabled": true}); st != http.StatusUnprocessableEntity {
		t.Errorf("disable own account: %d %s; want 422", st, body)
	}
	// Disabling Ben ends his session.
	if st, body := e.do(t, cora, "PATCH", "/v1/staff/"+e.users["ben"].ID, map[string]any{"disabled": true}); st != http.StatusOK {
		t.Fatalf("disable ben: %d %s", st, body)
	}
	if st, _ := e.do(t, ben, "GET", "/v1/auth/me", nil); st != http.StatusUnauthorized {
		t.Errorf("ben's session after disabling: %d, want 401", st)
	}
	if st, body := e.do(t, cora, "PATCH", "/v1/staff/"+e.users["ben"].ID, map[string]any{"disabled": false, "roles": []string{"responder", "helpline"}}); st != http.StatusOK || !strings.Contains(string(body), `"helpline"`) || strings.Contains(string(body), `"disabled":true`) {
		t.Errorf("enable ben with a new role: %d %s", st, body)
	}
	// The coordinator's list holds their team's accounts only.
	_, body = e.do(t, cora, "GET", "/v1/staff", nil)
	if strings.Contains(string(body), `"sid"`) || !strings.Contains(string(body), `"eve"`) {
		t.Errorf("coordinator's list: %s", body)
	}
}

func equalMaps(a, b map[string]string) bool {
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

func mustLondon(t *testing.T, s string) (at time.Time) {
	t.Helper()
	at, bad := wallclock.ParseLondonTime(s)
	if bad != "" {
		t.Fatalf("%s: %s", s, bad)
	}
	return at
}
