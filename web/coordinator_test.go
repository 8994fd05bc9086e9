package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// addAccount creates an account through `waymark staff add` with any
// roles and teams.
func (s *stack) addAccount(t *testing.T, username, display, roles, teams string) *account {
	t.Helper()
	out := s.admin(t, strings.NewReader(testPassword+"\n"), "staff", "add", "--username", username,
		"--display-name", display, "--role", roles, "--team", teams, "--password-stdin")
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

// fieldError is the text of the error shown next to the field the API
// names (data-field), "" when none shows.
func fieldError(t *testing.T, b *browser, name string) string {
	t.Helper()
	return eval[string](t, b, `(() => {
		const box = document.querySelector('[data-field="`+name+`"]');
		const e = box && box.querySelector('.field-error:not([hidden])');
		return e ? e.innerText : '';
	})()`)
}

// TestCoordinator drives the coordinators' screens as a coordinator of
// team north, at phone size: a rota and an escalation policy written
// through the forms (a bad one refused field by field with the CLI's own
// words, and nothing stored), both taking effect on the next alert; a new
// account created with a setup link, set up and signed in with, then
// disabled and enabled; nothing outside the coordinator's team reachable.
// An administrator adds a team and reads the report at phone size.
func TestCoordinator(t *testing.T) {
	chrome := testenv.StartChrome(t)
	// A 24/7 fallback, so a rota may leave gaps (without one, the CLI's
	// rules refuse any gap).
	s := newStackEnv(t, []string{"WAYMARK_FALLBACK_PHONE=+447700900555", "WAYMARK_FALLBACK_NAME=Out-of-hours line"})
	s.admin(t, nil, "team", "add", "--id", "south", "--name", "South Team")
	cora := s.addAccount(t, "cora", "Cora Quinn", "coordinator", "north")
	ruth := s.addAccount(t, "ruth", "Ruth Okafor", "responder", "north")
	s.addAccount(t, "sid", "Sid South", "responder", "south")
	ada := s.addAccount(t, "ada", "Ada Achebe", "admin", "north")
	carol := s.addStaff(t, "carol", "Carol Cole", "caseworker")
	_ = ruth

	b := openBrowser(t, chrome, s.direct, 1)
	b.signIn(t, cora)
	b.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("coord-title")))
	b.waitJS(t, 10*time.Second, "rota section", `document.getElementById('rota-form') !== null && document.getElementById('rota-week') !== null`)
	a11y(t, b, "rota (none yet)")
	cc := s.client(t, cora)

	t.Run("a bad rota is refused next to the field, nothing stored", func(t *testing.T) {
		b.do(t, 10*time.Second,
			chromedp.SetValue(chromedp.ID("shift-0-staff"), "ruth"),
			chromedp.SetValue(chromedp.ID("shift-0-start"), "25:00"),
			chromedp.Click(chromedp.ID("rota-save")))
		b.waitJS(t, 5*time.Second, "start refused", `document.querySelector('[data-field="shifts[0].start"] .field-error:not([hidden])') !== null`)
		got := fieldError(t, b, "shifts[0].start")
		t.Logf("shifts[0].start: %s", got)
		if got == "" {
			t.Error("no error next to the start time")
		}
		if st, body := s.call(t, cc, "GET", "/v1/teams/north/rota", nil); st != http.StatusNotFound {
			t.Errorf("after a refused rota, GET rota: %d %s; want 404 (nothing stored)", st, body)
		}
		a11y(t, b, "rota refused")
	})

	t.Run("a rota saved shows in the week, gaps in red", func(t *testing.T) {
		// Ruth on call as primary all day every day, so she is the primary
		// whenever the next alert comes; a weekday-only secondary.
		b.do(t, 10*time.Second,
			chromedp.SetValue(chromedp.ID("shift-0-start"), "00:00"),
			chromedp.SetValue(chromedp.ID("shift-0-end"), "24:00"),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#shift-rows fieldset.shift')[0].querySelectorAll('[name=days]').forEach(c => c.checked = true)`),
			chromedp.Click(chromedp.ID("rota-save")))
		b.waitJS(t, 10*time.Second, "week shows Ruth", `(document.getElementById('rota-week')||{innerText:''}).innerText.includes('Ruth Okafor 00:00')`)
		if n := eval[int](t, b, `document.querySelectorAll('#rota-week .gap').length`); n != 0 {
			t.Errorf("%d gaps shown with Ruth on call all week", n)
		}
		// A second shift on one day only leaves the primary whole; now cut
		// the primary to weekdays 09:00-17:00: the gaps show, in red.
		b.do(t, 10*time.Second,
			chromedp.SetValue(chromedp.ID("shift-0-start"), "09:00"),
			chromedp.SetValue(chromedp.ID("shift-0-end"), "17:00"),
			chromedp.Click(chromedp.ID("rota-save")))
		if !eval[bool](t, b, `(async () => { for (let i = 0; i < 100; i++) { if (document.querySelectorAll('#rota-week .gap').length >= 7) return true; await new Promise(r => setTimeout(r, 100)); } return false; })()`) {
			_, rota := s.call(t, cc, "GET", "/v1/teams/north/rota", nil)
			_, gaps := s.call(t, cc, "GET", "/v1/teams/north/gaps?days=7", nil)
			t.Fatalf("no gaps shown; page says %q; rota %s; gaps %s", eval[string](t, b, `document.getElementById('rota-error').innerText + ' / ' + document.getElementById('toast').innerText + ' / ' + document.getElementById('rota-week').innerText`), rota, gaps)
		}
		red := eval[string](t, b, `getComputedStyle(document.querySelector('#rota-week .gap')).backgroundColor`)
		if red != "rgb(176, 0, 32)" {
			t.Errorf("gap background %s, want the danger red", red)
		}
		a11y(t, b, "rota with gaps")
		// Back to all day, every day, for the alert below.
		b.do(t, 10*time.Second,
			chromedp.SetValue(chromedp.ID("shift-0-start"), "00:00"),
			chromedp.SetValue(chromedp.ID("shift-0-end"), "24:00"),
			chromedp.Click(chromedp.ID("rota-save")))
		if !eval[bool](t, b, `(async () => { for (let i = 0; i < 100; i++) { const w = document.getElementById('rota-week'); if (w && !w.querySelector('.gap') && w.innerText.includes('Ruth Okafor 00:00')) return true; await new Promise(r => setTimeout(r, 100)); } return false; })()`) {
			_, rota := s.call(t, cc, "GET", "/v1/teams/north/rota", nil)
			t.Fatalf("gaps still shown; page says %q; rota %s", eval[string](t, b, `(document.getElementById('rota-error')||{}).innerText + ' / ' + document.getElementById('toast').innerText + ' / ' + ((document.getElementById('rota-week')||{}).innerText || '')`), rota)
		}
		st, body := s.call(t, cc, "GET", "/v1/teams/north/oncall", nil)
		if st != http.StatusOK || !strings.Contains(string(body), "Ruth Okafor") {
			t.Errorf("on call now: %d %s; want Ruth as primary", st, body)
		}
	})

	t.Run("a policy without the fallback is refused, a good one saved", func(t *testing.T) {
		b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("coord-tab-policies")))
		b.waitJS(t, 10*time.Second, "policy form", `document.getElementById('policy-form') !== null`)
		a11y(t, b, "escalation")
		_, before := s.call(t, cc, "GET", "/v1/teams/north/policies", nil)
		// High risk: step 1 the on-call primary on the dashboard, waiting
		// 45 s; no fallback step. Refused, with the CLI's words.
		b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
			const lv = document.querySelector('fieldset.level[data-level=high]');
			[...lv.querySelectorAll('fieldset.step')].slice(1).forEach(s => s.remove());
			const st = lv.querySelector('fieldset.step');
			st.querySelectorAll('input[type=checkbox]').forEach(c => c.checked = (c.value === 'oncall:primary' || c.value === 'dashboard'));
			st.querySelector('[name=wait]').value = '45s';
		})()`), chromedp.Click(chromedp.ID("policy-save")))
		b.waitJS(t, 5*time.Second, "refused", `document.querySelector('[data-field="high.steps[0].whom"] .field-error:not([hidden])') !== null`)
		if got := fieldError(t, b, "high.steps[0].whom"); !strings.Contains(got, "the last step must page the fallback") {
			t.Errorf("high.steps[0].whom: %q; want the CLI's \"the last step must page the fallback\"", got)
		}
		if _, after := s.call(t, cc, "GET", "/v1/teams/north/policies", nil); string(after) != string(before) {
			t.Error("a refused policy changed what is in force")
		}
		a11y(t, b, "escalation refused")
		// Add the fallback step, and let the first step's failed pages
		// move on to the next step: saved.
		b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("high-add-step")), chromedp.Evaluate[chromedp.Void](`(() => {
			const st = [...document.querySelectorAll('fieldset.level[data-level=high] fieldset.step')].pop();
			st.querySelectorAll('input[type=checkbox]').forEach(c => c.checked = (c.value === 'fallback' || c.value === 'sms'));
			st.querySelector('[name=wait]').value = '5m';
			document.querySelector('fieldset.level[data-level=high] fieldset.step [name=if_unreached]').value = 'next-step';
		})()`), chromedp.Click(chromedp.ID("policy-save")))
		b.waitJS(t, 5*time.Second, "saved", `document.getElementById('toast').innerText.includes('Escalation saved')`)
		_, saved := s.call(t, cc, "GET", "/v1/teams/north/policies", nil)
		if !strings.Contains(string(saved), `"if_unreached":"next-step"`) {
			t.Errorf("the step's choice for a failed page was not saved: %s", saved)
		}
	})

	t.Run("rota and policy take effect on the next alert", func(t *testing.T) {
		sv := s.seedCase(t, s.client(t, carol), "Robin", canaryPhone)
		s.panicAt(t, sv, 50.9097, -1.4044, 25)
		rc := s.client(t, s.users["ruth"])
		var alert struct {
			RaisedAt  time.Time `json:"raised_at"`
			OverdueAt time.Time `json:"overdue_at"`
			Timeline  []struct{ Type, Detail string }
		}
		// The first step runs once the survivor's cancel window (30 s) is over.
		deadline := time.Now().Add(45 * time.Second)
		for {
			st, body := s.call(t, rc, "GET", "/v1/alerts?state=open", nil)
			var list struct{ Alerts []struct{ ID string } }
			json.Unmarshal(body, &list)
			if st == http.StatusOK && len(list.Alerts) == 1 {
				_, body = s.call(t, rc, "GET", "/v1/alerts/"+list.Alerts[0].ID, nil)
				json.Unmarshal(body, &alert)
				done := false
				for _, e := range alert.Timeline {
					done = done || e.Type == "escalated"
				}
				if done {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no escalated alert within 45 s: %s", body)
			}
			// Ask again after the page's own 200 ms timer.
			eval[bool](t, b, `new Promise(r => setTimeout(() => r(true), 200))`)
		}
		var step string
		for _, e := range alert.Timeline {
			if e.Type == "escalated" && step == "" {
				step = e.Detail
			}
		}
		t.Logf("first step: %s", step)
		// The new policy's first step (the primary, on the dashboard), to
		// the rota's primary (one person: Ruth).
		if step != "escalation step 1: oncall:primary by dashboard (1 to page)" {
			t.Errorf("first step %q; want the new policy's, paging the rota's one primary", step)
		}
		if got := alert.OverdueAt.Sub(alert.RaisedAt); got != 45*time.Second {
			t.Errorf("overdue %v after raised; want the new first step's 45 s", got)
		}
	})

	t.Run("staff account created, set up and signed in with", func(t *testing.T) {
		b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("coord-tab-staff")))
		b.waitJS(t, 10*time.Second, "staff form", `document.getElementById('staff-form') !== null`)
		a11y(t, b, "staff")
		// A duplicate username is refused next to the field.
		b.do(t, 10*time.Second,
			chromedp.SendKeys(chromedp.ID("staff-username"), "ruth"),
			chromedp.SendKeys(chromedp.ID("staff-display-name"), "Another Ruth"),
			chromedp.Click(chromedp.ID("staff-role-responder")),
			chromedp.Click(chromedp.ID("staff-create")))
		b.waitJS(t, 5*time.Second, "duplicate refused", `document.querySelector('[data-field=username] .field-error:not([hidden])') !== null`)
		t.Logf("duplicate username: %s", fieldError(t, b, "username"))
		b.do(t, 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`document.getElementById('staff-username').value = ''; document.getElementById('staff-display-name').value = ''`),
			chromedp.SendKeys(chromedp.ID("staff-username"), "dana"),
			chromedp.SendKeys(chromedp.ID("staff-display-name"), "Dana Doyle"),
			chromedp.Click(chromedp.ID("staff-create")))
		b.waitJS(t, 10*time.Second, "setup link", `document.getElementById('setup-link') !== null && document.getElementById('setup-qr') !== null`)
		a11y(t, b, "new account's setup link")
		link := eval[string](t, b, `document.getElementById('setup-link').innerText`)
		if !strings.HasPrefix(link, s.direct+"/setup#") {
			t.Fatalf("setup link %q", link)
		}

		d := openRaw(t, chrome, link)
		d.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("setup-password")))
		d.do(t, 10*time.Second,
			chromedp.SendKeys(chromedp.ID("setup-password"), testPassword),
			chromedp.SendKeys(chromedp.ID("setup-password2"), testPassword),
			chromedp.Click(chromedp.CSS(`#view-setup button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("setup-secret")))
		if !eval[bool](t, d, `(() => { const q = document.getElementById('setup-qr'); return !!q && q.naturalWidth > 0; })()`) {
			t.Error("the TOTP enrolment shows no QR code")
		}
		a11y(t, d, "setup with the TOTP QR code")
		secret := strings.ReplaceAll(eval[string](t, d, `document.getElementById('setup-secret').innerText`), " ", "")
		dana := &account{Username: "dana", Password: testPassword, Secret: secret}
		d.do(t, 10*time.Second,
			chromedp.SendKeys(chromedp.ID("setup-totp"), dana.code(t)),
			chromedp.Click(chromedp.CSS(`#view-setup button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("view-queue")))
		d.liveReady(t, 10*time.Second)
		if got := eval[string](t, d, `document.getElementById('who').textContent`); got != "Dana Doyle" {
			t.Errorf("signed in as %q", got)
		}

		// Disabled from the coordinator's screen: Dana's session ends.
		b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("disable-dana")))
		d.waitJS(t, 10*time.Second, "session ended", `!document.getElementById('banner-session').hidden`)
		b.waitJS(t, 10*time.Second, "enable offered", `document.getElementById('enable-dana') !== null`)
		b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("enable-dana")))
		b.waitJS(t, 10*time.Second, "disable offered again", `document.getElementById('disable-dana') !== null`)
		d.signIn(t, dana)
		d.liveReady(t, 10*time.Second)
	})

	t.Run("nothing outside the coordinator's teams", func(t *testing.T) {
		rota := map[string]any{"shifts": []map[string]any{{"tier": "primary", "staff": "sid", "days": "daily", "start": "00:00", "end": "24:00"}}}
		if st, body := s.call(t, cc, "PUT", "/v1/teams/south/rota", rota); st != http.StatusNotFound {
			t.Errorf("rota of another team: %d %s; want 404", st, body)
		}
		if st, body := s.call(t, cc, "POST", "/v1/staff", map[string]any{"username": "eve", "roles": []string{"responder"}, "teams": []string{"south"}}); st != http.StatusUnprocessableEntity || !strings.Contains(string(body), "not one of yours") {
			t.Errorf("account in another team: %d %s; want 422", st, body)
		}
		if st, body := s.call(t, cc, "POST", "/v1/staff", map[string]any{"username": "eve", "roles": []string{"admin"}, "teams": []string{"north"}}); st != http.StatusUnprocessableEntity {
			t.Errorf("admin role from a coordinator: %d %s; want 422", st, body)
		}
		_, body := s.call(t, s.client(t, ada), "GET", "/v1/staff", nil)
		var all struct {
			Staff []struct{ ID, Username string }
		}
		json.Unmarshal(body, &all)
		for _, a := range all.Staff {
			if a.Username == "sid" {
				if st, body := s.call(t, cc, "PATCH", "/v1/staff/"+a.ID, map[string]any{"disabled": true}); st != http.StatusNotFound {
					t.Errorf("disabling an account of another team: %d %s; want 404", st, body)
				}
			}
		}
		_, body = s.call(t, cc, "GET", "/v1/staff", nil)
		if strings.Contains(string(body), `"sid"`) || strings.Contains(string(body), `"ada"`) {
			t.Errorf("the coordinator's list shows accounts outside their teams: %s", body)
		}
	})

	t.Run("an administrator adds a team and reads the report at phone size", func(t *testing.T) {
		a := openBrowser(t, chrome, s.direct, 1)
		a.signIn(t, ada)
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/coord/teams'`))
		a.waitJS(t, 10*time.Second, "teams", `document.getElementById('team-form') !== null`)
		a11y(t, a, "teams")
		a.do(t, 10*time.Second,
			chromedp.SendKeys(chromedp.ID("team-id"), "east"),
			chromedp.SendKeys(chromedp.ID("team-name"), "East Team"),
			chromedp.SendKeys(chromedp.ID("team-areas"), "SO50"),
			chromedp.Click(chromedp.CSS(`#team-form button[type=submit]`)))
		if !eval[bool](t, a, `(async () => { for (let i = 0; i < 100; i++) { const l = document.getElementById('team-list'); if (l && l.innerText.includes('East Team')) return true; await new Promise(r => setTimeout(r, 100)); } return false; })()`) {
			t.Fatalf("team not listed; page says %q", eval[string](t, a, `document.getElementById('view-coord').innerText + ' / ' + document.getElementById('toast').innerText`))
		}
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/admin'`))
		a.waitJS(t, 10*time.Second, "report", `document.getElementById('report-summary') !== null && document.getElementById('report-chart').complete`)
		a11y(t, a, "report")
		if w := eval[float64](t, a, `document.getElementById('report-chart').getBoundingClientRect().right`); w > phoneW {
			t.Errorf("the report's chart ends at %v px, wider than the %d px phone", w, phoneW)
		}
		// And at desktop size: the report, then the week of the rota.
		a.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
		a11y(t, a, "report at desktop size")
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/coord/rota'`))
		a.waitJS(t, 10*time.Second, "team picker", `document.getElementById('coord-team') !== null && document.getElementById('rota-form') !== null`)
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('coord-team'); s.value = 'north'; s.dispatchEvent(new Event('change')); })()`))
		a.waitJS(t, 10*time.Second, "rota at desktop size", `(document.getElementById('rota-week')||{innerText:''}).innerText.includes('Ruth Okafor')`)
		a11y(t, a, "rota at desktop size")
	})

	for _, e := range b.pageErrors() {
		if !strings.Contains(e, "Failed to load resource") {
			t.Errorf("page: %s", e)
		}
	}
	if v := b.cspViolations(t); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}
