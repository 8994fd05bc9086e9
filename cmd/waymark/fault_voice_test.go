package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/testenv"
	"waymark/sms"
)

// TestPagesMustBeTaken (issue 16): real `waymark serve`, a real
// redis-server and a fake Twilio reached through twilio-go. A voice page
// counts only when its callee presses 1; one nobody answers, or answers
// without pressing 1, moves on within 2 s of its callback; a text that
// fails late (30005) moves on within 1 s; and the callbacks refuse what a
// forger or a stranger sends.
func TestPagesMustBeTaken(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	bin := faultBinary(t)
	callFirst := faultPolicyFile(`
  steps:
    - {whom: [oncall:primary], how: [voice, sms], wait: 5m}
    - {whom: [fallback], how: [voice], wait: 5m}
`)
	for _, tc := range []struct{ name, status string }{
		{"no answer", "no-answer"},
		{"answered without pressing 1", "completed"},
		{"busy", "busy"},
	} {
		t.Run(tc.name+" moves on", func(t *testing.T) {
			e := newFaultEnv(t, bin, callFirst)
			p := e.start("a")
			id, sid := e.ringing(p, "prim")
			t0 := time.Now()
			if code, _ := e.twilioHook(p, sms.VoiceStatusPath, map[string]string{"CallSid": sid, "CallStatus": tc.status}); code != http.StatusNoContent {
				t.Fatalf("status callback = %d", code)
			}
			waitFor(t, 2*time.Second, "the primary texted after the call", func() bool { return e.rec.count("message", "prim", t0) > 0 })
			t.Logf("%s: text %s after the callback", tc.status, time.Since(t0).Round(time.Millisecond))
			// A repeat moves nobody twice.
			e.twilioHook(p, sms.VoiceStatusPath, map[string]string{"CallSid": sid, "CallStatus": tc.status})
			time.Sleep(300 * time.Millisecond)
			if n := e.rec.count("message", "prim", t0); n != 1 {
				t.Errorf("%d texts to the primary; want 1", n)
			}
			if a := e.alertByID(id); a.Owner != "" {
				t.Errorf("an unanswered call claimed the alert for %q", a.Owner)
			}
		})
	}

	t.Run("press 1 claims", func(t *testing.T) {
		e := newFaultEnv(t, bin, callFirst)
		p := e.start("a")
		id, sid := e.ringing(p, "prim")
		// Refusals first: unsigned, forged, a stranger's call.
		form := map[string]string{"CallSid": sid, "Digits": "1", "AccountSid": e.fake.AccountSID}
		if code := e.unsignedHook(p, sms.VoiceAnswerPath, form, ""); code != http.StatusForbidden {
			t.Errorf("unsigned press = %d, want 403", code)
		}
		if code := e.unsignedHook(p, sms.VoiceAnswerPath, form, sms.Sign("0123456789abcdef0123456789abcdef", faultPublicURL+sms.VoiceAnswerPath, form)); code != http.StatusForbidden {
			t.Errorf("forged press = %d, want 403", code)
		}
		stranger := map[string]string{"CallSid": "CA" + strings.Repeat("7", 32), "Digits": "1"}
		if code, body := e.twilioHook(p, sms.VoiceAnswerPath, stranger); code != http.StatusOK || !strings.Contains(body, "no longer needs you") {
			t.Errorf("a press on a call that was no page = %d %s", code, body)
		}
		if a := e.alertByID(id); a.Owner != "" {
			t.Fatalf("a refused press claimed the alert for %q", a.Owner)
		}
		t0 := time.Now()
		code, body := e.twilioHook(p, sms.VoiceAnswerPath, form)
		if code != http.StatusOK || !strings.Contains(body, "The alert is yours") || !strings.Contains(body, "<Hangup/>") {
			t.Fatalf("press 1 = %d %s", code, body)
		}
		a := e.alertByID(id)
		if a.Owner != e.ids["prim"] || a.State != alert.StateAcknowledged {
			t.Fatalf("after press 1: %s by %q, want acknowledged by the primary", a.State, a.Owner)
		}
		// The call then ends; that changes nothing, and nobody else is paged.
		e.twilioHook(p, sms.VoiceStatusPath, map[string]string{"CallSid": sid, "CallStatus": "completed"})
		if code, body := e.twilioHook(p, sms.VoiceAnswerPath, form); code != http.StatusOK || !strings.Contains(body, "already been taken") {
			t.Errorf("a replayed press = %d %s", code, body)
		}
		time.Sleep(time.Second)
		e.assertNothingAfter(t0)
	})

	t.Run("a late text failure moves at once", func(t *testing.T) {
		e := newFaultEnv(t, bin, faultPolicyFile(`
  steps:
    - {whom: [oncall:primary], how: [sms, voice], wait: 5m}
    - {whom: [fallback], how: [voice], wait: 5m}
`))
		p := e.start("a")
		t0 := time.Now()
		if _, code := e.raise(p); code != 200 {
			t.Fatalf("raise = %d", code)
		}
		var sid string
		waitFor(t, 10*time.Second, "the primary texted", func() bool {
			for _, m := range e.fake.Messages() {
				if m.SID != "" && faultWho(m.Form.Get("To")) == "prim" {
					sid = m.SID
				}
			}
			return sid != ""
		})
		id := e.waitEntry(alert.EntryPaged, "Texted ")
		t1 := time.Now()
		code, _ := e.twilioHook(p, "/sms/status", map[string]string{"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30005"})
		if code != http.StatusNoContent {
			t.Fatalf("status callback = %d", code)
		}
		waitFor(t, time.Second, "the primary rung after the failed text", func() bool { return e.rec.count("call", "prim", t0) > 0 })
		t.Logf("30005: call %s after the callback", time.Since(t1).Round(time.Millisecond))
		found := false
		for _, en := range e.alertByID(id).Timeline {
			found = found || strings.HasSuffix(en.Detail, "not delivered (the number does not exist); trying a call now")
		}
		if !found {
			t.Errorf("the timeline does not say why in plain words: %+v", e.alertByID(id).Timeline)
		}
	})
}

// ringing raises an alert through p and waits until its call to who is
// placed and known; it returns the alert and the call's id.
func (e *faultEnv) ringing(p *faultProc, who string) (alertID, sid string) {
	e.t.Helper()
	if _, code := e.raise(p); code != 200 {
		e.t.Fatalf("raise = %d", code)
	}
	waitFor(e.t, 10*time.Second, "a call to "+who, func() bool {
		for _, c := range e.fake.Calls() {
			if c.SID != "" && faultWho(c.Form.Get("To")) == who {
				sid = c.SID
				if tw := c.Form.Get("Twiml"); !strings.Contains(tw, `<Gather input="dtmf" numDigits="1"`) || !strings.Contains(tw, "Press 1 to take this alert.") {
					e.t.Fatalf("the call does not ask for a press of 1: %s", tw)
				}
				if cb := c.Form.Get("StatusCallback"); cb != faultPublicURL+sms.VoiceStatusPath {
					e.t.Fatalf("the call's status callback is %q", cb)
				}
			}
		}
		return sid != ""
	})
	return e.waitEntry(alert.EntryPaged, "Rang "), sid
}

// waitEntry waits until the one open alert's timeline has an entry of typ
// whose detail starts with prefix, and returns the alert's id.
func (e *faultEnv) waitEntry(typ alert.EntryType, prefix string) string {
	e.t.Helper()
	var id string
	waitFor(e.t, 10*time.Second, "a "+string(typ)+" entry", func() bool {
		for _, a := range e.openAlerts() {
			for _, en := range a.Timeline {
				if en.Type == typ && strings.HasPrefix(en.Detail, prefix) {
					id = a.ID
				}
			}
		}
		return id != ""
	})
	return id
}

func (e *faultEnv) alertByID(id string) *alert.Alert {
	e.t.Helper()
	a, err := e.app.store.Alerts.Alert(context.Background(), id)
	if err != nil {
		e.t.Fatalf("alert %s: %v", id, err)
	}
	return a
}

// twilioHook posts form to p's Twilio webhook at path, signed as Twilio
// signs it, and returns the status and body.
func (e *faultEnv) twilioHook(p *faultProc, path string, form map[string]string) (int, string) {
	e.t.Helper()
	if form["AccountSid"] == "" {
		form["AccountSid"] = e.fake.AccountSID
	}
	return e.post(p, path, form, sms.Sign(e.fake.AuthToken, faultPublicURL+path, form))
}

// unsignedHook posts form with the given signature header (none if "").
func (e *faultEnv) unsignedHook(p *faultProc, path string, form map[string]string, sig string) int {
	e.t.Helper()
	code, _ := e.post(p, path, form, sig)
	return code
}

func (e *faultEnv) post(p *faultProc, path string, form map[string]string, sig string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(sms.EncodeForm(form)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set(sms.SignatureHeader, sig)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}
