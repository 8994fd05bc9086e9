package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/postcode"
	"waymark/signpost"
	"waymark/signpost/lookup"
	"waymark/signpost/oruk"
	"waymark/sms"
)

const smsDirectoryTo = "+447700900555" // the signposting number; smsIntakeTo is the intake's

// newDirectorySMSEnv is the SMS suite's server with the signposting number
// answered through the real twilio-go client against a fake Twilio, and a
// directory of the seeds.
func newDirectorySMSEnv(t *testing.T) (*smsEnv, *testenv.FakeTwilio) {
	t.Helper()
	e := newSMSEnv(t, func(o *smsOptions) { o.withCases = false }) // no cases: the directory knows nobody
	tw := testenv.StartTwilio(t)
	sender, err := sms.NewSender(sms.SenderConfig{
		AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, From: "+447700900001",
		DirectoryFrom: smsDirectoryTo, APIURL: tw.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	national, err := oruk.Seed()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := oruk.DemoSeed()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	hol, err := signpost.DefaultHolidays()
	if err != nil {
		t.Fatal(err)
	}
	ix := signpost.NewIndex(append(national, demo...), pc, hol)
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.Server.Close()
	e.Handler = publicHandler(Deps{
		Logger: logger, Registry: prometheus.NewRegistry(), Now: e.Clock.Now,
		Staff: e.Staff, Cases: e.Cases, Alerts: e.Alerts, Postcodes: pc,
		Directory: func() *signpost.Index { return ix },
		SMS: &SMS{
			Verifier: sms.NewVerifier(smsPublicURL, smsToken, smsOldToken),
			Intake:   e.Intake,
			Statuses: e.Store,
			Directory: &DirectoryText{Number: smsDirectoryTo, Answer: func(ctx context.Context, to pii.Phone, body string) error {
				_, err := sender.TextDirectoryAnswer(ctx, to, body)
				return err
			}},
		},
	})
	e.Server = httptest.NewTLSServer(e.Handler)
	t.Cleanup(e.Server.Close)
	return e, tw
}

// TestSMSDirectoryAnswersOnlyTheSignpostingNumber: a lookup texted to the
// signposting number is answered from that number with the nearest
// services in at most two GSM-7 segments; the same text to the intake
// number (through either webhook) gets silence: an empty TwiML answer and
// nothing sent.
func TestSMSDirectoryAnswersOnlyTheSignpostingNumber(t *testing.T) {
	e, tw := newDirectorySMSEnv(t)
	directoryForm := func(from, body, to string) map[string]string {
		f := smsForm(newSID(), from, body)
		f["To"] = to
		return f
	}
	empty := string(sms.Reply(""))

	for i, tt := range []struct{ body, want string }{
		{"SO14 refuge", "In danger: 999."}, // though Galop's 0800 999 5428 is in it
		{"Cardiff men", "Men's Advice Line 0808 801 0327"},
		{"what is this", lookup.SMSHelp},
	} {
		status, _, b := e.signed(t, "/sms/directory", directoryForm(smsStranger, tt.body, smsDirectoryTo))
		if status != http.StatusOK || string(b) != empty {
			t.Fatalf("%q: %d %s, want 200 and an empty Response", tt.body, status, b)
		}
		msgs := tw.Messages()
		if len(msgs) != i+1 {
			t.Fatalf("%q: %d messages sent, want %d", tt.body, len(msgs), i+1)
		}
		m := msgs[i].Form
		got := m.Get("Body")
		if m.Get("From") != smsDirectoryTo || m.Get("To") != smsStranger || !strings.Contains(got, tt.want) {
			t.Errorf("%q: sent from %s to %s: %q", tt.body, m.Get("From"), m.Get("To"), got)
		}
		n := gsm7Len(got)
		if n > 306 || n == 0 {
			t.Errorf("%q: answer of %d GSM-7 characters (two segments are 306): %s", tt.body, n, got)
		}
		t.Logf("%q -> %q (%d GSM-7 characters)", tt.body, got, n)
	}

	// The intake number stays silent: a lookup sent to it through the
	// intake webhook, and a text addressed to it that reaches the
	// directory webhook.
	before := len(tw.Requests())
	e.text(t, newSID(), smsStranger, "SO14 refuge")
	status, _, b := e.signed(t, "/sms/directory", directoryForm(smsStranger, "SO14 refuge", smsIntakeTo))
	if status != http.StatusOK || string(b) != empty {
		t.Errorf("directory webhook, intake number: %d %s", status, b)
	}
	if got := tw.Requests(); len(got) != before {
		t.Errorf("the intake number answered: %d requests to Twilio after the texts to it", len(got)-before)
	}
	// A forged text gets nothing either.
	if status, _, _ := e.post(t, "/sms/directory", directoryForm(smsStranger, "SO14 refuge", smsDirectoryTo), "forged"); status != http.StatusForbidden {
		t.Errorf("forged directory text: %d", status)
	}
	if got := tw.Requests(); len(got) != before {
		t.Errorf("a forged text was answered")
	}
}

// TestSMSDirectoryAnswerBudget: a sender gets at most six answers an hour
// (an auto-responder would otherwise ping-pong with the number forever);
// another sender is not affected, and the budget comes back after the hour.
func TestSMSDirectoryAnswerBudget(t *testing.T) {
	e, tw := newDirectorySMSEnv(t)
	send := func(from string) {
		t.Helper()
		f := smsForm(newSID(), from, "Thanks for your message, we will reply soon")
		f["To"] = smsDirectoryTo
		if status, _, _ := e.signed(t, "/sms/directory", f); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	for range 10 {
		send(smsStranger)
	}
	if n := len(tw.Messages()); n != 6 {
		t.Errorf("10 texts from one sender got %d answers, want 6", n)
	}
	send(smsLinked)
	if n := len(tw.Messages()); n != 7 {
		t.Errorf("another sender's text: %d answers in all, want 7", n)
	}
	e.Clock.Advance(61 * time.Minute)
	send(smsStranger)
	if n := len(tw.Messages()); n != 8 {
		t.Errorf("after an hour: %d answers in all, want 8", n)
	}
}

// gsm7Len counts GSM-7 septets (the extension characters cost two).
func gsm7Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if strings.ContainsRune("^{}\\[~]|€", r) {
			n++
		}
	}
	return n
}
