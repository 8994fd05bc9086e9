package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
	"waymark/sms"
)

// TestTimelineInPlainWords (issue 17): the alert screen's timeline says
// what became of each page in plain words and names the person, never a
// staff id: the primary, whose dashboard is not open, was texted, and the
// text was delivered. Waymark pages through a fake Twilio reached by
// twilio-go; the delivery report comes signed, as Twilio sends it.
func TestTimelineInPlainWords(t *testing.T) {
	chrome := testenv.StartChrome(t)
	fake := testenv.StartTwilio(t)
	s := newStackEnv(t, []string{"WAYMARK_TWILIO_ACCOUNT_SID=" + fake.AccountSID, "WAYMARK_TWILIO_AUTH_TOKEN=" + fake.AuthToken,
		"WAYMARK_TWILIO_API_URL=" + fake.URL(), "WAYMARK_TWILIO_FROM=+447700900500", "WAYMARK_PUBLIC_URL=http://127.0.0.1",
		"WAYMARK_CANCEL_WINDOW=5s"})
	alice := s.addAccount(t, "alice", "Alice Adams", "responder", "north")
	s.admin(t, strings.NewReader("a long enough password for ruth\n"), "staff", "add", "--username", "ruth", "--display-name", "Ruth Okafor",
		"--role", "responder", "--team", "north", "--phone", "+447700900101", "--password-stdin")
	s.admin(t, strings.NewReader(`
team: north
timezone: Europe/London
shifts:
  - {tier: primary, staff: ruth, days: daily, start: "00:00", end: "24:00"}
`), "rota", "set", "--team", "north", "-")
	s.admin(t, strings.NewReader(`{"high": {"steps": [
		{"whom": ["oncall:primary"], "how": ["dashboard", "sms"], "wait": "10m"},
		{"whom": ["fallback"], "how": ["sms"], "wait": "10m"}]},
		"medium": {"steps": [
		{"whom": ["oncall:primary"], "how": ["dashboard", "sms"], "wait": "10m"},
		{"whom": ["fallback"], "how": ["sms"], "wait": "10m"}]}}`), "policy", "set", "--team", "north", "-")
	cw := s.client(t, s.addStaff(t, "carol", "Carol Cole", "caseworker"))
	jay := s.seedContactCase(t, cw, "Jay", "+447700900302", "medium", true, true, true)
	s.signal(t, jay, map[string]any{"kind": "panic"})

	// Ruth has no dashboard open: once the cancel window (5 s) is over she is
	// texted.
	var sid string
	deadline := time.Now().Add(60 * time.Second)
	for sid == "" && time.Now().Before(deadline) {
		for _, m := range fake.Messages() {
			if m.SID != "" && m.Form.Get("To") == "+447700900101" {
				sid = m.SID
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sid == "" {
		t.Fatalf("Ruth was not texted within a minute: %d requests to Twilio", len(fake.Requests()))
	}
	form := map[string]string{"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": fake.AccountSID}
	req, _ := http.NewRequest("POST", s.direct+"/sms/status", strings.NewReader(sms.EncodeForm(form)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.SignatureHeader, sms.Sign(fake.AuthToken, "http://127.0.0.1/sms/status", form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("delivery report: %d", res.StatusCode)
	}

	b := openBrowser(t, chrome, s.direct, 1)
	b.signIn(t, alice)
	b.liveReady(t, 10*time.Second)
	b.waitJS(t, 10*time.Second, "the alert", `document.querySelectorAll('#queue .qitem').length === 1`)
	id := eval[string](t, b, `document.querySelector('#queue .qitem').dataset.alert`)
	want := []string{
		"Texted Ruth Okafor \u2014 sent",
		"Texted Ruth Okafor \u2014 delivered",
	}
	b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/alert/`+id+`'`))
	wantJS, _ := json.Marshal(want)
	b.waitJS(t, 15*time.Second, "the timeline's page lines", `(() => {
		const lines = [...document.querySelectorAll('#timeline li')].map(li => li.innerText);
		return `+string(wantJS)+`.every(w => lines.some(l => l.includes(w)));
	})()`)
	lines := eval[[]string](t, b, `[...document.querySelectorAll('#timeline li')].map(li => li.innerText)`)
	for _, l := range lines {
		if strings.Contains(l, "s_") || strings.Contains(l, "oncall:") || strings.Contains(l, " page to ") {
			t.Errorf("timeline line %q speaks system", l)
		}
	}
	t.Logf("timeline: %q", lines)
	a11y(t, b, "alert timeline with pages")
}
