package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/alert"
	"waymark/casework"
	"waymark/pii"
	"waymark/postcode"
	"waymark/seal"
	"waymark/sms"
	"waymark/staff"
	"waymark/staff/stafftest"
)

// The SMS suite: Twilio's webhooks against the real handler, real services
// and a real redis-server. Every logger of the suite writes to one sink
// (no redaction backstop), and every test ends by checking that no line
// holds a seeded phone number in any form, or a seeded message body.

const (
	smsPublicURL  = "https://waymark.example.org"
	smsToken      = "0123456789abcdef0123456789abcdef"
	smsOldToken   = "fedcba9876543210fedcba9876543210"
	smsIntakeTo   = "+447700900000"
	smsSurvivor   = "+447700900321" // enrolled on the south case
	smsLinked     = "+447700900654" // enrolled on two linked cases
	smsStranger   = "+447700900987" // on no case
	smsResponder  = "+447700900111" // a responder's page phone
	smsCode       = "silver teapot"
	smsDuressWord = "blue umbrella"
	smsPIN        = "24681357"
	smsDuressPIN  = "97531864"
	smsDeployWord = "lighthouse"
)

// smsLog is the suite's log sink.
type smsLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *smsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *smsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// smsPhoneForms is every way a UK number might appear in a log line.
func smsPhoneForms(e164 string) []string {
	national := "0" + strings.TrimPrefix(e164, "+44")
	return []string{
		e164, strings.TrimPrefix(e164, "+"), national, national[1:],
		national[:5] + " " + national[5:], "%2B" + e164[1:], national[5:] + "\"",
	}
}

type smsEnv struct {
	*testEnv
	Alerts   *alert.Service
	Intake   *sms.Intake
	Registry *prometheus.Registry
	// Handler is the whole Waymark handler the server runs, for load
	// tests that serve it over plain HTTP.
	Handler http.Handler
	log     *smsLog
	// bodies are message bodies sent in this test: none may be logged.
	mu     sync.Mutex
	bodies map[string]bool
	// caseID is the south case of smsSurvivor; linkA and linkB the two
	// linked cases of smsLinked (teams south and north).
	caseID, linkA, linkB string
	// responder is the responder whose page phone is smsResponder.
	responder *staff.Principal
}

type smsOptions struct {
	level     slog.Level
	reply     string
	statuses  SMSStatuses
	withCases bool
}

type smsOption func(*smsOptions)

func withSMSReply(r string) smsOption { return func(o *smsOptions) { o.reply = r } }

// withSMSLogLevel sets the suite logger's level (load tests log at info,
// as production does).
func withSMSLogLevel(l slog.Level) smsOption { return func(o *smsOptions) { o.level = l } }

// newSMSEnv builds the server with the SMS routes, every logger writing to
// the suite's sink, one enrolled case for smsSurvivor, two linked cases
// for smsLinked, and a responder of south with page phone smsResponder.
func newSMSEnv(t *testing.T, opts ...smsOption) *smsEnv {
	t.Helper()
	o := smsOptions{withCases: true, level: slog.LevelDebug}
	for _, f := range opts {
		f(&o)
	}
	env := newTestEnv(t)
	e := &smsEnv{testEnv: env, log: &smsLog{}, Registry: prometheus.NewRegistry(), bodies: map[string]bool{}}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: o.level}))
	t.Cleanup(func() { e.checkLogs(t) })

	dir, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	env.Staff, err = staff.NewService(staff.Options{Store: env.Store, Now: env.Clock.Now, Argon2: stafftest.Params(), Districts: dir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	pins := smsPINKey(t)
	env.Cases, err = casework.NewCases(casework.CasesOptions{Store: env.Store, PINs: pins, CheckinWord: "OK", Now: env.Clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.Alerts = alert.NewService(env.Store, casework.NewSource(env.Cases), alert.Config{TriageTeam: "triage"}, env.Clock.Now, logger)
	e.Intake, err = sms.NewIntake(sms.IntakeConfig{
		Cases: env.Cases, Alerts: e.Alerts, Staff: env.Staff, Postcodes: dir,
		TriageTeam: "triage", CodeWords: []string{smsDeployWord}, Now: env.Clock.Now, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	statuses := o.statuses
	if statuses == nil {
		statuses = env.Store
	}
	env.Server.Close()
	e.Handler = publicHandler(Deps{
		Logger: logger, Registry: e.Registry, Now: env.Clock.Now,
		Staff: env.Staff, Cases: env.Cases, Alerts: e.Alerts, Postcodes: dir,
		SMS: &SMS{
			Verifier: sms.NewVerifier(smsPublicURL, smsToken, smsOldToken),
			Intake:   e.Intake,
			Statuses: statuses,
			Reply:    o.reply,
		},
	})
	env.Server = httptest.NewTLSServer(e.Handler)
	t.Cleanup(env.Server.Close)
	if o.withCases {
		e.seed(t)
	}
	return e
}

func (e *smsEnv) seed(t *testing.T) {
	t.Helper()
	worker := e.login(t, "casey", []staff.Role{staff.RoleCaseworker}, []string{"south", "north", "triage"})
	e.caseID = e.createCase(t, worker, smsCaseBody(smsSurvivor, "Wren", "south", smsCode, smsDuressWord))
	e.linkA = e.createCase(t, worker, smsCaseBody(smsLinked, "Finch", "south", "garden gnome", "red kite"))
	// A link across teams is an administrator's decision: the second
	// case's phone is held until they link the two.
	e.linkB = e.createCase(t, worker, smsCaseBody(smsLinked, "Lark", "north", "marble stairs", "green door"))
	admin := e.login(t, "ada", []staff.Role{staff.RoleAdmin}, nil)
	if status, _, body := e.call(t, admin, "POST", "/v1/reviews/phones/"+e.linkB, map[string]string{"decision": "link"}); status != http.StatusNoContent {
		t.Fatalf("link across teams: %d %s", status, body)
	}

	ctx := context.Background()
	phone, err := pii.ParsePhone(smsResponder, "GB")
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := e.Staff.AddWithPassword(ctx, staff.NewAccount{
		Username: "rowan", DisplayName: "Rowan", Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south"}, Phone: phone,
	}, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	e.responder = &staff.Principal{StaffID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Roles: a.Roles, Teams: a.Teams}
}

func smsCaseBody(phone, alias, team, code, duress string) map[string]any {
	return map[string]any{
		"phone": phone, "alias": alias, "team": team, "risk_level": "medium",
		"code_words": []string{code}, "duress_words": []string{duress},
		"pin": smsPIN, "duress_pin": smsDuressPIN,
		"safe_contact": map[string]any{
			"windows":  []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "from": "09:00", "to": "17:00"}},
			"channels": map[string]any{"call": false, "sms": true},
		},
	}
}

func (e *smsEnv) createCase(t *testing.T, c *http.Client, body map[string]any) string {
	t.Helper()
	status, _, b := e.call(t, c, "POST", "/v1/cases", body)
	if status != http.StatusCreated {
		t.Fatalf("create case: %d %s", status, b)
	}
	return jsonField(t, b, "id")
}

// checkLogs fails the test if any log line holds a seeded phone number or
// a message body sent in the test.
func (e *smsEnv) checkLogs(t *testing.T) {
	t.Helper()
	logs := e.log.String()
	for _, p := range []string{smsSurvivor, smsLinked, smsStranger, smsResponder} {
		for _, f := range smsPhoneForms(p) {
			if strings.Contains(logs, f) {
				t.Errorf("a log line holds a seeded phone number (%q)", f)
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for b := range e.bodies {
		if len(b) >= 4 && strings.Contains(logs, b) {
			t.Errorf("a log line holds a message body (%.20q…)", b)
		}
	}
	for _, w := range []string{smsCode, smsDuressWord, smsPIN, smsDuressPIN} {
		if strings.Contains(logs, w) {
			t.Errorf("a log line holds a code word or PIN (%q)", w)
		}
	}
}

// smsForm is a form as Twilio posts it for an inbound text.
func smsForm(sid, from, body string) map[string]string {
	return map[string]string{
		"ToCountry": "GB", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
		"FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
		"Body": body, "FromCountry": "GB", "To": smsIntakeTo, "ToZip": "", "NumSegments": "1",
		"MessageSid": sid, "AccountSid": "AC0123456789abcdef0123456789abcdef", "From": from, "ApiVersion": "2010-04-01",
	}
}

// newSID is a fresh Twilio-shaped message SID.
func newSID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "SM" + hex.EncodeToString(b)
}

func smsPINKey(t *testing.T) *seal.PINKey {
	t.Helper()
	k, err := seal.NewPINKey(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// post sends form to path, signed as Twilio would (for the configured
// public URL and the current token) when sign is true, with extra headers
// in pairs.
func (e *smsEnv) post(t testing.TB, path string, form map[string]string, sig string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	if b := form["Body"]; b != "" {
		e.mu.Lock()
		e.bodies[b] = true
		e.mu.Unlock()
	}
	req, err := http.NewRequest("POST", e.Server.URL+path, strings.NewReader(sms.EncodeForm(form)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if sig != "" {
		req.Header.Set(sms.SignatureHeader, sig)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// signed posts form to path with a valid signature.
func (e *smsEnv) signed(t testing.TB, path string, form map[string]string) (int, http.Header, []byte) {
	t.Helper()
	return e.post(t, path, form, sms.Sign(smsToken, smsPublicURL+path, form))
}

// text sends a signed inbound text and expects the empty TwiML answer.
func (e *smsEnv) text(t testing.TB, sid, from, body string) {
	t.Helper()
	status, hdr, b := e.signed(t, "/sms/inbound", smsForm(sid, from, body))
	if status != http.StatusOK || string(b) != string(sms.Reply("")) || hdr.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Fatalf("inbound = %d %q %s, want 200 text/xml empty Response", status, hdr.Get("Content-Type"), b)
	}
}

// watcher can see every team's alerts.
func smsWatcher() *staff.Principal {
	return &staff.Principal{StaffID: "s_watcherwatcherwatche", Username: "watcher",
		Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south", "north", "triage"}}
}

// open lists the open alerts every team can see, with their full views.
func (e *smsEnv) open(t testing.TB) []*alert.View {
	t.Helper()
	ctx := context.Background()
	as, err := e.Alerts.List(ctx, smsWatcher(), "open")
	if err != nil {
		t.Fatal(err)
	}
	var out []*alert.View
	for _, a := range as {
		v, err := e.Alerts.Get(ctx, smsWatcher(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// messages are the survivor texts on an alert's timeline.
func smsMessages(v *alert.View) []string {
	var out []string
	for _, en := range v.Alert.Timeline {
		if en.Type == alert.EntryMessage {
			out = append(out, en.Text.Reveal())
		}
	}
	return out
}

func TestSMSForgedWebhooksRefused(t *testing.T) {
	e := newSMSEnv(t)
	form := smsForm(newSID(), smsSurvivor, smsCode)
	good := sms.Sign(smsToken, smsPublicURL+"/sms/inbound", form)
	tampered := func(k, v string) map[string]string {
		c := maps(form)
		c[k] = v
		return c
	}
	before := stateDigest(t, e.testEnv)
	tests := []struct {
		name string
		path string
		form map[string]string
		sig  string
		hdr  []string
		want int
	}{
		{"no signature", "/sms/inbound", form, "", nil, 403},
		{"garbage signature", "/sms/inbound", form, "AAAA", nil, 403},
		{"wrong token", "/sms/inbound", form, sms.Sign("ffffffffffffffffffffffffffffffff", smsPublicURL+"/sms/inbound", form), nil, 403},
		{"signed for the request's own host", "/sms/inbound", form, sms.Sign(smsToken, e.Server.URL+"/sms/inbound", form), nil, 403},
		{"signed for a forwarded host", "/sms/inbound", form, sms.Sign(smsToken, "https://evil.example.org/sms/inbound", form),
			[]string{"X-Forwarded-Host", "evil.example.org", "X-Forwarded-Proto", "https", "Forwarded", "host=evil.example.org;proto=https"}, 403},
		{"signed for another path", "/sms/inbound", form, sms.Sign(smsToken, smsPublicURL+"/sms/status", form), nil, 403},
		{"body changed after signing", "/sms/inbound", tampered("Body", smsDuressWord), good, nil, 403},
		{"sender changed after signing", "/sms/inbound", tampered("From", smsStranger), good, nil, 403},
		{"status with inbound's signature", "/sms/status", form, good, nil, 403},
		{"status unsigned", "/sms/status", map[string]string{"MessageSid": newSID(), "MessageStatus": "failed"}, "", nil, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.post(t, tc.path, tc.form, tc.sig, tc.hdr...)
			if status != tc.want {
				t.Errorf("status %d %s, want %d", status, body, tc.want)
			}
		})
	}
	// A repeated parameter could carry a value the signature does not
	// cover: refused, however it is signed.
	raw := sms.EncodeForm(form) + "&Body=" + smsDuressWord
	req, _ := http.NewRequest("POST", e.Server.URL+"/sms/inbound", strings.NewReader(raw))
	req.Header.Set(sms.SignatureHeader, good)
	if resp, err := e.Server.Client().Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("repeated parameter: %v %v, want 403", resp.StatusCode, err)
	}
	// Oversized: 413 before any parsing.
	req, _ = http.NewRequest("POST", e.Server.URL+"/sms/inbound", strings.NewReader("Body="+strings.Repeat("x", sms.MaxForm)))
	req.Header.Set(sms.SignatureHeader, good)
	if resp, err := e.Server.Client().Do(req); err != nil || resp.StatusCode != 413 {
		t.Errorf("oversized: %v %v, want 413", resp.StatusCode, err)
	}
	if after := stateDigest(t, e.testEnv); after != before {
		t.Errorf("forged webhooks changed stored state")
	}
	if n := len(e.open(t)); n != 0 {
		t.Errorf("%d alerts after forged webhooks, want 0", n)
	}
}

func maps(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func TestSMSPreviousTokenAccepted(t *testing.T) {
	e := newSMSEnv(t)
	form := smsForm(newSID(), smsSurvivor, smsCode)
	status, _, _ := e.post(t, "/sms/inbound", form, sms.Sign(smsOldToken, smsPublicURL+"/sms/inbound", form))
	if status != http.StatusOK {
		t.Fatalf("signed with the previous token: %d, want 200", status)
	}
	if n := len(e.open(t)); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
}

func TestSMSInboundOutcomes(t *testing.T) {
	type want struct {
		alerts      int
		team        string
		class       alert.Class
		caseOf      string // "case", "" for unknown
		loc         bool
		hint        string
		unconfirmed bool
	}
	tests := []struct {
		name string
		from string
		body string
		want want
	}{
		{"code word", smsSurvivor, "Silver Teapot", want{alerts: 1, team: "south", class: alert.ClassPanic, caseOf: "case"}},
		{"code word with postcode", smsSurvivor, "silver teapot SO14 7DZ by the park", want{alerts: 1, team: "south", class: alert.ClassPanic, caseOf: "case", loc: true, hint: "SO14 7DZ by the park"}},
		{"code word mid-text with emoji", smsSurvivor, "hi mum 🌹 silver teapot!!", want{alerts: 1, team: "south", class: alert.ClassPanic, caseOf: "case", hint: "hi mum"}},
		{"near miss raises unconfirmed", smsSurvivor, "silver teapto", want{alerts: 1, team: "south", class: alert.ClassPanic, caseOf: "case", unconfirmed: true}},
		{"duress word", smsSurvivor, "blue umbrella", want{alerts: 1, team: "south", class: alert.ClassDuress, caseOf: "case"}},
		{"check-in real PIN", smsSurvivor, "OK " + smsPIN, want{}},
		{"check-in duress PIN", smsSurvivor, "ok " + smsDuressPIN, want{alerts: 1, team: "south", class: alert.ClassDuress, caseOf: "case"}},
		{"other text", smsSurvivor, "running late, back at 6", want{alerts: 1, team: "south", class: alert.ClassMessage, caseOf: "case"}},
		{"carrier keyword", smsSurvivor, "HELP", want{alerts: 1, team: "south", class: alert.ClassMessage, caseOf: "case"}},
		{"unknown with deployment word", smsStranger, "Lighthouse SO15 2AB", want{alerts: 1, team: "triage", class: alert.ClassPanic, loc: true, hint: "SO15 2AB"}},
		{"unknown with a case's code word", smsStranger, smsCode, want{alerts: 1, team: "triage", class: alert.ClassMessage}},
		{"unknown other text", smsStranger, "wrong number sorry", want{alerts: 1, team: "triage", class: alert.ClassMessage}},
		{"staff phone other text", smsResponder, "silver teapot", want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSMSEnv(t)
			e.text(t, newSID(), tc.from, tc.body)
			open := e.open(t)
			if len(open) != tc.want.alerts {
				t.Fatalf("%d open alerts, want %d", len(open), tc.want.alerts)
			}
			if tc.want.alerts == 0 {
				return
			}
			a := open[0].Alert
			if a.Team != tc.want.team || a.Class != tc.want.class {
				t.Errorf("alert team %q class %v, want %q %v", a.Team, a.Class, tc.want.team, tc.want.class)
			}
			if (a.CaseID != "") != (tc.want.caseOf == "case") {
				t.Errorf("alert case %q, want a case: %v", a.CaseID, tc.want.caseOf == "case")
			}
			// A plain message shows byte-exact; a text that matched a code
			// word shows only its hint (the text holds the word, perhaps a
			// PIN, which no responder may see).
			got := smsMessages(open[0])
			switch {
			case a.Class == alert.ClassMessage:
				if !slices.Contains(got, tc.body) {
					t.Errorf("timeline messages %d, want the body byte-exact", len(got))
				}
			case tc.want.hint == "":
				if len(got) != 0 {
					t.Errorf("timeline shows %d messages for a bare code word, want none", len(got))
				}
			default:
				if !slices.Equal(got, []string{tc.want.hint}) {
					t.Errorf("timeline messages %q, want only the hint %q", got, tc.want.hint)
				}
			}
			for _, m := range got {
				for _, secret := range []string{"teapot", "umbrella", smsPIN, smsDuressPIN} {
					if a.Class != alert.ClassMessage && strings.Contains(strings.ToLower(m), secret) {
						t.Errorf("the timeline shows a code word or PIN")
					}
				}
			}
			unconfirmed := false
			for _, en := range open[0].Alert.Timeline {
				unconfirmed = unconfirmed || strings.Contains(en.Detail, "unconfirmed")
			}
			if unconfirmed != tc.want.unconfirmed {
				t.Errorf("marked unconfirmed: %v, want %v", unconfirmed, tc.want.unconfirmed)
			}
			if tc.want.caseOf == "" && a.Sender.Reveal() != tc.from {
				t.Errorf("unknown sender's number not kept (sealed) on the alert")
			}
			if got := len(open[0].Alert.Trail) > 0; got != tc.want.loc {
				t.Errorf("location on the trail: %v, want %v", got, tc.want.loc)
			}
		})
	}
}

func TestSMSOptOutMarksCaseBlocked(t *testing.T) {
	e := newSMSEnv(t)
	e.text(t, newSID(), smsSurvivor, "STOP")
	c, err := e.Cases.Load(context.Background(), e.caseID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SMSBlocked {
		t.Error("case not marked SMS blocked after STOP")
	}
	open := e.open(t)
	if len(open) != 1 || open[0].Alert.Team != "south" || open[0].Alert.Class != alert.ClassMessage {
		t.Fatalf("open alerts %d, want one message alert for south", len(open))
	}
}

func TestSMSLinkedCasesReachBothTeams(t *testing.T) {
	e := newSMSEnv(t)
	e.text(t, newSID(), smsLinked, "garden gnome")
	teams := map[string]alert.Class{}
	for _, v := range e.open(t) {
		teams[v.Alert.Team] = v.Alert.Class
	}
	// The panic word is case A's; case B's team still hears of the text.
	if teams["south"] != alert.ClassPanic || teams["north"] != alert.ClassMessage {
		t.Errorf("alerts by team %v, want a panic for south and a message for north", teams)
	}
}

func TestSMSBodiesStoredByteExact(t *testing.T) {
	bodies := map[string]string{
		"urdu":       "مجھے مدد چاہیے، وہ گھر پر ہے",
		"polish":     "Zażółć gęślą jaźń — jestem w domu",
		"emoji":      "🌹🙏🏽❤️‍🔥 👍",
		"1600 chars": strings.Repeat("ź", 1600),
		// The most one SMS holds: 1,600 characters of four bytes each.
		"1600 emoji": strings.Repeat("🌹", 1600),
		"controls":   "line one\r\nline two\ttabbed \u200d",
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			e := newSMSEnv(t)
			e.text(t, newSID(), smsSurvivor, body)
			open := e.open(t)
			if len(open) != 1 {
				t.Fatalf("%d alerts, want 1", len(open))
			}
			got := smsMessages(open[0])
			if len(got) != 1 {
				t.Fatalf("%d messages on the timeline, want 1", len(got))
			}
			if got[0] != body {
				t.Errorf("stored body (%d bytes) differs from the one sent (%d bytes)", len(got[0]), len(body))
			}
			if strings.Contains(redisText(t, e.testEnv), body) {
				t.Error("the body is in Redis in the clear")
			}
		})
	}
}

func TestSMSEmptyAndMediaOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		media int
	}{{"empty", 0}, {"media only", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSMSEnv(t)
			form := smsForm(newSID(), smsSurvivor, "")
			form["NumMedia"] = fmt.Sprint(tc.media)
			for i := range tc.media {
				form[fmt.Sprintf("MediaUrl%d", i)] = fmt.Sprintf("https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM/Media/ME%d", i)
				form[fmt.Sprintf("MediaContentType%d", i)] = "image/jpeg"
			}
			status, _, body := e.signed(t, "/sms/inbound", form)
			if status != http.StatusOK {
				t.Fatalf("status %d %s, want 200", status, body)
			}
			open := e.open(t)
			if len(open) != 1 || open[0].Alert.Team != "south" {
				t.Fatalf("%d alerts, want one message alert for south", len(open))
			}
			// Nothing stands in for the missing text: the timeline holds
			// no message, and the raise says what came.
			if got := smsMessages(open[0]); len(got) != 0 {
				t.Errorf("timeline messages %q, want none", got)
			}
			want := "with no text"
			if tc.media > 0 {
				want = fmt.Sprintf("with %d attachment(s) held by Twilio", tc.media)
			}
			said := false
			for _, en := range open[0].Alert.Timeline {
				said = said || (en.Type == alert.EntryRaised && strings.Contains(en.Detail, want))
			}
			if !said {
				t.Errorf("the raise does not say %q", want)
			}
		})
	}
}

func TestSMSSameSIDFiveTimesOneAlert(t *testing.T) {
	e := newSMSEnv(t)
	sid := newSID()
	e.text(t, sid, smsSurvivor, smsCode)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { e.text(t, sid, smsSurvivor, smsCode) })
	}
	wg.Wait()
	e.text(t, sid, smsSurvivor, smsCode)
	e.text(t, sid, smsSurvivor, smsCode)
	open := e.open(t)
	if len(open) != 1 {
		t.Fatalf("%d alerts, want 1", len(open))
	}
	raised := 0
	for _, en := range open[0].Alert.Timeline {
		if en.Type == alert.EntryRaised {
			raised++
		}
	}
	if len(open[0].Alert.Timeline) == 0 || raised > 1 {
		t.Errorf("timeline has %d entries, %d raised; want the one raise only", len(open[0].Alert.Timeline), raised)
	}
	first := len(open[0].Alert.Timeline)
	e.text(t, sid, smsSurvivor, smsCode)
	if n := len(e.open(t)[0].Alert.Timeline); n != first {
		t.Errorf("a repeat added %d timeline entries", n-first)
	}

	// Two copies of a fresh message arriving at once also make one.
	e2 := newSMSEnv(t)
	sid = newSID()
	start := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			<-start
			e2.text(t, sid, smsStranger, smsDeployWord)
		})
	}
	close(start)
	wg.Wait()
	if n := len(e2.open(t)); n != 1 {
		t.Errorf("two concurrent copies: %d alerts, want 1", n)
	}
}

func TestSMSAnswersIdentical(t *testing.T) {
	for _, reply := range []string{"", "Thanks, message received."} {
		t.Run(fmt.Sprintf("reply %q", reply), func(t *testing.T) {
			e := newSMSEnv(t, withSMSReply(reply))
			type answer struct {
				status int
				hdr    http.Header
				body   string
			}
			var first *answer
			for _, tc := range []struct{ from, body string }{
				{smsSurvivor, smsCode},
				{smsSurvivor, smsDuressWord},
				{smsSurvivor, "OK " + smsPIN},
				{smsSurvivor, "OK " + smsDuressPIN},
				{smsSurvivor, "STOP"},
				{smsSurvivor, "see you at 6"},
				{smsStranger, smsDeployWord},
				{smsStranger, "hello?"},
				{smsLinked, "garden gnome"},
				{smsResponder, "ACK Nobody"},
				{"WAYMARK", "alphanumeric sender"},
			} {
				status, hdr, body := e.signed(t, "/sms/inbound", smsForm(newSID(), tc.from, tc.body))
				h := hdr.Clone()
				h.Del("X-Request-Id")
				h.Del("Date")
				got := &answer{status, h, string(body)}
				if first == nil {
					first = got
					if want := string(sms.Reply(reply)); got.body != want || got.status != 200 {
						t.Fatalf("answer %d %s, want 200 %s", got.status, got.body, want)
					}
					continue
				}
				if got.status != first.status || got.body != first.body || fmt.Sprint(got.hdr) != fmt.Sprint(first.hdr) {
					t.Errorf("answer to %q differs:\n got %d %v %s\nwant %d %v %s", tc.body, got.status, got.hdr, got.body, first.status, first.hdr, first.body)
				}
			}
		})
	}
}

func TestSMSResponderAck(t *testing.T) {
	e := newSMSEnv(t)
	e.text(t, newSID(), smsSurvivor, smsCode)
	open := e.open(t)
	if len(open) != 1 {
		t.Fatalf("%d alerts, want 1", len(open))
	}
	id := open[0].Alert.ID

	// Anything else from a staff phone is ignored, never a survivor's text.
	e.text(t, newSID(), smsResponder, "on my way")
	e.text(t, newSID(), smsResponder, "ACK Nobody")
	if v := e.open(t); len(v) != 1 || v[0].Alert.State != alert.StateRaised {
		t.Fatalf("after other staff texts: %d alerts, state %v; want the one alert still raised", len(v), v[0].Alert.State)
	}

	e.text(t, newSID(), smsResponder, "ack wren")
	v, err := e.Alerts.Get(context.Background(), e.responder, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Alert.State != alert.StateAcknowledged || v.Alert.Owner != e.responder.StaffID {
		t.Errorf("after ACK: state %v owner %q, want acknowledged by the responder", v.Alert.State, v.Alert.Owner)
	}
	// The dashboard's claim now loses to the SMS one, as it would to
	// another dashboard.
	other := &staff.Principal{StaffID: "s_otherotherotherother", Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south"}}
	if err := e.Alerts.Ack(context.Background(), other, id); err == nil {
		t.Error("a second claim succeeded")
	}
}

func TestSMSStatusCallbacks(t *testing.T) {
	e := newSMSEnv(t, func(o *smsOptions) { o.withCases = false })
	sid := newSID()
	ctx := context.Background()
	if err := e.Store.RecordPage(ctx, sid, "a_abcdefghijklmnopqrst", "queued", 1); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"sent", "sending", "undelivered", "sent", "delivered", "undelivered"} {
		form := map[string]string{"MessageSid": sid, "SmsSid": sid, "MessageStatus": st, "AccountSid": "AC0123456789abcdef0123456789abcdef", "To": smsResponder}
		if st == "undelivered" {
			form["ErrorCode"] = "30003"
		}
		status, _, body := e.signed(t, "/sms/status", form)
		if status != http.StatusNoContent {
			t.Fatalf("%s: status %d %s, want 204", st, status, body)
		}
	}
	got, ok, err := e.Store.GetSMSStatus(ctx, sid)
	if err != nil || !ok || got.State != "undelivered" || got.ErrorCode != 30003 {
		t.Errorf("stored status %+v %v %v, want undelivered 30003", got, ok, err)
	}
	// Counted once, whatever the repeats.
	mfs, _ := e.Registry.Gather()
	var failures float64
	for _, mf := range mfs {
		if mf.GetName() == "waymark_sms_delivery_failures_total" {
			failures = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if failures != 1 {
		t.Errorf("failure counter %v, want 1", failures)
	}
	if !strings.Contains(e.log.String(), "page not delivered") {
		t.Error("the failure is not logged")
	}
	// Malformed but signed: 422, nothing stored.
	bad := map[string]string{"MessageSid": "SMnope", "MessageStatus": "sent"}
	if status, _, _ := e.signed(t, "/sms/status", bad); status != http.StatusUnprocessableEntity {
		t.Errorf("malformed status: %d, want 422", status)
	}
}

// TestSMSRedisFrozen: Redis not answering gives 503 within about 2 s,
// never a false 200; Twilio's retry once Redis is back raises one alert.
func TestSMSRedisFrozen(t *testing.T) {
	e := newSMSEnv(t)
	form := smsForm(newSID(), smsSurvivor, smsCode)
	e.Redis.Freeze()
	start := time.Now()
	status, _, _ := e.signed(t, "/sms/inbound", form)
	took := time.Since(start)
	e.Redis.Thaw()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("with redis frozen: %d, want 503", status)
	}
	if took > 3*time.Second {
		t.Errorf("gave up after %v, want within 3 s", took)
	}
	for range 2 {
		if status, _, b := e.signed(t, "/sms/inbound", form); status != http.StatusOK {
			t.Fatalf("retry: %d %s", status, b)
		}
	}
	if n := len(e.open(t)); n != 1 {
		t.Errorf("%d alerts after the retries, want 1", n)
	}
}
