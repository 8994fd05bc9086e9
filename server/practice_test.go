package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"waymark/staff"
)

// The practice window through the HTTP API on a real redis-server: the
// caseworker opens it, a panic inside reaches only them marked practice,
// and everything the issue calls unclear turns real for the team.

func (e *alertEnv) openPractice(t *testing.T, minutes int) {
	t.Helper()
	status, _, b := e.call(t, e.worker, "POST", "/v1/cases/"+e.caseID+"/practice", map[string]any{"minutes": minutes})
	if status != http.StatusOK {
		t.Fatalf("open practice: %d %s", status, b)
	}
}

func (e *alertEnv) panic(t *testing.T) {
	t.Helper()
	if status, _, b := e.app(t, "POST", "/v1/app/signal", signal("panic")); status != http.StatusAccepted {
		t.Fatalf("app panic: %d %s", status, b)
	}
}

func TestPracticeWindowRefusals(t *testing.T) {
	e := newAlertEnv(t)
	north := e.login(t, "nell", []staff.Role{staff.RoleCaseworker}, []string{"north"})
	path := "/v1/cases/" + e.caseID + "/practice"
	for _, tc := range []struct {
		name   string
		c      *http.Client
		body   any
		status int
	}{
		{"zero minutes", e.worker, map[string]any{"minutes": 0}, http.StatusUnprocessableEntity},
		{"over half an hour", e.worker, map[string]any{"minutes": 31}, http.StatusUnprocessableEntity},
		{"missing minutes", e.worker, map[string]any{}, http.StatusUnprocessableEntity},
		{"minutes as text", e.worker, map[string]any{"minutes": "ten"}, http.StatusUnprocessableEntity},
		{"unknown field", e.worker, map[string]any{"minutes": 5, "until": "later"}, http.StatusUnprocessableEntity},
		{"a responder", e.responder, map[string]any{"minutes": 5}, http.StatusForbidden},
		{"a caseworker of another team", north, map[string]any{"minutes": 5}, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, _, b := e.call(t, tc.c, "POST", path, tc.body); status != tc.status {
				t.Errorf("%d %s, want %d", status, b, tc.status)
			}
		})
	}
	// Nothing changed: the case shows no window and a panic is real.
	_, _, b := e.call(t, e.worker, "GET", "/v1/cases/"+e.caseID, nil)
	var cv map[string]any
	json.Unmarshal(b, &cv)
	if cv["practice"] != nil {
		t.Errorf("a refused request opened a window: %v", cv["practice"])
	}
	e.panic(t)
	if got := e.openAlerts(t, e.responder); len(got) != 1 || got[0]["mode"] != nil {
		t.Errorf("after refusals a panic is %v; want one real alert", got)
	}
}

func TestPracticeAlertReachesOnlyTheCaseworker(t *testing.T) {
	e := newAlertEnv(t)
	ctx := context.Background()
	e.openPractice(t, 10)
	_, _, b := e.call(t, e.worker, "GET", "/v1/cases/"+e.caseID, nil)
	var cv struct {
		Practice *struct {
			Until time.Time `json:"until"`
			By    string    `json:"by"`
		} `json:"practice"`
	}
	json.Unmarshal(b, &cv)
	if cv.Practice == nil || cv.Practice.By != e.users["casey"].ID || !cv.Practice.Until.Equal(e.Clock.Now().Add(10*time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("case view practice = %+v", cv.Practice)
	}

	e.panic(t)
	if got := e.openAlerts(t, e.responder); len(got) != 0 {
		t.Fatalf("the responder sees the practice alert: %v", got)
	}
	mine := e.openAlerts(t, e.worker)
	if len(mine) != 1 || mine[0]["mode"] != "practice" {
		t.Fatalf("caseworker's queue = %v; want one practice alert", mine)
	}
	id := mine[0]["id"].(string)
	for _, path := range []string{"/v1/alerts/" + id, "/v1/alerts/" + id + "/ack"} {
		method := "GET"
		if path != "/v1/alerts/"+id {
			method = "POST"
		}
		if status, _, _ := e.call(t, e.responder, method, path, nil); status != http.StatusNotFound {
			t.Errorf("responder %s %s = %d, want 404", method, path, status)
		}
	}

	// Unacknowledged for two minutes: real, in the team's queue.
	e.Clock.Advance(2*time.Minute + time.Second)
	if _, err := e.Alerts.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.openAlerts(t, e.responder)
	if len(got) != 1 || got[0]["id"] != id || got[0]["mode"] != nil || got[0]["state"] != "raised" {
		t.Fatalf("after two minutes the responder sees %v; want the alert, real and raised", got)
	}
	status, _, b := e.call(t, e.responder, "GET", "/v1/alerts/"+id, nil)
	if status != http.StatusOK || !json.Valid(b) {
		t.Fatalf("responder view: %d %s", status, b)
	}
	var v struct {
		Timeline []struct {
			Type string `json:"type"`
		} `json:"timeline"`
	}
	json.Unmarshal(b, &v)
	found := false
	for _, en := range v.Timeline {
		found = found || en.Type == "practice-real"
	}
	if !found {
		t.Errorf("timeline does not say the practice turned real: %s", b)
	}
}

func TestPracticeAcknowledgedByTheCaseworker(t *testing.T) {
	e := newAlertEnv(t)
	ctx := context.Background()
	e.openPractice(t, 5)
	e.panic(t)
	id := e.openAlerts(t, e.worker)[0]["id"].(string)
	e.Clock.Advance(time.Minute)
	if status, _, b := e.call(t, e.worker, "POST", "/v1/alerts/"+id+"/ack", nil); status != http.StatusOK {
		t.Fatalf("caseworker ack: %d %s", status, b)
	}
	e.Clock.Advance(5 * time.Minute)
	if _, err := e.Alerts.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.openAlerts(t, e.responder); len(got) != 0 {
		t.Fatalf("an acknowledged practice alert reached the team: %v", got)
	}
	status, _, b := e.call(t, e.worker, "POST", "/v1/alerts/"+id+"/resolve", map[string]any{"outcome": "safe"})
	if status != http.StatusOK {
		t.Fatalf("caseworker resolve: %d %s", status, b)
	}
	// A caseworker still cannot act on a real alert.
	e.panic(t) // the window has ended: real
	real := e.openAlerts(t, e.responder)
	if len(real) != 1 || real[0]["mode"] != nil {
		t.Fatalf("a panic after the window: %v; want one real alert", real)
	}
	if status, _, _ := e.call(t, e.worker, "POST", "/v1/alerts/"+real[0]["id"].(string)+"/ack", nil); status != http.StatusNotFound {
		t.Errorf("caseworker ack of a real alert = %d, want 404", status)
	}
}

func TestPracticeOutsideTheWindowIsReal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(e *alertEnv, t *testing.T)
	}{
		{"the window ran out", func(e *alertEnv, t *testing.T) { e.Clock.Advance(11 * time.Minute) }},
		{"the caseworker closed it", func(e *alertEnv, t *testing.T) {
			if status, _, b := e.call(t, e.worker, "DELETE", "/v1/cases/"+e.caseID+"/practice", nil); status != http.StatusNoContent {
				t.Fatalf("close practice: %d %s", status, b)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAlertEnv(t)
			e.openPractice(t, 10)
			tc.after(e, t)
			e.panic(t)
			got := e.openAlerts(t, e.responder)
			if len(got) != 1 || got[0]["mode"] != nil {
				t.Fatalf("responder sees %v; want one real alert", got)
			}
		})
	}
}

func TestPracticeDuressIsReal(t *testing.T) {
	e := newAlertEnv(t)
	e.openPractice(t, 10)
	e.panic(t)
	if got := e.openAlerts(t, e.responder); len(got) != 0 {
		t.Fatalf("setup: responder sees %v", got)
	}
	if status, _, b := e.app(t, "POST", "/v1/app/signal", signal("checkin", "pin", canaryDuressPIN)); status != http.StatusAccepted {
		t.Fatalf("duress check-in: %d %s", status, b)
	}
	got := e.openAlerts(t, e.responder)
	if len(got) != 1 || got[0]["mode"] != nil || got[0]["duress"] != true {
		t.Fatalf("after a duress check-in the responder sees %v; want the alert, real and duress", got)
	}
}
