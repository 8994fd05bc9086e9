package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// TestContactThroughWaymark: the alert screen offers "Ring through
// Waymark" and "Send the agreed text" to the alert's owner only where the
// verdict at that moment allows them, each reaches the fake Twilio from
// the right number and shows on the timeline in plain words, and a refusal
// by the server shows the server's own words.
func TestContactThroughWaymark(t *testing.T) {
	chrome := testenv.StartChrome(t)
	fake := testenv.StartTwilio(t)
	const pageFrom, survivorFrom = "+447700900500", "+447700900600"
	s := newStackEnv(t, []string{"WAYMARK_TWILIO_ACCOUNT_SID=" + fake.AccountSID, "WAYMARK_TWILIO_AUTH_TOKEN=" + fake.AuthToken,
		"WAYMARK_TWILIO_FROM=" + pageFrom, "WAYMARK_TWILIO_SURVIVOR_FROM=" + survivorFrom,
		"WAYMARK_TWILIO_API_URL=" + fake.URL(), "WAYMARK_PUBLIC_URL=http://127.0.0.1"})
	// Alice has a phone on her account; Dana has none.
	alice := s.addAccountArgs(t, "alice", "Alice Adams", "--role", "responder", "--team", "north", "--phone", "+447700900101")
	dana := s.addAccountArgs(t, "dana", "Dana Dunn", "--role", "responder", "--team", "north")
	cw := s.client(t, s.addStaff(t, "carol", "Carol Cole", "caseworker"))

	jay := s.seedContactCase(t, cw, "Jay", "+447700900302", "medium", true, true, true)    // SAFE TO CALL
	robin := s.seedContactCase(t, cw, "Robin", "+447700900301", "high", false, true, true) // TEXT ONLY
	lee := s.seedContactCase(t, cw, "Lee", "+447700900304", "medium", true, false, true)   // SAFE TO CALL, no texts
	ash := s.seedContactCase(t, cw, "Ash", "+447700900303", "standard", true, true, false) // DO NOT CONTACT: no window
	for _, sv := range []survivor{jay, robin, lee, ash} {
		s.signal(t, sv, map[string]any{"kind": "panic"})
	}

	open := func(b *browser, alias string, claim bool) {
		t.Helper()
		b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/queue'`), chromedp.WaitVisible(chromedp.ID("view-queue")))
		b.waitJS(t, 10*time.Second, alias+" in the queue", `[...document.querySelectorAll('#queue .qitem')].some(e => e.innerText.includes('`+alias+`'))`)
		b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#queue .qitem')].find(e => e.innerText.includes('`+alias+`')).click()`),
			chromedp.WaitVisible(chromedp.ID("verdict")))
		b.waitJS(t, 5*time.Second, alias+"'s screen", `document.getElementById('alert-title').innerText.includes('`+alias+`')`)
		if claim {
			b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('act-claim').click()`))
			b.waitJS(t, 5*time.Second, alias+" claimed", `document.getElementById('act-note') !== null`)
		}
	}
	buttons := func(b *browser) string {
		return eval[string](t, b, `['act-call', 'act-text'].filter(id => document.getElementById(id)).join(' ')`)
	}
	timelineHas := func(b *browser, line string) {
		t.Helper()
		b.waitJS(t, 10*time.Second, "timeline line "+line, `[...document.querySelectorAll('#timeline li')].some(li => li.innerText.includes('`+line+`'))`)
	}

	a := openBrowser(t, chrome, s.direct, 1)
	a.signIn(t, alice)
	a.liveReady(t, 10*time.Second)
	d := openBrowser(t, chrome, s.direct, 1)
	d.signIn(t, dana)
	d.liveReady(t, 10*time.Second)

	t.Run("safe to call: ring and text", func(t *testing.T) {
		open(a, "Jay", false)
		if got := buttons(a); got != "" {
			t.Errorf("unclaimed: contact buttons %q, want none", got)
		}
		open(a, "Jay", true)
		a.waitJS(t, 5*time.Second, "contact buttons", `document.getElementById('act-call') !== null`)
		if got := buttons(a); got != "act-call act-text" {
			t.Errorf("SAFE TO CALL: buttons %q", got)
		}
		a11y(t, a, "alert with contact buttons")
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('act-call').click()`))
		timelineHas(a, "Rang them through Waymark \u2014 Alice Adams")
		calls := fake.Calls()
		if len(calls) != 1 || calls[0].Form.Get("To") != "+447700900101" || calls[0].Form.Get("From") != pageFrom ||
			!strings.Contains(calls[0].Form.Get("Twiml"), `<Dial callerId="`+survivorFrom+`"><Number>+447700900302</Number></Dial>`) {
			t.Errorf("calls = %+v", calls)
		}
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('act-text').click()`))
		timelineHas(a, "Sent the agreed text \u2014 Alice Adams")
		msgs := fake.Messages()
		if len(msgs) != 1 || msgs[0].Form.Get("From") != survivorFrom || msgs[0].Form.Get("To") != "+447700900302" ||
			msgs[0].Form.Get("Body") != "Hi, it's the surgery about your appointment" {
			t.Errorf("texts = %+v", msgs)
		}
	})

	t.Run("only what the verdict allows", func(t *testing.T) {
		open(d, "Robin", true)
		d.waitJS(t, 5*time.Second, "text button", `document.getElementById('act-text') !== null`)
		if got := buttons(d); got != "act-text" {
			t.Errorf("TEXT ONLY: buttons %q, want the text only", got)
		}
		open(d, "Ash", true)
		if got := buttons(d); got != "" {
			t.Errorf("DO NOT CONTACT: buttons %q, want none", got)
		}
	})

	t.Run("a refusal shows the server's words", func(t *testing.T) {
		// Dana has no phone for Waymark to ring: the server refuses.
		open(d, "Lee", true)
		d.waitJS(t, 5*time.Second, "call button", `document.getElementById('act-call') !== null`)
		if got := buttons(d); got != "act-call" {
			t.Errorf("SAFE TO CALL without texts: buttons %q, want the call only", got)
		}
		before := len(fake.Calls())
		d.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('act-call').click()`))
		d.waitJS(t, 5*time.Second, "the refusal", `document.getElementById('contact-refusal') !== null`)
		if got := eval[string](t, d, `document.getElementById('contact-refusal').innerText`); !strings.Contains(got, "Your account has no phone number") {
			t.Errorf("refusal shows %q", got)
		}
		if len(fake.Calls()) != before {
			t.Error("a refused call reached Twilio")
		}
		a11y(t, d, "alert with a refused call")
	})
}

// addAccountArgs creates an account through `waymark staff add` with the
// given flags (roles, teams, phone).
func (s *stack) addAccountArgs(t *testing.T, username, display string, args ...string) *account {
	t.Helper()
	full := append([]string{"staff", "add", "--username", username, "--display-name", display}, args...)
	out := s.admin(t, strings.NewReader(testPassword+"\n"), append(full, "--password-stdin")...)
	a := &account{Username: username, DisplayName: display, Password: testPassword}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "totp_secret="); ok {
			a.Secret = v
		}
	}
	if a.Secret == "" {
		t.Fatalf("staff add %s printed no totp_secret:\n%s", username, out)
	}
	s.users[username] = a
	return a
}
