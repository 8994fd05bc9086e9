package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/testenv"
	"waymark/sms"
	"waymark/staff"
	"waymark/store"
	"waymark/wallclock"
)

// The survivor-facing number of the contact test; the page number is
// WAYMARK_TWILIO_FROM, +447700900500.
const faultSurvivorFrom = "+447700900600"

// insidePhone is the survivor's phone on the case inside its windows.
const insidePhone = "+447700900301"

// TestContactFollowsVerdict (issue 16, item 4): through a real `waymark
// serve`, a real redis-server and a fake Twilio reached through twilio-go,
// calling and texting a survivor are refused for duress and outside the
// safe-contact windows, and allowed inside them, by the alert's owner
// only; the call rings the responder from the page number and dials the
// survivor from the survivor-facing number, the text comes from the
// survivor-facing number with the agreed wording only, and both are
// audited and on the timeline.
func TestContactFollowsVerdict(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	bin := faultBinary(t)
	e := newFaultEnv(t, bin, faultPolicyFile(`
  steps:
    - {whom: [oncall:primary], how: [dashboard], wait: 5m}
    - {whom: [fallback], how: [voice], wait: 5m}
`))
	e.env["WAYMARK_TWILIO_SURVIVOR_FROM"] = faultSurvivorFrom
	p := e.start("a")
	prim, sec := e.session(p, "prim"), e.session(p, "sec")

	now := time.Now().In(wallclock.London())
	always := []casework.Window{{Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, From: "00:00", To: "24:00"}}
	later := []casework.Window{{Days: []string{strings.ToLower(now.AddDate(0, 0, 2).Weekday().String()[:3])}, From: "10:00", To: "11:00"}}
	const opening = "Hi, it's the library about your renewal"

	inside := e.contactCase(insidePhone, always)
	outside := e.contactCase("+447700900302", later)
	duress := e.contactCase("+447700900303", always)

	refused := func(c *http.Client, id, what, want string) {
		t.Helper()
		st, body := call(t, c, "POST", p.base+"/v1/alerts/"+id+"/"+what, nil)
		var b struct{ Error, Detail string }
		json.Unmarshal(body, &b)
		if st != http.StatusConflict || b.Error != "refused" || !strings.Contains(b.Detail, want) {
			t.Errorf("%s on %s = %d %s, want 409 refused saying %q", what, id, st, body, want)
		}
	}
	claim := func(id string) {
		t.Helper()
		if st, body := call(t, prim, "POST", p.base+"/v1/alerts/"+id+"/ack", nil); st != 200 {
			t.Fatalf("ack %s = %d %s", id, st, body)
		}
	}
	twilioBefore := len(e.fake.Requests())

	t.Run("duress", func(t *testing.T) {
		id := e.raiseCase(p, duress, "snowdrop")
		claim(id)
		refused(prim, id, "call", "Do not contact: duress signal")
		refused(prim, id, "text", "call 999")
	})
	t.Run("outside the windows", func(t *testing.T) {
		id := e.raiseCase(p, outside, "marigold")
		claim(id)
		refused(prim, id, "call", "outside the safe-contact windows")
		refused(prim, id, "text", "outside the safe-contact windows")
	})
	if n := len(e.fake.Requests()); n != twilioBefore {
		t.Errorf("refused contact reached Twilio: %d requests", n-twilioBefore)
	}

	t.Run("inside the windows", func(t *testing.T) {
		id := e.raiseCase(p, inside, "marigold")
		claim(id)
		// Not the owner: refused, and nothing reaches Twilio.
		refused(sec, id, "call", "Only the responder who has claimed this alert")
		refused(sec, id, "text", "Only the responder who has claimed this alert")
		if n := len(e.fake.Requests()); n != twilioBefore {
			t.Fatalf("a refused contact reached Twilio: %d requests", n-twilioBefore)
		}

		if st, body := call(t, prim, "POST", p.base+"/v1/alerts/"+id+"/call", nil); st != 200 {
			t.Fatalf("call = %d %s", st, body)
		}
		calls := e.fake.Calls()
		if len(calls) != 1 {
			t.Fatalf("%d calls placed, want 1", len(calls))
		}
		f := calls[0].Form
		wantTwiml := `<Dial callerId="` + faultSurvivorFrom + `"><Number>` + insidePhone + `</Number></Dial>`
		if f.Get("To") != faultPhones["prim"] || f.Get("From") != "+447700900500" || !strings.Contains(f.Get("Twiml"), wantTwiml) {
			t.Errorf("call To=%s From=%s Twiml=%s; want the responder's phone from the page number, dialling %s", f.Get("To"), f.Get("From"), f.Get("Twiml"), wantTwiml)
		}
		if tw := f.Get("Twiml"); !strings.Contains(tw, "Connecting you now") || strings.Contains(tw, "Inside") {
			t.Errorf("the responder hears more than the connecting words: %s", tw)
		}

		if st, body := call(t, prim, "POST", p.base+"/v1/alerts/"+id+"/text", nil); st != 200 {
			t.Fatalf("text = %d %s", st, body)
		}
		var texts []testenv.TwilioRequest
		for _, m := range e.fake.Messages() {
			if m.Form.Get("To") == insidePhone {
				texts = append(texts, m)
			}
		}
		if len(texts) != 1 || texts[0].Form.Get("From") != faultSurvivorFrom || texts[0].Form.Get("Body") != opening {
			t.Errorf("texts to the survivor = %+v; want one from %s with the agreed wording", texts, faultSurvivorFrom)
		}

		// On the timeline, by the owner, as progress on the claim.
		a := e.alertByID(id)
		var got []alert.EntryType
		for _, en := range a.Timeline {
			if en.Type == alert.EntryCalled || en.Type == alert.EntryTexted {
				got = append(got, en.Type)
				if en.By != e.ids["prim"] {
					t.Errorf("%s entry by %q, want the owner", en.Type, en.By)
				}
			}
		}
		if fmt.Sprint(got) != "[called texted]" {
			t.Errorf("timeline contact entries = %v, want [called texted]", got)
		}
	})

	// Audited: every attempt, allowed or refused, with the verdict.
	recs, err := store.NewRecords(e.app.store.DB, nil).ReadAudit(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range recs {
		if r.Action == "alert.call" || r.Action == "alert.text" {
			outcomes = append(outcomes, r.Action+" "+r.Outcome)
		}
	}
	want := []string{
		"alert.call refused: verdict DO NOT CONTACT", "alert.text refused: verdict DO NOT CONTACT",
		"alert.call refused: verdict DO NOT CONTACT", "alert.text refused: verdict DO NOT CONTACT",
		"alert.call refused: not the owner", "alert.text refused: not the owner",
		"alert.call ok: verdict SAFE TO CALL", "alert.text ok: verdict SAFE TO CALL",
	}
	if strings.Join(outcomes, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(outcomes, "\n"), strings.Join(want, "\n"))
	}
	// No phone number in the instance's log.
	for _, ph := range []string{insidePhone, faultPhones["prim"], faultSurvivorFrom} {
		if strings.Contains(p.stderr.String(), ph) {
			t.Errorf("the log holds a phone number")
		}
	}
}

// session signs who in on p and returns its client.
func (e *faultEnv) session(p *faultProc, who string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	st, body := call(e.t, c, "POST", p.base+"/v1/auth/login", map[string]string{
		"username": who, "password": "a long enough password", "totp": mustCode(e.t, e.secrets[who])})
	if st != 200 {
		e.t.Fatalf("login %s = %d %s", who, st, body)
	}
	return c
}

// contactCase enrols a case of team north on phone with windows, calls
// and texts allowed and an agreed opening line, in process.
func (e *faultEnv) contactCase(phone string, windows []casework.Window) string {
	e.t.Helper()
	cw := &staff.Principal{StaffID: e.ids["prim"], Username: "cw", Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"north"}}
	str := func(s string) *string { return &s }
	c, err := e.app.cases.Create(context.Background(), cw, casework.CaseInput{
		Phone: str(phone), Alias: str("Inside"), Team: str("north"), RiskLevel: str("high"),
		CodeWords: []string{"marigold"}, DuressWords: []string{"snowdrop"}, PIN: str("2468"), DuressPIN: str("1357"),
		SafeContact: &casework.SafeContactInput{Windows: windows, Channels: casework.Channels{Call: true, SMS: true},
			OpeningLine: "Hi, it's the library about your renewal"},
	})
	if err != nil {
		e.t.Fatalf("create case: %v", err)
	}
	return c.ID
}

// raiseCase texts word from the case's phone through p and returns the
// alert it raised.
func (e *faultEnv) raiseCase(p *faultProc, caseID, word string) string {
	e.t.Helper()
	c, err := e.app.store.Cases.LoadCase(context.Background(), caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	n := e.sent.Add(1)
	form := map[string]string{"MessageSid": fmt.Sprintf("SM%032d", 900+n), "AccountSid": e.fake.AccountSID,
		"From": c.Phone.Reveal(), "To": "+447700900500", "Body": word, "NumMedia": "0"}
	req, _ := http.NewRequest("POST", p.base+"/sms/inbound", strings.NewReader(sms.EncodeForm(form)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.SignatureHeader, sms.Sign(e.fake.AuthToken, faultPublicURL+"/sms/inbound", form))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("raise = %d", resp.StatusCode)
	}
	var id string
	waitFor(e.t, 5*time.Second, "the case's alert", func() bool {
		for _, a := range e.openAlerts() {
			if a.CaseID == caseID {
				id = a.ID
			}
		}
		return id != ""
	})
	return id
}
