package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/postcode"
	"waymark/staff"
)

// alertEnv is the test env with the alert service wired, one enrolled case
// with an app device, a caseworker and a responder of team south.
type alertEnv struct {
	*testEnv
	Alerts    *alert.Service
	caseID    string
	token     string
	worker    *http.Client
	responder *http.Client
	// conflicted is a responder of south the case excludes.
	conflicted *http.Client
}

// Canary values of the case: none may ever appear in an alert view.
const (
	canaryPhone      = "07700 900456"
	canaryPhoneDigit = "7700900456"
	canaryCode       = "lantern orchard breeze"
	canaryDuressWord = "copper kettle"
	canaryPIN        = "13572468"
	canaryDuressPIN  = "86420975"
)

var alertCanaries = []string{canaryPhoneDigit, "900456", "lantern", "orchard", "kettle", canaryPIN, canaryDuressPIN}

func alertCaseBody(excluded ...string) map[string]any {
	return map[string]any{
		"phone": canaryPhone, "alias": "Wren", "team": "south", "risk_level": "high",
		"risk_date":     "2026-02-03",
		"marac":         map[string]any{"referred": true, "date": "2026-02-10"},
		"communication": map[string]any{"language": "ur", "needs": []string{"text-only"}},
		"children":      map[string]any{"count": 2, "age_bands": []string{"0-4", "5-10"}},
		"code_words":    []string{canaryCode},
		"duress_words":  []string{canaryDuressWord},
		"pin":           canaryPIN, "duress_pin": canaryDuressPIN,
		"safe_contact": map[string]any{
			"windows":      []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "from": "00:00", "to": "24:00"}},
			"channels":     map[string]any{"call": true, "sms": true},
			"opening_line": "Hi, it's the dentist confirming Tuesday",
		},
		"response_plan":  "Call police first; two dogs at the address",
		"excluded_staff": excluded,
	}
}

func newAlertEnv(t *testing.T) *alertEnv {
	t.Helper()
	env := newTestEnv(t)
	e := &alertEnv{testEnv: env}
	e.Alerts = alert.NewService(env.Store, casework.NewSource(env.Cases), alert.Config{TriageTeam: "triage"}, env.Clock.Now, discard())
	dir, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	// newTestEnv's own server stays up until its cleanup; requests go to
	// this one, with the alert service wired.
	env.Server = httptest.NewTLSServer(publicHandler(Deps{
		Logger: discard(), Now: env.Clock.Now, Staff: env.Staff, Cases: env.Cases, Alerts: e.Alerts, Postcodes: dir,
	}))
	t.Cleanup(env.Server.Close)

	e.responder = env.login(t, "robin", []staff.Role{staff.RoleResponder}, []string{"south"})
	e.conflicted = env.login(t, "conflicted", []staff.Role{staff.RoleResponder}, []string{"south"})
	e.worker = env.login(t, "casey", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	e.caseID, e.token = e.enrol(t, alertCaseBody(env.users["conflicted"].ID))
	return e
}

// enrol creates a case through the API and enrols an app device for it.
func (e *alertEnv) enrol(t *testing.T, body map[string]any) (caseID, token string) {
	t.Helper()
	status, _, b := e.call(t, e.worker, "POST", "/v1/cases", body)
	if status != http.StatusCreated {
		t.Fatalf("create case: %d %s", status, b)
	}
	caseID = jsonField(t, b, "id")
	status, _, b = e.call(t, e.worker, "POST", "/v1/cases/"+caseID+"/enrolments",
		map[string]any{"tech_safety_check": map[string]any{"others_have_access": false, "notes": ""}})
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("enrolment: %d %s", status, b)
	}
	status, _, b = e.call(t, e.client(), "POST", "/v1/app/enrol", map[string]any{"code": jsonField(t, b, "code")})
	if status != http.StatusOK {
		t.Fatalf("app enrol: %d %s", status, b)
	}
	return caseID, jsonField(t, b, "token")
}

func jsonField(t *testing.T, b []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	s, _ := m[name].(string)
	return s
}

// app sends an app request with the case's device token.
func (e *alertEnv) app(t *testing.T, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	return e.call(t, e.client(), method, path, body, "Authorization", "Bearer "+e.token)
}

func signal(kind string, extra ...any) map[string]any {
	m := map[string]any{"request_id": randid.Token(16), "kind": kind}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func (e *alertEnv) openAlerts(t *testing.T, c *http.Client) []map[string]any {
	t.Helper()
	status, _, b := e.call(t, c, "GET", "/v1/alerts?state=open", nil)
	if status != http.StatusOK {
		t.Fatalf("list alerts: %d %s", status, b)
	}
	var out struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Alerts
}

// comparableHeaders drops the per-request values.
func comparableHeaders(h http.Header) http.Header {
	c := h.Clone()
	c.Del("X-Request-Id")
	c.Del("Date")
	return c
}

func TestAppSignalAnswersIdentically(t *testing.T) {
	e := newAlertEnv(t)
	type answer struct {
		status int
		hdr    http.Header
		body   []byte
	}
	var first *answer
	for _, req := range []map[string]any{
		signal("panic"),
		signal("location", "location", map[string]any{"lat": 50.9097, "lon": -1.4044, "accuracy_m": 15}),
		signal("checkin", "pin", canaryPIN),
		signal("checkin", "pin", canaryDuressPIN),
		signal("checkin", "pin", "0000"),
		signal("cancel", "pin", canaryPIN),
		signal("cancel", "pin", canaryDuressPIN),
		signal("message", "message", "he has the car keys"),
	} {
		status, hdr, body := e.app(t, "POST", "/v1/app/signal", req)
		got := &answer{status, comparableHeaders(hdr), body}
		if status != http.StatusAccepted || string(body) != "{\"status\":\"ok\"}\n" {
			t.Fatalf("%v: %d %s", req["kind"], status, body)
		}
		if first == nil {
			first = got
			continue
		}
		if !slices.Equal(sortedKeys(got.hdr), sortedKeys(first.hdr)) {
			t.Errorf("%v: headers %v differ from %v", req["kind"], got.hdr, first.hdr)
		}
		for k := range got.hdr {
			if got.hdr.Get(k) != first.hdr.Get(k) {
				t.Errorf("%v: header %s = %q, want %q", req["kind"], k, got.hdr.Get(k), first.hdr.Get(k))
			}
		}
	}
	// One incident: everything joined one alert, now duress.
	list := e.openAlerts(t, e.responder)
	if len(list) != 1 || list[0]["duress"] != true {
		t.Fatalf("open alerts = %v, want one duress alert", list)
	}
}

func sortedKeys(h http.Header) []string {
	var k []string
	for n := range h {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func TestAppSignalRetryMakesOneAlert(t *testing.T) {
	e := newAlertEnv(t)
	req := signal("panic")
	for range 5 {
		if status, _, b := e.app(t, "POST", "/v1/app/signal", req); status != http.StatusAccepted {
			t.Fatalf("%d %s", status, b)
		}
	}
	list := e.openAlerts(t, e.responder)
	if len(list) != 1 {
		t.Fatalf("%d alerts", len(list))
	}
	status, _, b := e.call(t, e.responder, "GET", "/v1/alerts/"+list[0]["id"].(string), nil)
	var v struct {
		Timeline []any `json:"timeline"`
	}
	json.Unmarshal(b, &v)
	if status != http.StatusOK || len(v.Timeline) != 1 {
		t.Errorf("view %d with %d timeline entries, want 1", status, len(v.Timeline))
	}
}

func TestAppSignalBadInput(t *testing.T) {
	e := newAlertEnv(t)
	before := stateDigest(t, e.testEnv)
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"malformed", []byte(`{"kind":"panic",`), "body"},
		{"unknown field", map[string]any{"request_id": randid.Token(16), "kind": "panic", "colour": "red"}, "colour"},
		{"unknown kind", signal("dance"), "kind"},
		{"short request id", map[string]any{"request_id": "abc", "kind": "panic"}, "request_id"},
		{"request id not base64url", map[string]any{"request_id": strings.Repeat("!", 30), "kind": "panic"}, "request_id"},
		{"no request id", map[string]any{"kind": "panic"}, "request_id"},
		{"latitude out of range", signal("location", "location", map[string]any{"lat": 91, "lon": 0}), "location.lat"},
		{"longitude out of range", signal("location", "location", map[string]any{"lat": 50, "lon": -181}), "location.lon"},
		{"negative accuracy", signal("panic", "location", map[string]any{"lat": 50, "lon": 0, "accuracy_m": -1}), "location.accuracy_m"},
		{"bad fix time", signal("panic", "location", map[string]any{"lat": 50, "lon": 0, "at": "yesterday"}), "location.at"},
		{"location missing", signal("location"), "location"},
		{"PIN with letters", signal("checkin", "pin", "12a4"), "pin"},
		{"PIN too short", signal("cancel", "pin", "123"), "pin"},
		{"check-in without PIN", signal("checkin"), "pin"},
		{"message missing", signal("message"), "message"},
		{"message too long", signal("message", "message", strings.Repeat("x", alert.MaxMessage+1)), "message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := e.app(t, "POST", "/v1/app/signal", tc.body)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d %s, want 422", status, b)
			}
			var eb errorBody
			json.Unmarshal(b, &eb)
			if len(eb.Fields) == 0 || eb.Fields[0].Name != tc.field {
				t.Errorf("fields %v, want %s", eb.Fields, tc.field)
			}
		})
	}
	if after := stateDigest(t, e.testEnv); after != before {
		t.Error("a refused request changed what Redis holds")
	}
}

func TestAppUnauthorized(t *testing.T) {
	e := newAlertEnv(t)
	// Any staff 401, for the shape.
	_, _, staff401 := e.call(t, e.client(), "GET", "/v1/alerts", nil)
	want := shapeOf(t, staff401)
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"no header", nil},
		{"not bearer", []string{"Authorization", "Basic " + e.token}},
		{"unknown token", []string{"Authorization", "Bearer " + randid.Token(32)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := e.call(t, e.client(), "POST", "/v1/app/signal", signal("panic"), tc.hdr...)
			if status != http.StatusUnauthorized || shapeOf(t, b) != want {
				t.Errorf("%d %s, want 401 like %s", status, b, staff401)
			}
		})
	}
	// A revoked device gets the same.
	status, _, b := e.call(t, e.worker, "GET", "/v1/cases/"+e.caseID, nil)
	var c struct {
		Devices []struct {
			ID string `json:"device_id"`
		} `json:"devices"`
	}
	json.Unmarshal(b, &c)
	if status != http.StatusOK || len(c.Devices) != 1 {
		t.Fatalf("case devices: %d %s", status, b)
	}
	if status, _, b := e.call(t, e.worker, "DELETE", "/v1/cases/"+e.caseID+"/devices/"+c.Devices[0].ID, nil); status/100 != 2 {
		t.Fatalf("revoke: %d %s", status, b)
	}
	status, _, b = e.app(t, "POST", "/v1/app/signal", signal("panic"))
	if status != http.StatusUnauthorized || shapeOf(t, b) != want {
		t.Errorf("revoked device: %d %s", status, b)
	}
}

// shapeOf is a JSON error body with its request id blanked.
func shapeOf(t *testing.T, b []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	m["request_id"] = ""
	out, _ := json.Marshal(m)
	return string(out)
}

func TestResponderAPI(t *testing.T) {
	e := newAlertEnv(t)
	other := e.login(t, "sam", []staff.Role{staff.RoleResponder}, []string{"south"})
	north := e.login(t, "nora", []staff.Role{staff.RoleResponder}, []string{"north"})
	conflicted := e.conflicted
	if status, _, b := e.app(t, "POST", "/v1/app/signal", signal("panic",
		"location", map[string]any{"lat": 50.9097, "lon": -1.4044, "accuracy_m": 15})); status != http.StatusAccepted {
		t.Fatalf("%d %s", status, b)
	}
	list := e.openAlerts(t, e.responder)
	if len(list) != 1 || list[0]["alias"] != "Wren" || list[0]["state"] != "raised" {
		t.Fatalf("list = %v", list)
	}
	id := list[0]["id"].(string)
	for _, c := range []*http.Client{north, conflicted} {
		if got := e.openAlerts(t, c); len(got) != 0 {
			t.Errorf("someone else sees %v", got)
		}
		if status, _, _ := e.call(t, c, "GET", "/v1/alerts/"+id, nil); status != http.StatusNotFound {
			t.Errorf("someone else's GET = %d, want 404", status)
		}
		if status, _, _ := e.call(t, c, "POST", "/v1/alerts/"+id+"/ack", nil); status != http.StatusNotFound {
			t.Errorf("someone else's ack = %d, want 404", status)
		}
	}

	status, _, b := e.call(t, e.responder, "GET", "/v1/alerts/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("view: %d %s", status, b)
	}
	var v struct {
		Alias   string `json:"alias"`
		Duress  bool   `json:"duress"`
		Contact struct {
			Code        string `json:"code"`
			OpeningLine string `json:"opening_line"`
		} `json:"contact"`
		Risk struct {
			Level      string `json:"level"`
			AssessedOn string `json:"assessed_on"`
		} `json:"risk_assessment"`
		MARAC struct {
			Referred bool `json:"referred"`
		} `json:"marac"`
		Children struct {
			Count int `json:"count"`
		} `json:"children"`
		ResponsePlan string `json:"response_plan"`
		Trail        []struct {
			Lat       float64 `json:"lat"`
			AccuracyM float64 `json:"accuracy_m"`
			Sector    string  `json:"sector"`
		} `json:"location_trail"`
		Timeline []struct {
			Type string `json:"type"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Alias != "Wren" || v.Duress || v.Contact.Code != "SAFE TO CALL" || v.Contact.OpeningLine == "" ||
		v.Risk.Level != "high" || v.Risk.AssessedOn != "2026-02-03" || !v.MARAC.Referred || v.Children.Count != 2 ||
		v.ResponsePlan == "" {
		t.Errorf("view = %s", b)
	}
	if len(v.Trail) != 1 || v.Trail[0].AccuracyM != 15 || !strings.HasPrefix(v.Trail[0].Sector, "SO") {
		t.Errorf("trail = %+v, want one point near an SO sector", v.Trail)
	}

	// First ack wins; the loser learns who.
	if status, _, b := e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/ack", nil); status != http.StatusOK {
		t.Fatalf("ack: %d %s", status, b)
	}
	status, _, b = e.call(t, other, "POST", "/v1/alerts/"+id+"/ack", nil)
	var eb errorBody
	json.Unmarshal(b, &eb)
	if status != http.StatusConflict || eb.ClaimedBy == "" {
		t.Errorf("second ack: %d %s, want 409 naming the claimer", status, b)
	}
	if status, _, b := e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/working", nil); status != http.StatusOK {
		t.Errorf("working: %d %s", status, b)
	}
	if status, _, b := e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/notes", map[string]any{"note": "police on the way"}); status != http.StatusCreated {
		t.Errorf("note: %d %s", status, b)
	}
	// Children in the household: police-attended needs the reference.
	status, _, b = e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/resolve", map[string]any{"outcome": "police-attended", "police_reference": "CAD-1234"})
	json.Unmarshal(b, &eb)
	if status != http.StatusUnprocessableEntity || len(eb.Fields) == 0 || eb.Fields[0].Name != "childrens_services_reference" {
		t.Errorf("resolve without reference: %d %s", status, b)
	}
	status, _, b = e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/resolve", map[string]any{"outcome": "never-mind"})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("unknown outcome: %d %s", status, b)
	}
	status, _, b = e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/resolve", map[string]any{
		"outcome": "police-attended", "police_reference": "CAD-1234", "childrens_services_reference": "CS-99", "note": "all safe"})
	if status != http.StatusOK || !strings.Contains(string(b), `"state":"resolved"`) {
		t.Errorf("resolve: %d %s", status, b)
	}
	if got := e.openAlerts(t, e.responder); len(got) != 0 {
		t.Errorf("resolved alert still listed: %v", got)
	}
}

// TestAlertViewCanary: nothing a responder or caseworker gets about an
// alert ever holds the case's phone number, code words or PINs.
func TestAlertViewCanary(t *testing.T) {
	e := newAlertEnv(t)
	for _, req := range []map[string]any{
		signal("panic", "location", map[string]any{"lat": 51.5, "lon": -0.12}),
		signal("checkin", "pin", canaryDuressPIN),
		signal("cancel", "pin", canaryPIN),
		signal("message", "message", "at my sister's"),
	} {
		if status, _, b := e.app(t, "POST", "/v1/app/signal", req); status != http.StatusAccepted {
			t.Fatalf("%d %s", status, b)
		}
	}
	id := e.openAlerts(t, e.responder)[0]["id"].(string)
	e.call(t, e.responder, "POST", "/v1/alerts/"+id+"/ack", nil)
	var all bytes.Buffer
	for _, c := range []*http.Client{e.responder, e.worker} {
		for _, path := range []string{"/v1/alerts?state=open", "/v1/alerts?state=recent", "/v1/alerts/" + id} {
			status, _, b := e.call(t, c, "GET", path, nil)
			if status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, status, b)
			}
			all.Write(b)
		}
	}
	if !strings.Contains(all.String(), `"duress":true`) || !strings.Contains(all.String(), "DO NOT CONTACT") {
		t.Errorf("duress view lacks duress or DO NOT CONTACT: %s", all.String())
	}
	for _, c := range alertCanaries {
		if strings.Contains(all.String(), c) {
			t.Errorf("an alert answer holds canary %q", c)
		}
	}
}

func TestAppCheckins(t *testing.T) {
	e := newAlertEnv(t)
	put := func(body map[string]any) (int, []byte) {
		status, _, b := e.app(t, "PUT", "/v1/app/checkins", body)
		return status, b
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"real PIN", map[string]any{"pin": canaryPIN, "every_minutes": 60, "grace_minutes": 10}, 202, ""},
		{"daily", map[string]any{"pin": canaryPIN, "times": []string{"08:00", "20:00"}, "grace_minutes": 15}, 202, ""},
		{"duress PIN", map[string]any{"pin": canaryDuressPIN, "every_minutes": 600}, 202, ""},
		{"wrong PIN", map[string]any{"pin": "0000", "every_minutes": 600}, 202, ""},
		{"no PIN", map[string]any{"every_minutes": 60}, 422, "pin"},
		{"too often", map[string]any{"pin": canaryPIN, "every_minutes": 1}, 422, "every_minutes"},
		{"bad time", map[string]any{"pin": canaryPIN, "times": []string{"8am"}}, 422, "times[0]"},
		{"neither", map[string]any{"pin": canaryPIN}, 422, "every_minutes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := put(tc.body)
			if status != tc.status {
				t.Fatalf("%d %s, want %d", status, b, tc.status)
			}
			if tc.status == 202 && string(b) != "{\"status\":\"ok\"}\n" {
				t.Errorf("body %s", b)
			}
			if tc.field != "" {
				var eb errorBody
				json.Unmarshal(b, &eb)
				if len(eb.Fields) == 0 || eb.Fields[0].Name != tc.field {
					t.Errorf("fields %v, want %s", eb.Fields, tc.field)
				}
			}
		})
	}
	ci, log, err := e.Alerts.CheckinLog(t.Context(), e.caseID)
	if err != nil {
		t.Fatal(err)
	}
	if !ci.Active || len(ci.Schedule.Times) != 2 {
		t.Errorf("schedule %+v: the duress and wrong-PIN changes must not apply", ci.Schedule)
	}
	if len(log) != 4 {
		t.Errorf("owner's log has %d entries, want 4 (two changes, one duress, one wrong PIN)", len(log))
	}
	// The duress PIN raised a duress alert.
	if list := e.openAlerts(t, e.responder); len(list) != 1 || list[0]["duress"] != true {
		t.Errorf("open alerts %v, want one duress alert", list)
	}
	// DELETE with the real PIN stops them.
	status, _, b := e.app(t, "DELETE", "/v1/app/checkins", map[string]any{"pin": canaryPIN})
	if status != http.StatusAccepted {
		t.Fatalf("delete: %d %s", status, b)
	}
	if ci, _, _ := e.Alerts.CheckinLog(t.Context(), e.caseID); ci.Active {
		t.Error("check-ins still active after DELETE with the real PIN")
	}
}

func TestAppFrozenRedisAnswers503ThenRetryMakesOne(t *testing.T) {
	e := newAlertEnv(t)
	req := signal("panic")
	e.Redis.Freeze()
	start := time.Now()
	status, _, b := e.app(t, "POST", "/v1/app/signal", req)
	took := time.Since(start)
	e.Redis.Thaw()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("frozen redis: %d %s, want 503", status, b)
	}
	if took > 3*time.Second {
		t.Errorf("answered after %v, want within 3 s", took)
	}
	for range 2 {
		if status, _, b := e.app(t, "POST", "/v1/app/signal", req); status != http.StatusAccepted {
			t.Fatalf("retry: %d %s", status, b)
		}
	}
	if list := e.openAlerts(t, e.responder); len(list) != 1 {
		t.Errorf("%d alerts after the retries, want 1", len(list))
	}
}
