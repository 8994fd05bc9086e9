package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"waymark/alert"
	"waymark/casework"
	"waymark/oncall"
	"waymark/problem"
	"waymark/staff"
)

// testPeople looks staff up in the store, for the on-call service.
type testPeople struct {
	st    *testStore
	staff *staff.Service
}

func (p testPeople) Person(ctx context.Context, ref string) (oncall.Person, error) {
	a, err := p.st.StaffByID(ctx, ref)
	if err != nil && (errors.Is(err, problem.ErrNotFound) || !strings.HasPrefix(ref, "s_")) {
		a, err = p.st.StaffByUsername(ctx, staff.NormalizeUsername(ref))
	}
	if err != nil {
		return oncall.Person{}, err
	}
	return oncall.Person{ID: a.ID, Username: a.Username, Name: a.DisplayName, Roles: a.Roles, Teams: a.Teams, Active: !a.Disabled, Phone: a.Phone}, nil
}

func (p testPeople) TeamPeople(ctx context.Context, team string) ([]oncall.Person, error) {
	all, err := p.st.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	var out []oncall.Person
	for _, a := range all {
		if slices.Contains(a.Teams, team) {
			out = append(out, oncall.Person{ID: a.ID, Username: a.Username, Roles: a.Roles, Teams: a.Teams, Active: !a.Disabled})
		}
	}
	return out, nil
}

func (p testPeople) HasTeam(ctx context.Context, team string) (bool, error) {
	_, err := p.staff.Team(ctx, team)
	return err == nil, nil
}

// oncallEnv is the HTTP server with the on-call service and an alert
// service with paging wired (nobody is paged: there is no pager).
type oncallEnv struct {
	*testEnv
	srv    *httptest.Server
	oncall *oncall.OnCall
	alerts *alert.Service
}

func newOncallEnv(t *testing.T) *oncallEnv {
	env := newTestEnv(t)
	people := testPeople{st: env.Store, staff: env.Staff}
	oc := oncall.NewOnCall(env.Store, people, nil, oncall.Fallback{}, env.Clock.Now)
	svc := alert.NewService(env.Store, casework.NewSource(env.Cases), alert.Config{TriageTeam: "north",
		Escalation: &alert.EscalationDeps{Rotas: env.Store, People: people, Receipts: env.Store}},
		env.Clock.Now, discard())
	h := publicHandler(Deps{Logger: discard(), Now: env.Clock.Now, Staff: env.Staff, Cases: env.Cases, Alerts: svc, OnCall: oc})
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return &oncallEnv{testEnv: env, srv: srv, oncall: oc, alerts: svc}
}

func (e *oncallEnv) do(t *testing.T, c *http.Client, method, path string, body any) (int, []byte) {
	t.Helper()
	saved := e.Server
	e.Server = e.srv
	defer func() { e.Server = saved }()
	st, _, b := e.call(t, c, method, path, body)
	return st, b
}

func TestOncallRoutes(t *testing.T) {
	e := newOncallEnv(t)
	ana := e.login(t, "ana", []staff.Role{staff.RoleResponder}, []string{"north"})
	e.login(t, "ben", []staff.Role{staff.RoleResponder}, []string{"north"})
	outsider := e.login(t, "ozzy", []staff.Role{staff.RoleResponder}, []string{"south"})
	ctx := context.Background()
	_, _, err := e.oncall.SetRota(ctx, "north", oncall.RotaFile{Shifts: []oncall.ShiftFile{
		{Tier: "primary", Staff: "ana", Days: oncall.DayNames{"daily"}, Start: "09:00", End: "21:00"},
		{Tier: "primary", Staff: "ben", Days: oncall.DayNames{"daily"}, Start: "21:00", End: "09:00"},
		{Tier: "duty-manager", Staff: "ben", Days: oncall.DayNames{"weekdays"}, Start: "09:00", End: "17:00"},
	}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at, want string
	}{
		{"2026-10-23T09:00", "ana"},       // BST
		{"2026-10-26T09:00", "ana"},       // GMT: the same wall-clock time
		{"2026-10-26T08:59:00Z", "ben"},   // 08:59 GMT
		{"2027-03-29T08:00:00Z", "ana"},   // 09:00 BST
		{"2027-03-29T07:59:00Z", "ben"},   // 08:59 BST
		{"2026-10-25T01:30+01:00", "ben"}, // the first 01:30
	} {
		st, body := e.do(t, ana, "GET", "/v1/teams/north/oncall?at="+strings.ReplaceAll(tc.at, "+", "%2B"), nil)
		if st != 200 {
			t.Fatalf("oncall at %s = %d %s", tc.at, st, body)
		}
		var who oncall.WhoIsOn
		json.Unmarshal(body, &who)
		if p := who.Tiers[oncall.TierPrimary]; len(p) != 1 || p[0].Name != tc.want && !strings.Contains(p[0].Name, tc.want) {
			t.Errorf("primary at %s = %+v, want %s", tc.at, p, tc.want)
		}
	}
	if st, _ := e.do(t, ana, "GET", "/v1/teams/north/oncall?at=2027-03-28T01:30", nil); st != 422 {
		t.Errorf("a time the clocks skip = %d, want 422", st)
	}
	if st, _ := e.do(t, outsider, "GET", "/v1/teams/north/oncall", nil); st != 404 {
		t.Errorf("another team's rota = %d, want 404", st)
	}
	st, body := e.do(t, ana, "GET", "/v1/teams/north/gaps?days=3", nil)
	if st != 200 {
		t.Fatalf("gaps = %d %s", st, body)
	}
	var g struct{ Gaps []oncall.Gap }
	json.Unmarshal(body, &g)
	if len(g.Gaps) != 0 {
		t.Errorf("a round-the-clock primary tier has gaps %v", g.Gaps)
	}
	if st, _ := e.do(t, ana, "GET", "/v1/teams/north/gaps?days=0", nil); st != 422 {
		t.Errorf("days=0 = %d, want 422", st)
	}
	if st, body := e.do(t, ana, "GET", "/v1/teams/north/policies", nil); st != 200 || !strings.Contains(string(body), "fallback") {
		t.Errorf("policies = %d %s", st, body)
	}
}

func TestHandoverRoute(t *testing.T) {
	e := newOncallEnv(t)
	ana := e.login(t, "ana", []staff.Role{staff.RoleResponder}, []string{"north"})
	e.login(t, "ben", []staff.Role{staff.RoleResponder}, []string{"north"})
	ctx := context.Background()
	var ids []string
	for i := range 2 {
		res, err := e.alerts.Raise(ctx, alert.Signal{Source: alert.SourceSMS, Kind: alert.KindPanic, Team: "north",
			DedupeKey: "sms:" + string(rune('a'+i)), At: e.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.AlertID)
		if st, body := e.do(t, ana, "POST", "/v1/alerts/"+res.AlertID+"/ack", nil); st != 200 && st != 204 {
			t.Fatalf("ack = %d %s", st, body)
		}
	}
	st, body := e.do(t, ana, "POST", "/v1/handover", map[string]any{"handovers": []map[string]string{{"alert": ids[0], "to": "ben", "note": ""}}})
	if st != 422 || !strings.Contains(string(body), "handovers[0].note") && !strings.Contains(string(body), "note") {
		t.Errorf("hand-over without a note = %d %s, want 422 naming the note", st, body)
	}
	st, body = e.do(t, ana, "POST", "/v1/handover", map[string]any{"handovers": []map[string]string{{"alert": ids[0], "to": "ben", "note": "she asked for a call after 6"}}})
	if st != 200 {
		t.Fatalf("hand-over = %d %s", st, body)
	}
	var res struct{ Results []oncall.HandoverResult }
	json.Unmarshal(body, &res)
	if len(res.Results) != 2 {
		t.Fatalf("results %+v", res.Results)
	}
	for _, r := range res.Results {
		a, err := e.Store.Alert(ctx, r.Alert)
		if err != nil {
			t.Fatal(err)
		}
		switch r.Alert {
		case ids[0]:
			if r.Returned || a.Owner != e.users["ben"].ID {
				t.Errorf("handed over: %+v, owner %s", r, a.Owner)
			}
		case ids[1]:
			if !r.Returned || a.Owner != "" || a.State != alert.StateRaised {
				t.Errorf("returned: %+v, %s owner %q", r, a.State, a.Owner)
			}
		}
	}
}
