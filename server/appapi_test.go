package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/disguise/phonetest"
	"waymark/internal/randid"
	"waymark/postcode"
	"waymark/server/appapi"
	"waymark/signpost"
	"waymark/staff"
)

// appServer is the app listener's handler over e's services, with a
// stand-in for the app's files.
// appAcceptedBody is the one answer to every accepted app request.
var appAcceptedBody = []byte(`{"status":"ok"}` + "\n")

func (e *alertEnv) appServer(t *testing.T) *httptest.Server {
	t.Helper()
	return e.appServerWith(t, 0)
}

// appServerWith is appServer with a limit of wrong enrolment codes
// (Deps.EnrolFailures).
func (e *alertEnv) appServerWith(t *testing.T, enrolFailures int) *httptest.Server {
	t.Helper()
	dir, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		w.Write([]byte("calculator"))
	})
	_, ix := directoryServer(t)
	srv := httptest.NewServer(Listeners(Deps{
		Logger: discard(), Now: e.Clock.Now, Staff: e.Staff, Cases: e.Cases, Alerts: e.Alerts, Postcodes: dir,
		App: files, Directory: func() *signpost.Index { return ix }, EnrolFailures: enrolFailures,
	}).App)
	t.Cleanup(srv.Close)
	return srv
}

// appDo sends body with e's device token to srv.
func (e *alertEnv) appDo(t *testing.T, srv *httptest.Server, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, buf.Bytes()
}

// decodeV opens an encoded app answer {"v": veiled JSON}.
func decodeV(t *testing.T, b []byte, into any) {
	t.Helper()
	var env struct{ V string }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	raw, err := phonetest.Unveil(env.V)
	if err != nil {
		t.Fatalf("v: %v", err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("v %s: %v", raw, err)
	}
}

func TestAppPressIsAPanic(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	sent := e.Clock.Now().Add(-14 * time.Minute).Format(time.RFC3339)
	if st, _, b := e.appDo(t, srv, "POST", "/v1/app/signal", signal("press", "raised_at", sent)); st != http.StatusAccepted {
		t.Fatalf("press: %d %s", st, b)
	}
	open := e.openAlerts(t, e.responder)
	if len(open) != 1 || open[0]["class"] != "panic" {
		t.Fatalf("open alerts = %v, want one panic", open)
	}
	// The list gives the phone's time, for "raised 14 min ago, arrived now".
	if at, _ := time.Parse(time.RFC3339, fmt.Sprint(open[0]["phone_raised_at"])); !at.Equal(e.Clock.Now().Add(-14 * time.Minute).Truncate(time.Second)) {
		t.Errorf("phone_raised_at = %v, want %s", open[0]["phone_raised_at"], sent)
	}
	st, _, b := e.call(t, e.responder, "GET", "/v1/alerts/"+open[0]["id"].(string), nil)
	if st != http.StatusOK {
		t.Fatalf("alert: %d %s", st, b)
	}
	if !strings.Contains(string(b), "raised on the phone 14 min before it arrived") {
		t.Errorf("timeline does not say the phone held it 14 min: %s", b)
	}
}

func TestAppSignalRefusals(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	for name, body := range map[string]any{
		"unknown kind":  signal("shout"),
		"bad raised_at": signal("press", "raised_at", "yesterday"),
		"short id":      map[string]any{"request_id": "abc", "kind": "press"},
	} {
		st, _, b := e.appDo(t, srv, "POST", "/v1/app/signal", body)
		if st != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", name, st, b)
		}
		if strings.Contains(strings.ToLower(string(b)), "panic") {
			t.Errorf("%s: the answer names a kind: %s", name, b)
		}
	}
	if open := e.openAlerts(t, e.responder); len(open) != 0 {
		t.Errorf("refused signals raised %d alerts", len(open))
	}
}

func TestAppOpenSettings(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	if st, _, b := e.appDo(t, srv, "PUT", "/v1/app/checkins", map[string]any{
		"request_id": randid.Token(16), "pin": canaryPIN, "every_minutes": 60, "grace_minutes": 10,
	}); st != http.StatusAccepted {
		t.Fatalf("set check-ins: %d %s", st, b)
	}
	type settings struct {
		OK           bool `json:"ok"`
		EveryMinutes int  `json:"every_minutes"`
		GraceMinutes int  `json:"grace_minutes"`
		WindowS      int  `json:"window_s"`
	}
	open := func(pin string) (settings, http.Header) {
		st, h, b := e.appDo(t, srv, "POST", "/v1/app/open", map[string]any{"request_id": randid.Token(16), "pin": pin})
		if st != http.StatusOK {
			t.Fatalf("open: %d %s", st, b)
		}
		var s settings
		decodeV(t, b, &s)
		return s, h
	}
	real, hr := open(canaryPIN)
	if want := (settings{OK: true, EveryMinutes: 60, GraceMinutes: 10, WindowS: 30}); real != want {
		t.Errorf("real PIN: %+v, want %+v", real, want)
	}
	if n := len(e.openAlerts(t, e.responder)); n != 0 {
		t.Fatalf("the real PIN raised %d alerts", n)
	}
	wrong, hw := open("11112222")
	if wrong.OK {
		t.Errorf("wrong PIN opened the settings: %+v", wrong)
	}
	duress, hd := open(canaryDuressPIN)
	if duress != real {
		t.Errorf("duress PIN: %+v, want what the real PIN shows, %+v", duress, real)
	}
	alerts := e.openAlerts(t, e.responder)
	if len(alerts) != 1 || alerts[0]["class"] != "duress" {
		t.Fatalf("after the duress PIN: %v, want one duress alert", alerts)
	}
	for _, h := range []http.Header{hw, hd} {
		for _, k := range []string{"Content-Type", "Cache-Control", "Content-Security-Policy"} {
			if h.Get(k) != hr.Get(k) {
				t.Errorf("%s differs between PINs: %q, %q", k, h.Get(k), hr.Get(k))
			}
		}
	}
}

func TestAppForgetThisPhone(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	forget := func(pin string) {
		st, _, b := e.appDo(t, srv, "DELETE", "/v1/app/device", map[string]any{"request_id": randid.Token(16), "pin": pin})
		if st != http.StatusAccepted || string(b) != string(appAcceptedBody) {
			t.Fatalf("forget: %d %s", st, b)
		}
	}
	// Forced to forget it: the duress PIN raises the alarm and the device
	// keeps working.
	forget(canaryDuressPIN)
	if alerts := e.openAlerts(t, e.responder); len(alerts) != 1 || alerts[0]["class"] != "duress" {
		t.Fatalf("after a duress forget: %v, want one duress alert", alerts)
	}
	if st, _, b := e.appDo(t, srv, "POST", "/v1/app/signal", signal("location", "location", map[string]any{"lat": 50.9, "lon": -1.4})); st != http.StatusAccepted {
		t.Fatalf("the device stopped working after a duress forget: %d %s", st, b)
	}
	forget("11112222")
	forget(canaryPIN)
	if st, _, _ := e.appDo(t, srv, "POST", "/v1/app/signal", signal("press")); st != http.StatusUnauthorized {
		t.Errorf("signal after forgetting = %d, want 401", st)
	}
	st, _, b := e.call(t, e.worker, "GET", "/v1/cases/"+e.caseID, nil)
	if st != http.StatusOK {
		t.Fatalf("case: %d %s", st, b)
	}
	var c struct {
		Devices []struct {
			ID        string    `json:"device_id"`
			RemovedAt time.Time `json:"removed_at"`
		} `json:"devices"`
	}
	json.Unmarshal(b, &c)
	if len(c.Devices) != 1 || c.Devices[0].RemovedAt.IsZero() {
		t.Errorf("case devices = %+v, want the device marked removed from the phone", c.Devices)
	}
}

func TestAppFind(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	st, _, b := e.appDo(t, srv, "GET", "/v1/app/find?postcode=SO14&category=helpline", nil)
	if st != http.StatusOK {
		t.Fatalf("find: %d %s", st, b)
	}
	var v appapi.FindView
	decodeV(t, b, &v)
	if len(v.Services) == 0 || len(v.Categories) == 0 {
		t.Errorf("find answered %d services, %d categories", len(v.Services), len(v.Categories))
	}
	for _, w := range []string{"helpline", "refuge", "abuse"} {
		if strings.Contains(strings.ToLower(string(b)), w) {
			t.Errorf("the encoded answer shows %q: %s", w, b)
		}
	}
	// Without a device token: 401, as every app route.
	resp, err := http.Get(srv.URL + "/v1/app/find?postcode=SO14")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("find without a token = %d, want 401", resp.StatusCode)
	}
	if st, _, _ := e.appDo(t, srv, "GET", "/v1/app/find?postcode=NOTAPOSTCODE1", nil); st != http.StatusUnprocessableEntity {
		t.Errorf("bad postcode = %d, want 422", st)
	}
}

// A 5 MB body gets its 413, not a reset connection: a plain client that
// writes its whole body before reading (as curl and most phones' stacks
// do) must read the answer.
func TestAppBodyTooLarge(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	const size = 5 << 20
	fmt.Fprintf(conn, "POST /v1/app/signal HTTP/1.1\r\nHost: app\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", e.token, size)
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("writing the body after %d bytes: %v (the server gave up on it)", sent, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MB body = %d, want 413", resp.StatusCode)
	}
}

// The app listener serves the app and its API, nothing of the staff side.
func TestAppListenerServesOnlyTheApp(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/auth/login"}, {"GET", "/metrics"}, {"GET", "/v1/alerts"}, {"POST", "/sms/inbound"},
		{"GET", "/v1/directory/search"}, {"GET", "/healthz"}, {"GET", "/assets/app.js"}, {"GET", "/v1/ws"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader("{}"))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("app listener %s %s = %d, want 404", c.method, c.path, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("app listener / = %d, want the app", resp.StatusCode)
	}
}

func TestCaseCheckinsByCaseworker(t *testing.T) {
	e := newAlertEnv(t)
	path := "/v1/cases/" + e.caseID + "/checkins"
	for name, body := range map[string]any{
		"too often":   map[string]any{"every_minutes": 1},
		"bad time":    map[string]any{"times": []string{"25:00"}},
		"negative":    map[string]any{"every_minutes": 60, "grace_minutes": -1},
		"both modes":  map[string]any{"every_minutes": 60, "times": []string{"09:00"}},
		"nothing set": map[string]any{},
	} {
		if st, _, b := e.call(t, e.worker, "PUT", path, body); st != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", name, st, b)
		}
	}
	if st, _, b := e.call(t, e.worker, "PUT", path, map[string]any{"times": []string{"09:00", "21:00"}, "grace_minutes": 30}); st != http.StatusNoContent {
		t.Fatalf("set: %d %s", st, b)
	}
	st, _, b := e.call(t, e.worker, "GET", path, nil)
	var v checkinsView
	if st != http.StatusOK || json.Unmarshal(b, &v) != nil || !v.Active || len(v.Times) != 2 || v.GraceMinutes != 30 || v.NextDue.IsZero() {
		t.Fatalf("get: %d %s", st, b)
	}
	if len(v.Log) == 0 || v.Log[len(v.Log)-1].By != e.users["casey"].ID {
		t.Errorf("log does not name the caseworker: %+v", v.Log)
	}
	// Another team's caseworker and a responder see nothing.
	other := e.login(t, "north-worker", []staff.Role{staff.RoleCaseworker}, []string{"north"})
	for _, c := range []*http.Client{other, e.responder} {
		if st, _, _ := e.call(t, c, "PUT", path, map[string]any{"every_minutes": 60}); st != http.StatusNotFound && st != http.StatusForbidden {
			t.Errorf("outsider set = %d", st)
		}
		if st, _, _ := e.call(t, c, "GET", path, nil); st != http.StatusNotFound && st != http.StatusForbidden {
			t.Errorf("outsider get = %d", st)
		}
	}
	if st, _, b := e.call(t, e.worker, "DELETE", path, nil); st != http.StatusNoContent {
		t.Fatalf("stop: %d %s", st, b)
	}
	_, _, b = e.call(t, e.worker, "GET", path, nil)
	json.Unmarshal(b, &v)
	if v.Active {
		t.Errorf("still active after DELETE: %s", b)
	}
}

func TestEnrolmentLinkAndQRCode(t *testing.T) {
	if got := enrolmentLink("", "ABCD2345", nil); got != "" {
		t.Errorf("no app URL: link %q", got)
	}
	if got, want := enrolmentLink("https://calc.example/", "ABCD2345", nil), "https://calc.example/#ABCD2345"; got != want {
		t.Errorf("link = %q, want %q", got, want)
	}
	got := enrolmentLink("https://calc.example", "ABCD2345", &appLook{Kind: "converter", Name: "My Units", Icon: "3"})
	if want := "https://calc.example/#c=ABCD2345&icon=3&look=converter&name=My%20Units"; got != want {
		t.Errorf("link with a look = %q, want %q", got, want)
	}
	svg, err := qrSVG(got)
	if err != nil || !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, "M") {
		t.Errorf("qr: %v %.60s", err, svg)
	}
	for _, bad := range []appLook{{Name: "<b>"}, {Name: " lead"}} {
		if err := bad.check(); err == nil {
			t.Errorf("look %+v accepted", bad)
		}
	}
}

// TestAppEnrolLimit: ten wrong codes from one address, then 429 with
// Retry-After until the window ends; right codes never count.
func TestAppEnrolLimit(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	post := func(code string) (int, http.Header) {
		st, h, _ := e.appDo(t, srv, "POST", "/v1/app/enrol", map[string]any{"code": code})
		return st, h
	}
	for i := range 10 {
		if st, _ := post(fmt.Sprintf("ZZZZ%04d", 2222+i)[:8]); st != http.StatusNotFound {
			t.Fatalf("wrong code %d = %d, want 404", i, st)
		}
	}
	st, h := post("ZZZZ9999")
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("11th wrong code = %d (Retry-After %q), want 429", st, h.Get("Retry-After"))
	}
	e.Clock.Advance(appapi.EnrolWindow)
	if st, _ := post("ZZZZ9999"); st != http.StatusNotFound {
		t.Errorf("after the window = %d, want 404", st)
	}
}

// TestAppRefusedRequestLeavesNoUse: a request refused after its token was
// accepted does not record the device's use; one that succeeds does.
func TestAppRefusedRequestLeavesNoUse(t *testing.T) {
	e := newAlertEnv(t)
	srv := e.appServer(t)
	lastUsed := func() time.Time {
		_, _, b := e.call(t, e.worker, "GET", "/v1/cases/"+e.caseID, nil)
		var c struct {
			Devices []struct {
				LastUsedAt time.Time `json:"last_used_at"`
			} `json:"devices"`
		}
		json.Unmarshal(b, &c)
		if len(c.Devices) != 1 {
			t.Fatalf("devices: %s", b)
		}
		return c.Devices[0].LastUsedAt
	}
	before := lastUsed()
	e.Clock.Advance(2 * time.Minute)
	if st, _, _ := e.appDo(t, srv, "POST", "/v1/app/signal", signal("shout")); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad kind = %d", st)
	}
	if got := lastUsed(); !got.Equal(before) {
		t.Errorf("a refused request recorded a use: %v → %v", before, got)
	}
	if st, _, b := e.appDo(t, srv, "POST", "/v1/app/signal", signal("location", "location", map[string]any{"lat": 50.9, "lon": -1.4})); st != http.StatusAccepted {
		t.Fatalf("location: %d %s", st, b)
	}
	if got := lastUsed(); !got.After(before) {
		t.Errorf("an accepted request recorded no use (%v)", got)
	}
}

// TestPhoneRaisedAt: the phone's own time is given only when its outbox
// held the alert a minute or more; a phone clock ahead of the server, or
// one so far behind that it cannot be a held signal, gives nothing.
func TestPhoneRaisedAt(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		phone time.Time
		shown bool
	}{
		{"no phone time (a text)", time.Time{}, false},
		{"sent at once", now.Add(-20 * time.Second), false},
		{"held 14 min", now.Add(-14 * time.Minute), true},
		{"held 2 days", now.Add(-alert.DedupeFor), true},
		{"clock far behind", now.Add(-alert.DedupeFor - time.Minute), false},
		{"clock ahead", now.Add(10 * time.Minute), false},
	} {
		v := alertSummaryOf(&alert.Alert{ID: "a_x", RaisedAt: now, PhoneAt: c.phone}, nil)
		if got := !v.PhoneRaisedAt.IsZero(); got != c.shown || (got && !v.PhoneRaisedAt.Equal(c.phone)) {
			t.Errorf("%s: phone_raised_at = %v", c.name, v.PhoneRaisedAt)
		}
	}
}
