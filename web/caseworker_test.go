package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// a11yJS lists what an automated look can find against WCAG 2.2: form
// controls without a label, buttons and links without a name, duplicate
// ids, a missing page language, images without alt text, and controls
// smaller than 24x24 CSS pixels (2.5.8, target size minimum); and, while
// it is there, text a rendering bug would leave ("null", "undefined").
const a11yJS = `(() => {
  const out = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== 'hidden';
  if (!document.documentElement.lang) out.push('html has no lang');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) out.push('unlabelled ' + el.tagName.toLowerCase() + '#' + el.id + '[name=' + el.name + ']');
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!visible(el)) continue;
    const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
    if (!name) out.push('nameless ' + el.tagName.toLowerCase() + ' ' + el.outerHTML.slice(0, 80));
    const r = el.getBoundingClientRect();
    if (el.tagName === 'BUTTON' && (r.width < 24 || r.height < 24)) out.push('small target ' + (el.id || el.textContent.trim()));
  }
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) {
    if (ids[el.id]) out.push('duplicate id ' + el.id);
    ids[el.id] = true;
  }
  for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) out.push('img without alt');
  const stray = document.body.innerText.match(/\b(null|undefined|NaN)\b|\[object Object\]/);
  if (stray) out.push('stray text ' + JSON.stringify(stray[0]));
  return out;
})()`

// a11y fails the test for each problem a11yJS or axe-core (axe_test.go)
// finds on the current screen.
func a11y(t *testing.T, b *browser, screen string) {
	t.Helper()
	for _, p := range eval[[]string](t, b, a11yJS) {
		t.Errorf("%s: %s", screen, p)
	}
	axeCheck(t, b, screen)
}

// TestCaseworker enrols, edits, issues an app code for, renews and erases
// a case through the dashboard, and checks that no secret comes back.
func TestCaseworker(t *testing.T) {
	chrome := testenv.StartChrome(t)
	// Cases last 10 days here, so every case is within the 14-day
	// warning from the start.
	s := newStackEnv(t, []string{"WAYMARK_CASE_LIFETIME=240h"})
	carol := s.addStaff(t, "carol", "Carol Cole", "caseworker")
	ada := s.addStaff(t, "ada", "Ada Achebe", "admin")
	b := openBrowser(t, chrome, s.direct, 1)
	a11y(t, b, "sign-in")

	// Native dialogs (the erase confirmation) are answered as a person
	// would: with the word asked for.
	dialogs := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{
				Accept: true, PromptText: map[bool]string{true: "ERASE"}[ev.Type == page.DialogTypePrompt],
			})
		}
	}()

	b.signIn(t, carol)
	b.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("cases-title")))
	if eval[bool](t, b, `!document.getElementById('tab-queue').hidden`) {
		t.Error("a caseworker without the responder role is offered the alert queue")
	}
	a11y(t, b, "cases")

	// An empty form is refused field by field, next to each field.
	b.do(t, 10*time.Second,
		chromedp.Click(chromedp.CSS(`#view-cases .view-head button`)),
		chromedp.WaitVisible(chromedp.ID("case-form")))
	a11y(t, b, "new case")
	b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#case-form button[type=submit]`)))
	b.waitJS(t, 5*time.Second, "field errors", `document.querySelector('[data-field=alias] .field-error:not([hidden])') !== null &&
		document.querySelector('[data-field=phone] .field-error:not([hidden])') !== null &&
		document.getElementById('case-alias').getAttribute('aria-invalid') === 'true'`)

	b.do(t, 20*time.Second,
		chromedp.SendKeys(chromedp.ID("case-alias"), "Morgan"),
		chromedp.SendKeys(chromedp.ID("case-phone"), canaryPhone),
		chromedp.SetValue(chromedp.ID("case-risk-level"), "high"),
		chromedp.SendKeys(chromedp.ID("case-code-words"), canaryCodeWord),
		chromedp.SendKeys(chromedp.ID("case-duress-words"), canaryDuressWord),
		chromedp.SendKeys(chromedp.ID("case-pin"), canaryPIN),
		chromedp.SendKeys(chromedp.ID("case-duress-pin"), canaryDuressPIN),
		chromedp.SendKeys(chromedp.ID("case-notes"), canaryNotes),
		chromedp.SendKeys(chromedp.ID("case-opening-line"), "Hi, it's the surgery about your appointment"),
		chromedp.Click(chromedp.ID("case-ch-sms")),
		chromedp.Click(chromedp.CSS(`#case-form button[type=submit]`)),
	)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exceptions: %v", b.pageErrors())
			t.Logf("page errors at the end: %s", eval[string](t, b, `location.hash + ' ' + document.getElementById('toast').innerText + ' ' + [...document.querySelectorAll('h1')].map(e=>e.innerText).join('/') + ' ' + [...document.querySelectorAll('.error:not([hidden]), .field-error:not([hidden])')].map(e => (e.closest('[data-field]')||{dataset:{}}).dataset.field + ': ' + e.innerText).join(' | ')`))
		}
	})
	b.waitJS(t, 5*time.Second, "case page", `location.hash.startsWith('#/cases/c_') && document.getElementById('cases-title')?.innerText === 'Morgan'`)
	a11y(t, b, "case")
	facts := eval[string](t, b, `document.querySelector('#view-cases .facts').innerText`)
	for _, want := range []string{"Recorded", "1 set", "Set"} {
		if !strings.Contains(facts, want) {
			t.Errorf("case facts %q lack %q", facts, want)
		}
	}

	// The app enrolment code, after the tech-safety check, shown once.
	b.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("tsc-notes"), "Went through the phone's accounts together."),
		// The enrolment form's own button: other forms (check-ins) come first.
		chromedp.Evaluate[chromedp.Void](`document.getElementById('tsc-notes').form.querySelector('button[type=submit]').click()`),
		chromedp.WaitVisible(chromedp.ID("enrol-code-value")))
	code := eval[string](t, b, `document.getElementById('enrol-code-value').innerText`)
	if !regexp.MustCompile(`\S{6,}`).MatchString(code) {
		t.Errorf("enrolment code %q", code)
	}

	// Renew, then edit: secrets are not sent back, and an empty secret
	// field keeps the stored value.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#view-cases .row button:nth-child(2)`)))
	b.waitJS(t, 5*time.Second, "renewed", `!document.getElementById('toast').hidden && document.getElementById('toast').innerText.startsWith('Renewed until')`)
	// The code and its QR code stay through the next button until the
	// caseworker dismisses them.
	b.waitJS(t, 5*time.Second, "code kept after renewing", `document.getElementById('cases-title')?.innerText === 'Morgan' && document.getElementById('enrol-code-value')?.innerText === '`+code+`'`)
	b.do(t, 10*time.Second,
		chromedp.Click(chromedp.CSS(`#enrol-code button`)),
		chromedp.WaitNotPresent(chromedp.ID("enrol-code-value")))
	b.do(t, 10*time.Second,
		chromedp.Click(chromedp.CSS(`#view-cases .row button:nth-child(1)`)),
		chromedp.WaitVisible(chromedp.ID("case-form")))
	empty := eval[bool](t, b, `['case-phone','case-code-words','case-duress-words','case-pin','case-duress-pin','case-notes'].every(id => document.getElementById(id).value === '')`)
	if !empty {
		t.Error("the edit form holds a stored secret")
	}
	b.do(t, 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('case-alias').value = ''`),
		chromedp.SendKeys(chromedp.ID("case-alias"), "Morgan B"),
		chromedp.Click(chromedp.CSS(`#case-form button[type=submit]`)))
	b.waitJS(t, 5*time.Second, "edited", `document.getElementById('cases-title')?.innerText === 'Morgan B'`)
	if !strings.Contains(eval[string](t, b, `document.querySelector('#view-cases .facts').innerText`), "1 set") {
		t.Error("editing without code words dropped them")
	}

	// The case list warns of the case expiring soon, with a Renew
	// button in the warning itself.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("tab-cases")))
	b.waitJS(t, 5*time.Second, "expiry warning", `document.getElementById('expiry-banner')?.hidden === false &&
		(document.getElementById('expiring-cases')?.innerText || '').includes('Morgan B')`)
	a11y(t, b, "cases expiring")
	b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#expiring-cases button`)))
	b.waitJS(t, 5*time.Second, "renewed from the warning", `!document.getElementById('toast').hidden && document.getElementById('toast').innerText.startsWith('Renewed until')`)
	b.do(t, 10*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#expiring-cases a`)),
		chromedp.Click(chromedp.CSS(`#expiring-cases a`)))
	b.waitJS(t, 5*time.Second, "case page again", `document.getElementById('cases-title')?.innerText === 'Morgan B'`)

	// Practice mode: the survivor's app (enrolled with that code) raises a
	// panic inside the window; it shows here marked PRACTICE, and the
	// caseworker acknowledges and closes it.
	st, body := s.call(t, http.DefaultClient, "POST", "/v1/app/enrol", map[string]string{"code": code})
	if st != http.StatusOK {
		t.Fatalf("app enrol with the shown code: %d %s", st, body)
	}
	var dev struct{ Token string }
	json.Unmarshal(body, &dev)
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("practice-start")))
	b.waitJS(t, 5*time.Second, "practice open", `(document.getElementById('practice-status')?.innerText || '').startsWith('Practice open until')`)
	a11y(t, b, "practice")
	s.signal(t, survivor{Token: dev.Token}, map[string]any{"kind": "panic"})
	b.waitJS(t, 10*time.Second, "practice alert listed", `[...document.querySelectorAll('#practice-alerts li')].some(li => li.innerText.includes('PRACTICE') && li.querySelector('button')?.innerText === 'Acknowledge')`)
	b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#practice-alerts li button`)))
	b.waitJS(t, 10*time.Second, "practice acknowledged", `document.querySelector('#practice-alerts li button')?.innerText === 'Close practice alert'`)
	b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#practice-alerts li button`)))
	b.waitJS(t, 10*time.Second, "practice closed", `(document.getElementById('practice-alerts')?.innerText || '').includes('No practice alerts')`)
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("practice-stop")))
	b.waitJS(t, 5*time.Second, "practice ended", `(document.getElementById('practice-status')?.innerText || '').startsWith('No practice window open')`)

	found, bodies, _ := b.scan(t, canaries())
	for _, f := range found {
		t.Error(f)
	}
	if bodies < 5 {
		t.Errorf("only %d response bodies recorded", bodies)
	}

	// Erase, confirmed by typing ERASE.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#view-cases .row button.danger`)))
	b.waitJS(t, 5*time.Second, "erased", `location.hash === '#/cases' && !document.body.innerText.includes('Morgan B')`)

	// The directory screen is there for everyone.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("tab-directory")), chromedp.WaitVisible(chromedp.ID("dir-form")))
	a11y(t, b, "directory")
	b.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("dir-near"), "SO14 3"),
		chromedp.Click(chromedp.CSS(`#dir-form button[type=submit]`)))
	b.waitJS(t, 5*time.Second, "directory results", `document.querySelectorAll('#dir-list li').length > 0`)
	a11y(t, b, "directory results")
	if got := eval[string](t, b, `document.getElementById('dir-results').innerText`); !strings.Contains(got, "Open now") && !strings.Contains(got, "Closed now") && !strings.Contains(got, "Hours not known") {
		t.Errorf("directory results say nothing about opening: %q", got)
	}

	// The admin's screen: the commissioners' report and its chart.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("signout")))
	b.signIn(t, ada)
	b.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("report-summary")))
	b.waitJS(t, 5*time.Second, "report chart", `document.getElementById('report-chart').complete && document.getElementById('report-chart').naturalWidth > 0`)
	a11y(t, b, "report")
	if got := eval[string](t, b, `document.getElementById('report-summary').textContent`); !strings.Contains(got, "Alerts closed") {
		t.Errorf("report summary %q", got)
	}

	if v := b.cspViolations(t); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
	for _, e := range b.pageErrors() {
		t.Errorf("page: %s", e)
	}
}

// TestSetup follows a new account's setup link: password, the TOTP secret
// shown for the authenticator app, a code from it, and the dashboard. The
// token never stays in the address bar.
func TestSetup(t *testing.T) {
	chrome := testenv.StartChrome(t)
	s := newStack(t)
	out := s.admin(t, nil, "staff", "add", "--username", "dana", "--display-name", "Dana Doyle", "--role", "responder", "--team", "north")
	path := regexp.MustCompile(`(?m)^setup_(?:path|link)=(?:\S*?)(/setup#\S+)$`).FindStringSubmatch(out)
	if path == nil {
		t.Fatalf("staff add printed no setup path:\n%s", out)
	}
	b := openRaw(t, chrome, s.direct+path[1])
	b.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("setup-password")))
	if href := eval[string](t, b, `location.href`); strings.Contains(href, "#") || strings.Contains(href, "setup") {
		t.Errorf("the setup token stayed in the address bar: %s", href)
	}
	a11y(t, b, "setup")
	b.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("setup-password"), testPassword),
		chromedp.SendKeys(chromedp.ID("setup-password2"), testPassword),
		chromedp.Click(chromedp.CSS(`#view-setup button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("setup-secret")))
	secret := strings.ReplaceAll(eval[string](t, b, `document.getElementById('setup-secret').innerText`), " ", "")
	dana := &account{Username: "dana", Password: testPassword, Secret: secret}
	b.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("setup-totp"), dana.code(t)),
		chromedp.Click(chromedp.CSS(`#view-setup button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("view-queue")))
	b.liveReady(t, 10*time.Second)
	if got := eval[string](t, b, `document.getElementById('who').textContent`); got != "Dana Doyle" {
		t.Errorf("signed in as %q", got)
	}
}
