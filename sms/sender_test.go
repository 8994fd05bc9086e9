package sms

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/testenv"
	"waymark/outbox"
	"waymark/pii"
	"waymark/problem"
)

const (
	pageFrom     = "+447700900001"
	survivorFrom = "+447700900002"
	responder    = "+447700900123"
	publicURL    = "https://waymark.example.org"
)

// syncLog is a log sink tests read back.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLog returns a debug logger without the pii backstop, so a test sees
// exactly what the code logged.
func newLog() (*slog.Logger, *syncLog) {
	l := &syncLog{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// phoneForms is every way a number might show up in a log line.
func phoneForms(e164 string) []string {
	national := "0" + strings.TrimPrefix(e164, "+44")
	return []string{
		e164, strings.TrimPrefix(e164, "+"), national, national[1:],
		national[:5] + " " + national[5:], "%2B" + e164[1:],
	}
}

func assertNoPhone(t *testing.T, where, s string, phones ...string) {
	t.Helper()
	for _, p := range phones {
		for _, f := range phoneForms(p) {
			if strings.Contains(s, f) {
				t.Errorf("%s contains a phone number (%q)", where, f)
			}
		}
	}
}

func mustPhone(t *testing.T, s string) pii.Phone {
	t.Helper()
	p, err := pii.ParsePhone(s, "GB")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hostRecorder notes the host each request was addressed to before the
// fake's redirect.
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
	next  http.RoundTripper
}

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, r.URL.Host)
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

func newTestSender(t *testing.T, f *testenv.FakeTwilio, mod func(*SenderConfig)) (*Sender, *syncLog) {
	t.Helper()
	log, buf := newLog()
	cfg := SenderConfig{
		AccountSID:     f.AccountSID,
		AuthToken:      f.AuthToken,
		From:           pageFrom,
		SurvivorFrom:   survivorFrom,
		PublicURL:      publicURL + "/",
		Transport:      f.Transport(),
		AttemptTimeout: 2 * time.Second,
		MinBackoff:     time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		Logger:         log,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, buf
}

func TestSendPage(t *testing.T) {
	f := testenv.StartTwilio(t)
	// twilio-go's own environment fallbacks must change nothing.
	t.Setenv("TWILIO_ACCOUNT_SID", "AC"+strings.Repeat("0", 32))
	t.Setenv("TWILIO_AUTH_TOKEN", strings.Repeat("0", 32))
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	hosts := &hostRecorder{next: f.Transport()}
	s, logs := newTestSender(t, f, func(c *SenderConfig) { c.Transport = hosts })

	sid, err := pageSouth(context.Background(), s, mustPhone(t, responder))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
		t.Errorf("sid = %q, want SM + 32", sid)
	}
	reqs := f.Messages()
	if len(reqs) != 1 {
		t.Fatalf("%d message requests, want 1", len(reqs))
	}
	r := reqs[0]
	if !r.Authorized || r.Account != f.AccountSID {
		t.Errorf("request authorized=%v account=%q: the configured credentials were not used", r.Authorized, r.Account)
	}
	want := map[string]string{
		"To":             responder,
		"From":           pageFrom,
		"Body":           "Waymark: urgent alert for team South. Open the dashboard.",
		"StatusCallback": publicURL + "/sms/status",
	}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if hosts.hosts[0] != "api.twilio.com" {
		t.Errorf("request addressed to %q, want api.twilio.com (TWILIO_EDGE/REGION must not apply)", hosts.hosts[0])
	}
	assertNoPhone(t, "log", logs.String(), responder)
}

func TestSendViaAPIURL(t *testing.T) {
	f := testenv.StartTwilio(t)
	s, _ := newTestSender(t, f, func(c *SenderConfig) { c.Transport = nil; c.APIURL = f.URL() + "/" })
	if _, err := s.Send(context.Background(), Page{To: mustPhone(t, responder), Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("%d requests reached the fake, want 1", n)
	}
}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []testenv.Reply
		attempts int
	}{
		{"500 then ok", []testenv.Reply{{Status: 500}}, 2},
		{"429 twice then ok", []testenv.Reply{{Status: 429, Code: testenv.TwilioTooMany}, {Status: 429, Code: testenv.TwilioTooMany}}, 3},
		{"html 502 then ok", []testenv.Reply{{Status: 502, RawBody: "<html>Bad Gateway</html>"}}, 2},
		{"503 then hang then ok", []testenv.Reply{{Status: 503}, {Hang: true}}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := testenv.StartTwilio(t)
			f.Script(tc.script...)
			s, logs := newTestSender(t, f, func(c *SenderConfig) { c.AttemptTimeout = 200 * time.Millisecond })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sid, err := pageSouth(ctx, s, mustPhone(t, responder))
			if err != nil {
				t.Fatalf("PageResponder = %v", err)
			}
			if sid == "" {
				t.Error("no sid")
			}
			if n := len(f.Requests()); n != tc.attempts {
				t.Errorf("%d attempts, want %d", n, tc.attempts)
			}
			assertNoPhone(t, "log", logs.String(), responder)
		})
	}
}

func TestSendFinalErrors(t *testing.T) {
	tests := []struct {
		name string
		code int
		want error
	}{
		{"invalid number", testenv.TwilioInvalidTo, ErrBadNumber},
		{"unsubscribed", testenv.TwilioUnsubscribed, ErrUnsubscribed},
		{"not a mobile", testenv.TwilioNotMobile, ErrBadNumber},
		{"other 400", 21606, ErrRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := testenv.StartTwilio(t)
			f.Script(testenv.Reply{Status: 400, Code: tc.code})
			s, logs := newTestSender(t, f, nil)
			_, err := pageSouth(context.Background(), s, mustPhone(t, responder))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("%d attempts, want 1 (no retry)", n)
			}
			// Twilio's message names the number; ours must not.
			assertNoPhone(t, "error", err.Error(), responder)
			assertNoPhone(t, "log", logs.String(), responder)
		})
	}
}

func TestSendBadCredentialsRefusedBeforeSending(t *testing.T) {
	f := testenv.StartTwilio(t)
	s, _ := newTestSender(t, f, func(c *SenderConfig) { c.AuthToken = "not-alphanumeric!" })
	_, err := pageSouth(context.Background(), s, mustPhone(t, responder))
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v, want ErrRejected", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

func TestSendGivesUpAtDeadline(t *testing.T) {
	f := testenv.StartTwilio(t)
	var script []testenv.Reply
	for range 1000 {
		script = append(script, testenv.Reply{Status: 503})
	}
	f.Script(script...)
	s, _ := newTestSender(t, f, func(c *SenderConfig) { c.MinBackoff, c.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := pageSouth(ctx, s, mustPhone(t, responder))
	if !errors.Is(err, ErrUndelivered) || !errors.Is(err, problem.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUndelivered", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("gave up after %v, want about 300ms", d)
	}
	if n := len(f.Requests()); n < 3 || n > 200 {
		t.Errorf("%d attempts within 300ms, want several, bounded", n)
	}
}

func TestSendHangsUntilDeadline(t *testing.T) {
	f := testenv.StartTwilio(t)
	f.Script(testenv.Reply{Hang: true}, testenv.Reply{Hang: true}, testenv.Reply{Hang: true})
	s, _ := newTestSender(t, f, func(c *SenderConfig) { c.AttemptTimeout = 10 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := pageSouth(ctx, s, mustPhone(t, responder))
	if !errors.Is(err, ErrUndelivered) {
		t.Fatalf("err = %v, want ErrUndelivered", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a hanging Twilio held the send %v, past the caller's 250ms deadline", d)
	}
}

func TestTextSurvivor(t *testing.T) {
	survivor := "+447700900555"
	tests := []struct {
		name    string
		verdict casework.VerdictCode
		sms     bool
		want    error
	}{
		{"text only", casework.TextOnly, true, nil},
		{"safe to call", casework.SafeToCall, true, nil},
		{"do not contact", casework.DoNotContact, true, ErrNotAllowed},
		{"sms not a safe channel", casework.TextOnly, false, ErrNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := testenv.StartTwilio(t)
			s, logs := newTestSender(t, f, nil)
			_, err := s.TextSurvivor(context.Background(), mustPhone(t, survivor),
				casework.Verdict{Code: tc.verdict}, casework.Channels{SMS: tc.sms}, pii.NewText("Hi, it's the dentist."))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			reqs := f.Messages()
			if tc.want != nil {
				if len(reqs) != 0 {
					t.Errorf("%d texts sent, want none", len(reqs))
				}
				return
			}
			if len(reqs) != 1 || reqs[0].Form.Get("From") != survivorFrom {
				t.Errorf("text not sent from the survivor number: %d requests", len(reqs))
			}
			if strings.Contains(logs.String(), "dentist") {
				t.Error("log holds the body")
			}
			assertNoPhone(t, "log", logs.String(), survivor)
		})
	}
	f := testenv.StartTwilio(t)
	s, _ := newTestSender(t, f, func(c *SenderConfig) { c.SurvivorFrom = "" })
	if _, err := s.TextSurvivor(context.Background(), mustPhone(t, survivor), casework.Verdict{Code: casework.TextOnly}, casework.Channels{SMS: true}, pii.NewText("x")); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("without a survivor number: err = %v, want ErrNotAllowed", err)
	}
}

func TestSendFromUnconfiguredNumber(t *testing.T) {
	f := testenv.StartTwilio(t)
	s, _ := newTestSender(t, f, nil)
	_, err := s.Send(context.Background(), Page{To: mustPhone(t, responder), Body: "x", From: "+447700900999"})
	if !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("err = %v, want ErrNotAllowed", err)
	}
}

func TestSendMessagingService(t *testing.T) {
	f := testenv.StartTwilio(t)
	mg := "MG" + strings.Repeat("ab", 16)
	s, _ := newTestSender(t, f, func(c *SenderConfig) { c.From = ""; c.MessagingServiceSID = mg })
	if _, err := pageSouth(context.Background(), s, mustPhone(t, responder)); err != nil {
		t.Fatal(err)
	}
	r := f.Messages()[0]
	if r.Form.Get("MessagingServiceSid") != mg || r.Form.Get("From") != "" {
		t.Errorf("form = %v, want the messaging service and no From", r.Form)
	}
}

func TestCall(t *testing.T) {
	f := testenv.StartTwilio(t)
	s, logs := newTestSender(t, f, nil)
	words := outbox.VoiceWords("South", false, alert.ModeReal)
	sid, err := s.Call(context.Background(), mustPhone(t, responder), words)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sid, "CA") {
		t.Errorf("sid = %q, want CA…", sid)
	}
	calls := f.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	want, err := VoicePage(words, publicURL+"/sms/voice/answer")
	if err != nil {
		t.Fatal(err)
	}
	if got := calls[0].Form.Get("Twiml"); got != want {
		t.Errorf("Twiml = %q, want %q", got, want)
	}
	if got := calls[0].Form.Get("StatusCallback"); got != publicURL+"/sms/voice/status" {
		t.Errorf("StatusCallback = %q, want the voice status webhook", got)
	}
	if got := calls[0].Form.Get("From"); got != pageFrom {
		t.Errorf("From = %q, want the page number %q", got, pageFrom)
	}
	assertNoPhone(t, "log", logs.String(), responder)
}

// TestCallThrough: the responder's phone rings from the page number and
// the survivor's shows the survivor-facing number; no status callback (the
// call is no page), and neither number in the log.
func TestCallThrough(t *testing.T) {
	survivor := "+447700900555"
	f := testenv.StartTwilio(t)
	s, logs := newTestSender(t, f, nil)
	if _, err := s.CallThrough(context.Background(), mustPhone(t, responder), mustPhone(t, survivor)); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	form := calls[0].Form
	want, _ := MaskedCall(survivorFrom, survivor)
	if form.Get("To") != responder || form.Get("From") != pageFrom || form.Get("Twiml") != want || form.Get("StatusCallback") != "" {
		t.Errorf("call form = %v; want To the responder, From the page number, Twiml %s, no callback", form, want)
	}
	assertNoPhone(t, "log", logs.String(), responder)
	assertNoPhone(t, "log", logs.String(), survivor)

	// Without a survivor-facing number nothing is placed.
	g := testenv.StartTwilio(t)
	s, _ = newTestSender(t, g, func(c *SenderConfig) { c.SurvivorFrom = "" })
	if _, err := s.CallThrough(context.Background(), mustPhone(t, responder), mustPhone(t, survivor)); !errors.Is(err, ErrNotAllowed) || len(g.Calls()) != 0 {
		t.Errorf("without a survivor number: err = %v, %d calls; want ErrNotAllowed and none", err, len(g.Calls()))
	}
	if _, err := s.CallThrough(context.Background(), pii.Phone{}, mustPhone(t, survivor)); !errors.Is(err, ErrRejected) {
		t.Errorf("without the responder's phone: err = %v, want ErrRejected", err)
	}
}

func TestNewSenderNeedsCredentials(t *testing.T) {
	if _, err := NewSender(SenderConfig{}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("NewSender without credentials = %v, want ErrNotConfigured", err)
	}
	if _, err := NewSender(SenderConfig{AccountSID: "AC1", AuthToken: "x", APIURL: "ftp://x"}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("NewSender with a bad API URL = %v, want ErrNotConfigured", err)
	}
}

// pageSouth sends the page text for team South, as the outbox would.
func pageSouth(ctx context.Context, s *Sender, to pii.Phone) (string, error) {
	return s.Send(ctx, Page{To: to, Body: outbox.PageText("South", false, alert.ModeReal)})
}
