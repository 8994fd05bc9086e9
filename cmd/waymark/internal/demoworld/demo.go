// Package demoworld is the world `waymark demo` seeds into a fresh Waymark (a
// team, a responder, a caseworker, three cases, the directory) and the
// simulation that brings its dashboard alive.
package demoworld

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/config"
	"waymark/internal/randid"
	"waymark/problem"
	"waymark/signpost/oruk"
	"waymark/sms"
	"waymark/staff"
	"waymark/wallclock"
)

// AppGestures tells a newcomer how to use the survivor's app
// (docs/survivor-app.md has them all).
const AppGestures = "In the app: type the PIN then = to check in; hold = for 2 seconds to raise an alert."

// tick is how often the simulation acts.
const tick = 3 * time.Second

// Deps is what the demo seeds through: the services the API uses, and the
// configuration the server runs with (its triage team, and the throwaway
// Twilio account whose auth token signs the simulated texts).
type Deps struct {
	Config *config.Config
	Staff  Staff
	Cases  Cases
	Alerts Alerts
	Now    func() time.Time
}

// Staff adds the demo's teams and accounts.
type Staff interface {
	AddTeam(ctx context.Context, t staff.Team) (staff.Team, error)
	AddWithPassword(ctx context.Context, n staff.NewAccount, password string) (*staff.Account, staff.Enrolment, error)
}

// Cases adds the demo's cases and enrols their apps.
type Cases interface {
	Create(ctx context.Context, p *staff.Principal, in casework.CaseInput) (*casework.Case, error)
	IssueEnrolment(ctx context.Context, p *staff.Principal, id string, in casework.TechSafetyInput) (casework.Enrolment, error)
}

// Alerts raises the simulated missed check-ins.
type Alerts interface {
	Raise(ctx context.Context, sig alert.Signal) (alert.Result, error)
}

// World is what the demo seeded.
type World struct {
	d        Deps
	team     string
	triage   string
	logins   []demoLogin
	robin    demoCase // the app: panic, moving location
	jay      demoCase // SMS code word
	ash      demoCase // check-ins
	services int
	// appURL is the disguised app's address and appLink a one-time link
	// that enrols it as Jay's phone.
	appURL, appLink string
	cw              *staff.Principal // the demo caseworker
	authToken       string
	accountSID      string
	webhookURL      string
	client          *http.Client
}

type demoLogin struct {
	role, username, password string
	secret                   staff.Secret
}

type demoCase struct {
	id, alias, phone, codeWord, token string
}

// Seed makes the demo's teams, accounts, cases and app devices through
// the same services the API uses, on the server at base.
func Seed(ctx context.Context, d Deps, base string) (*World, error) {
	cfg := d.Config
	w := &World{
		d:    d,
		team: "southampton", triage: cfg.TriageTeam,
		authToken: cfg.TwilioAuthToken, accountSID: cfg.TwilioAccountSID,
		client: &http.Client{Timeout: 10 * time.Second},
	}
	w.webhookURL = strings.TrimRight(cfg.PublicURL, "/")
	if w.webhookURL == "" {
		w.webhookURL = base
	}
	w.webhookURL += "/sms/inbound"

	for _, t := range []staff.Team{
		{ID: w.team, Name: "Southampton Outreach", Areas: []string{"SO14", "SO15", "SO16", "SO17"}},
		{ID: w.triage, Name: "Triage"},
	} {
		if _, err := d.Staff.AddTeam(ctx, t); err != nil && !errors.Is(err, problem.ErrConflict) {
			return nil, fmt.Errorf("team %s: %w", t.ID, err)
		}
	}

	var cw *staff.Principal
	for _, l := range []struct {
		role, username, name string
		roles                []staff.Role
	}{
		{"responder", "responder", "Ruth Okafor", []staff.Role{staff.RoleResponder, staff.RoleHelpline}},
		{"caseworker", "caseworker", "Sam Patel", []staff.Role{staff.RoleCaseworker, staff.RoleHelpline}},
	} {
		pw := demoPassword()
		acct, en, err := d.Staff.AddWithPassword(ctx, staff.NewAccount{
			Username: l.username, DisplayName: l.name, Roles: l.roles, Teams: []string{w.team, w.triage},
		}, pw)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", l.username, err)
		}
		w.logins = append(w.logins, demoLogin{role: l.role, username: l.username, password: pw, secret: en.Secret})
		if l.role == "caseworker" {
			cw = &staff.Principal{StaffID: acct.ID, Username: acct.Username, DisplayName: acct.DisplayName,
				Roles: acct.Roles, Teams: acct.Teams, AuthAt: d.Now()}
		}
	}

	w.cw = cw
	var err error
	if w.robin, err = w.addCase(ctx, cw, demoCaseInput("Robin", "+447700900461", "sunflower", "high", 2)); err != nil {
		return nil, err
	}
	if w.jay, err = w.addCase(ctx, cw, demoCaseInput("Jay", "+447700900462", "bluebird", "medium", 0)); err != nil {
		return nil, err
	}
	if w.ash, err = w.addCase(ctx, cw, demoCaseInput("Ash", "+447700900463", "lighthouse", "standard", 1)); err != nil {
		return nil, err
	}
	for _, dc := range []*demoCase{&w.robin, &w.ash} {
		if dc.token, err = w.enrolApp(ctx, cw, base, dc.id); err != nil {
			return nil, fmt.Errorf("enrol the app of %s: %w", dc.alias, err)
		}
	}

	// serve seeds the directory (national helplines, and the fictional
	// local directory for the demo) before this runs; count it for the
	// welcome.
	national, err := oruk.Seed()
	if err != nil {
		return nil, err
	}
	local, err := oruk.DemoSeed()
	if err != nil {
		return nil, err
	}
	all := append(national, local...)
	w.services = len(all)
	return w, nil
}

// demoPassword is a throwaway password that is easy to type on a phone.
func demoPassword() string {
	s := randid.New("", 16)
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// demoCaseInput is a believable case: risk, a MARAC referral for the
// high-risk one, children, communication needs, a safe-contact plan.
func demoCaseInput(alias, phone, word, risk string, children int) casework.CaseInput {
	str := func(s string) *string { return &s }
	now := time.Now().In(wallclock.London())
	assessed := now.AddDate(0, -2, 0).Format(time.DateOnly)
	in := casework.CaseInput{
		Phone: str(phone), Alias: str(alias), Team: str("southampton"),
		RiskLevel: &risk, RiskDate: &assessed,
		CodeWords: []string{word},
		PIN:       str("2580"), DuressPIN: str("1470"),
		Notes: str("Demo safety notes: only shown through an audited reveal."),
		SafeContact: &casework.SafeContactInput{
			Windows:     []casework.Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}},
			Channels:    casework.Channels{SMS: true, Call: risk != "high"},
			OpeningLine: "Hi, it's Ruth from the library about your reservation",
		},
		ResponsePlan:  str("Text first with the opening line. No reply within 10 minutes: police welfare check, then the duty IDVA follows up."),
		Children:      &casework.Children{Count: children},
		Communication: &casework.Communication{Language: "en"},
	}
	if children > 0 {
		in.Children.AgeBands = []string{"0-4", "5-10"}[:min(children, 2)]
	}
	if risk == "high" {
		in.MARAC = &casework.MARACInput{Referred: true, Date: assessed}
		in.Communication = &casework.Communication{Language: "ur", Needs: []casework.CommNeed{casework.NeedInterpreter}, InterpreterGender: "female"}
	}
	return in
}

func (w *World) addCase(ctx context.Context, cw *staff.Principal, in casework.CaseInput) (demoCase, error) {
	c, err := w.d.Cases.Create(ctx, cw, in)
	if err != nil {
		return demoCase{}, fmt.Errorf("case %s: %w", *in.Alias, err)
	}
	return demoCase{id: c.ID, alias: *in.Alias, phone: *in.Phone, codeWord: in.CodeWords[0]}, nil
}

// enrolApp records the tech-safety check, issues an enrolment code and
// redeems it over HTTP, as the app does.
func (w *World) enrolApp(ctx context.Context, cw *staff.Principal, base, caseID string) (string, error) {
	e, err := w.d.Cases.IssueEnrolment(ctx, cw, caseID, casework.TechSafetyInput{Notes: "Demo: checked together; nobody else uses the phone."})
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := w.postJSON(ctx, base+"/v1/app/enrol", "", map[string]string{"code": e.Code}, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// LinkApp issues an app enrolment code for Jay's case, as the case screen
// does, and keeps the link to the app at appURL that carries it for the
// welcome: a newcomer opens it in another tab and has the survivor's
// calculator.
func (w *World) LinkApp(ctx context.Context, appURL string) error {
	e, err := w.d.Cases.IssueEnrolment(ctx, w.cw, w.jay.id, casework.TechSafetyInput{Notes: "Demo: checked together; nobody else uses the phone."})
	if err != nil {
		return err
	}
	w.appURL, w.appLink = appURL, strings.TrimRight(appURL, "/")+"/#"+e.Code
	return nil
}

// Welcome prints how to use the demo.
func (w *World) Welcome(out io.Writer, base string, simulate bool) {
	fmt.Fprintf(out, "\nWaymark demo: open the dashboard at %s/\n", base)
	fmt.Fprintln(out, "State is in memory only and is lost at exit. Throwaway accounts (sign in with the")
	fmt.Fprintln(out, "password and a code from an authenticator app holding the secret; codes are also")
	fmt.Fprintln(out, "printed below every 30 seconds):")
	fmt.Fprintln(out)
	for _, l := range w.logins {
		fmt.Fprintf(out, "  %-10s  username %-10s  password %s  TOTP secret %s\n", l.role, l.username, l.password, l.secret.Reveal())
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Team %q with three demo cases: %s (app enrolled), %s (texts the code word %q), %s (app, check-ins).\n",
		w.team, w.robin.alias, w.jay.alias, w.jay.codeWord, w.ash.alias)
	fmt.Fprintf(out, "Directory: %d services (national helplines and a fictional local directory).\n", w.services)
	if w.appURL != "" {
		fmt.Fprintf(out, "\nThe survivor's app (a calculator on its own origin) is at %s/\n", strings.TrimRight(w.appURL, "/"))
		fmt.Fprintf(out, "Open this link in another tab to enrol it as %s's phone (once, within 15 minutes): %s\n", w.jay.alias, w.appLink)
		fmt.Fprintf(out, "%s's PIN is 2580 and duress PIN 1470. %s\n", w.jay.alias, AppGestures)
	}
	if simulate {
		fmt.Fprintf(out, "Simulating: an SMS code word, an app panic with a moving location and a missed check-in every few seconds.\n\n")
	} else {
		fmt.Fprintf(out, "Run with --simulate to raise alerts every few seconds.\n\n")
	}
}

// PrintCodes prints a current TOTP code for each demo account at every
// 30-second step until ctx ends, so nobody needs an authenticator app to
// try the demo.
func (w *World) PrintCodes(ctx context.Context, out io.Writer) {
	for {
		now := time.Now()
		var parts []string
		for _, l := range w.logins {
			code, err := staff.TOTPCode(l.secret, now)
			if err != nil {
				return
			}
			parts = append(parts, l.username+" "+code)
		}
		next := now.Truncate(30 * time.Second).Add(30 * time.Second)
		fmt.Fprintf(out, "codes until %s: %s\n", next.Format("15:04:05"), strings.Join(parts, ", "))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}

// Simulate brings the dashboard at base alive until ctx ends: every few seconds one of the three
// signal paths fires (a signed SMS code word through the real webhook, an
// app panic, a missed check-in), and the panicking phone keeps moving.
// Further signals join a case's open alert; once a responder resolves it,
// the next one raises a new alert.
func (w *World) Simulate(ctx context.Context, base string, out io.Writer) {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	smsOK := true
	for i := 0; ; i++ {
		var err error
		what := ""
		switch step := i % 12; step {
		case 0:
			what = fmt.Sprintf("SMS code word from %s", w.jay.alias)
			err = w.sms(ctx, base, w.jay.phone, "  "+strings.ToUpper(w.jay.codeWord[:1])+w.jay.codeWord[1:]+" ")
		case 1:
			what = fmt.Sprintf("app panic from %s", w.robin.alias)
			err = w.app(ctx, base, w.robin, map[string]any{"kind": "panic", "location": w.where(i)})
		case 2:
			what = fmt.Sprintf("missed check-in by %s", w.ash.alias)
			// What the scheduler raises when a check-in falls due plus
			// grace; the real schedule's shortest interval is 5 minutes.
			_, err = w.d.Alerts.Raise(ctx, alert.Signal{Source: alert.SourceCheckin, Kind: alert.KindMissed,
				CaseID: w.ash.id, DedupeKey: "missed:" + w.ash.id + ":" + randid.New("", 12)})
		case 6:
			what = "SMS code word from an unknown number (goes to triage)"
			err = w.sms(ctx, base, "+447700900999", w.jay.codeWord)
		default:
			err = w.app(ctx, base, w.robin, map[string]any{"kind": "location", "location": w.where(i)})
		}
		switch {
		case errors.Is(err, errDemoNoSMS):
			if smsOK {
				fmt.Fprintln(out, "simulate: SMS intake is not configured in this build; skipping SMS")
				smsOK = false
			}
		case err != nil && ctx.Err() == nil:
			fmt.Fprintf(out, "simulate: %s: %v\n", what, err)
		case what != "":
			fmt.Fprintf(out, "simulate: %s\n", what)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// where is the panicking phone's position at step i: walking a loop
// around Southampton city centre, accuracy improving as it goes.
func (w *World) where(i int) map[string]any {
	angle := float64(i) * 2 * math.Pi / 40
	return map[string]any{
		"lat":        50.9050 + 0.004*math.Sin(angle),
		"lon":        -1.4040 + 0.006*math.Cos(angle),
		"accuracy_m": 15 + float64(i%5)*8,
	}
}

var errDemoNoSMS = errors.New("demo: SMS intake not configured")

// sms sends an inbound message through the real webhook, signed with the
// demo's auth token as Twilio would sign it.
func (w *World) sms(ctx context.Context, base, from, body string) error {
	sid := make([]byte, 16)
	rand.Read(sid)
	form := map[string]string{
		"MessageSid": "SM" + hex.EncodeToString(sid), "AccountSid": w.accountSID,
		"From": from, "To": "+447700900000", "Body": body, "NumMedia": "0", "NumSegments": "1",
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/sms/inbound", strings.NewReader(sms.EncodeForm(form)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.SignatureHeader, sms.Sign(w.authToken, w.webhookURL, form))
	res, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	switch {
	case res.StatusCode == http.StatusNotFound:
		return errDemoNoSMS
	case res.StatusCode != http.StatusOK:
		return fmt.Errorf("POST /sms/inbound: %s", res.Status)
	}
	return nil
}

// app sends one signal from an enrolled app.
func (w *World) app(ctx context.Context, base string, c demoCase, body map[string]any) error {
	id := make([]byte, 16)
	rand.Read(id)
	body["request_id"] = base64.RawURLEncoding.EncodeToString(id)
	return w.postJSON(ctx, base+"/v1/app/signal", c.token, body, nil)
}

func (w *World) postJSON(ctx context.Context, url, bearer string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("POST %s: %s %s", strings.TrimPrefix(url, "http://"), res.Status, bytes.TrimSpace(msg))
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}
