package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"waymark/disguise/phonetest"
	"waymark/internal/testenv"
)

// The survivor's app end to end: the real waymark serve (with its app
// listener) on a real redis-server, the app in one headless Chromium tab
// at phone size, a responder's dashboard in another.

// appCase makes a case of team north with the given PINs through the
// caseworker API and issues an enrolment; it returns the case id and the
// enrolment answer (code, link, qr_svg).
func (s *stack) appCase(t *testing.T, cw *http.Client, alias, phone, pin, duress string, look map[string]any) (string, map[string]string) {
	t.Helper()
	st, body := s.call(t, cw, "POST", "/v1/cases", map[string]any{
		"phone": phone, "alias": alias, "team": "north", "risk_level": "high",
		"code_words": []string{canaryCodeWord}, "pin": pin, "duress_pin": duress, "notes": canaryNotes,
	})
	if st != http.StatusCreated {
		t.Fatalf("create case: %d %s", st, body)
	}
	var c struct{ ID string }
	json.Unmarshal(body, &c)
	req := map[string]any{"tech_safety_check": map[string]any{"others_have_access": false, "notes": "checked together"}}
	if look != nil {
		req["look"] = look
	}
	st, body = s.call(t, cw, "POST", "/v1/cases/"+c.ID+"/enrolments", req)
	if st != http.StatusCreated {
		t.Fatalf("enrolment: %d %s", st, body)
	}
	var e map[string]string
	json.Unmarshal(body, &e)
	return c.ID, e
}

// openAlerts lists the open alerts c sees.
func (s *stack) openAlerts(t testing.TB, c *http.Client) []map[string]any {
	t.Helper()
	st, body := s.call(t, c, "GET", "/v1/alerts?state=open", nil)
	if st != http.StatusOK {
		t.Fatalf("alerts: %d %s", st, body)
	}
	var out struct{ Alerts []map[string]any }
	json.Unmarshal(body, &out)
	return out.Alerts
}

// close claims and resolves alert id as c.
func (s *stack) close(t testing.TB, c *http.Client, id string) {
	t.Helper()
	if st, body := s.call(t, c, "POST", "/v1/alerts/"+id+"/ack", map[string]any{}); st != http.StatusOK {
		t.Fatalf("ack: %d %s", st, body)
	}
	if st, body := s.call(t, c, "POST", "/v1/alerts/"+id+"/resolve", map[string]any{"outcome": "accidental"}); st != http.StatusOK {
		t.Fatalf("resolve: %d %s", st, body)
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// TestSurvivorApp: enrolment through the case screen's link, the hidden
// press reaching the dashboard with its location, identical screens for
// the real, duress and wrong PIN, and nothing lost or doubled offline.
func TestSurvivorApp(t *testing.T) {
	chrome := testenv.StartChrome(t)
	s := newStack(t)
	if s.app == "" {
		t.Fatal("waymark serve printed no app listener")
	}
	alice := s.addStaff(t, "alice", "Alice Adams", "responder")
	carol := s.addStaff(t, "carol", "Carol Cole", "caseworker")
	cw := s.client(t, carol)
	resp := s.client(t, alice)

	caseID, en := s.appCase(t, cw, "Robin", canaryPhone, canaryPIN, canaryDuressPIN, nil)
	if !strings.HasPrefix(en["link"], s.app+"/#") || !strings.HasPrefix(en["qr_svg"], "<svg") {
		t.Fatalf("enrolment answer: link %q, qr %.20q", en["link"], en["qr_svg"])
	}
	// The phone lives for the whole test; each subtest drives it.
	p := phonetest.Open(t, chrome, s.app, strings.TrimPrefix(en["link"], s.app), 1)

	t.Run("enrol through the link", func(t *testing.T) {
		p.T = t
		p.WaitEnrolled(15 * time.Second)
		if href := phonetest.Eval[string](p, `location.href`); href != s.app+"/" {
			t.Errorf("address after enrolling = %q, want the bare app URL", href)
		}
		ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
		defer cancel()
		hist, err := chromedp.Call(ctx, page.GetNavigationHistory, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hist.Entries {
			if strings.Contains(e.URL, en["code"]) || strings.Contains(e.URL, "#") {
				t.Errorf("the history holds %q", e.URL)
			}
		}
		// Nothing but the app's own origin: no third-party request.
		for _, u := range phonetest.Eval[[]string](p, `performance.getEntriesByType('resource').map((e) => e.name).concat([location.href])`) {
			if !strings.HasPrefix(u, s.app+"/") {
				t.Errorf("the app fetched %s", u)
			}
		}
		st, body := s.call(t, cw, "GET", "/v1/cases/"+caseID, nil)
		var c struct {
			Devices []map[string]any `json:"devices"`
		}
		json.Unmarshal(body, &c)
		if st != http.StatusOK || len(c.Devices) != 1 {
			t.Errorf("case screen devices after enrolling: %d %s", st, body)
		}
	})

	t.Run("the look chosen at enrolment rides in the link", func(t *testing.T) {
		_, e := s.appCase(t, cw, "Units", "+447700900290", "2468", "1357",
			map[string]any{"kind": "converter", "name": "My Units", "icon": "3"})
		if !strings.Contains(e["link"], "look=converter") {
			t.Fatalf("link %q lacks the look", e["link"])
		}
		ph := phonetest.Open(t, chrome, s.app, strings.TrimPrefix(e["link"], s.app), 1)
		ph.WaitEnrolled(15 * time.Second)
		ph.Until(10*time.Second, "the converter", `document.documentElement.dataset.look === 'converter' && document.title === 'My Units'`)
		if href := phonetest.Eval[string](ph, `location.href`); href != s.app+"/" {
			t.Errorf("address after enrolling = %q", href)
		}
		if m := phonetest.Eval[string](ph, `document.querySelector('link[rel=manifest]').getAttribute('href')`); !strings.Contains(m, "icon=3") {
			t.Errorf("manifest link %q lacks the chosen icon", m)
		}
	})

	t.Run("press reaches the dashboard with the location", func(t *testing.T) {
		p.T = t
		d := openBrowser(t, chrome, s.direct, 1)
		d.signIn(t, alice)
		d.liveReady(t, 10*time.Second)
		p.AllowLocation(50.9097, -1.4044, 20)
		const runs = 20
		var lat []time.Duration
		for i := range runs {
			var seen time.Time
			// The gesture completes 2 s after the press.
			fired := time.Now().Add(2 * time.Second)
			p.Hold("=", func() {
				d.waitJS(t, 10*time.Second, "card on the dashboard", `document.querySelector('#queue .qitem.panic') !== null`)
				seen = time.Now()
			})
			lat = append(lat, max(0, seen.Sub(fired)))
			open := s.openAlerts(t, resp)
			if len(open) != 1 {
				t.Fatalf("run %d: %d open alerts, want 1", i, len(open))
			}
			id := open[0]["id"].(string)
			if i == 0 {
				// The location follows the press.
				deadline := time.Now().Add(15 * time.Second)
				for {
					_, body := s.call(t, resp, "GET", "/v1/alerts/"+id, nil)
					if bytes.Contains(body, []byte(`"lat"`)) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("no location on the alert: %s", body)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			s.close(t, resp, id)
			d.waitJS(t, 10*time.Second, "queue empty", `document.querySelector('#queue .qitem.panic') === null`)
		}
		t.Logf("hold of = (2 s) → card on the dashboard, %d runs: p50 %v, p99 %v", runs, percentile(lat, .5), percentile(lat, .99))
	})

	t.Run("check-in screens identical for real, duress and wrong PINs", func(t *testing.T) {
		// Three phones type the same digits: the real PIN of one case, the
		// duress PIN of another, a wrong PIN for a third.
		const digits = "4711"
		shots := map[string][]byte{}
		for i, c := range []struct{ name, pin, duress string }{
			{"real", digits, "90210"}, {"duress", "90210", digits}, {"wrong", "90210", "80210"},
		} {
			_, e := s.appCase(t, cw, "Case"+c.name, fmt.Sprintf("+4477009002%02d", 50+i), c.pin, c.duress, nil)
			ph := phonetest.Open(t, chrome, s.app, "/#"+e["code"], 1)
			ph.WaitEnrolled(15 * time.Second)
			ph.Tap("AC 4 7 1 1 =")
			ph.WaitOutboxEmpty(10 * time.Second)
			ph.Settle()
			shots[c.name] = ph.Screenshot()
		}
		for _, n := range []string{"duress", "wrong"} {
			if !bytes.Equal(shots["real"], shots[n]) {
				t.Errorf("the screen after a %s check-in differs from the real one", n)
				if dir := os.Getenv("WAYMARK_TEST_SHOTS"); dir != "" {
					os.WriteFile(filepath.Join(dir, "real.png"), shots["real"], 0o644)
					os.WriteFile(filepath.Join(dir, n+".png"), shots[n], 0o644)
				}
			}
		}
		open := s.openAlerts(t, resp)
		duress := 0
		for _, a := range open {
			if a["class"] == "duress" {
				duress++
			}
		}
		if duress != 1 {
			t.Errorf("%d duress alerts after the three check-ins, want 1", duress)
		}
		for _, a := range open {
			s.close(t, resp, a["id"].(string))
		}
	})

	t.Run("offline press, tab closed, reopened offline, network back: one alert", func(t *testing.T) {
		// Each phone reaches the app through a proxy of its own (its own
		// origin, so its own storage); cutting the proxy is the phone
		// losing its network, for the page, its fetches and its service
		// worker alike.
		const runs = 20
		lost, doubled := 0, 0
		for i := range runs {
			alias := fmt.Sprintf("Off%d", i)
			_, e := s.appCase(t, cw, alias, fmt.Sprintf("+4477009003%02d", i), "2468", "1357", nil)
			px := newCutProxy(t)
			px.Start(hostPort(s.app))
			ph := phonetest.Open(t, chrome, px.URL(), "/#"+e["code"], 1)
			ph.WaitEnrolled(15 * time.Second)
			ph.Until(15*time.Second, "service worker", `navigator.serviceWorker.ready.then((r) => !!r.active)`)
			px.Cut()
			ph.Hold("=", func() {
				ph.Until(10*time.Second, "press in the outbox", `__idb('o').then((o) => o && JSON.stringify(o).includes('press'))`)
			})
			// Close the tab and open the app again, still offline: the
			// service worker serves it.
			ph.Do(10*time.Second, chromedp.Navigate("about:blank"))
			ph.Do(20*time.Second, chromedp.Navigate(px.URL()+"/"), chromedp.WaitVisible(chromedp.ID("d")))
			px.Restore()
			ph.WaitOutboxEmpty(30 * time.Second)
			n := 0
			for _, a := range s.openAlerts(t, resp) {
				if a["alias"] == alias {
					n++
					s.close(t, resp, a["id"].(string))
				}
			}
			switch {
			case n == 0:
				lost++
			case n > 1:
				doubled++
			}
		}
		if lost != 0 || doubled != 0 {
			t.Errorf("%d runs: %d lost, %d doubled", runs, lost, doubled)
		}
		t.Logf("offline press, tab closed, reopened offline, network back: %d runs, %d lost, %d doubled", runs, lost, doubled)
	})

	t.Run("a press in the practice window reaches only the caseworker", func(t *testing.T) {
		p.T = t
		st, body := s.call(t, cw, "POST", "/v1/cases/"+caseID+"/practice", map[string]any{"minutes": 5})
		if st != http.StatusOK {
			t.Fatalf("practice: %d %s", st, body)
		}
		p.Hold("=", func() {
			deadline := time.Now().Add(10 * time.Second)
			for !slices.ContainsFunc(s.openAlerts(t, cw), func(a map[string]any) bool { return a["case_id"] == caseID }) {
				if time.Now().After(deadline) {
					t.Fatal("the caseworker sees no practice alert")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
		of := func(c *http.Client) []map[string]any {
			var out []map[string]any
			for _, a := range s.openAlerts(t, c) {
				if a["case_id"] == caseID {
					out = append(out, a)
				}
			}
			return out
		}
		if open := of(resp); len(open) != 0 {
			t.Errorf("the responder sees %d alerts of a practice press", len(open))
		}
		if a := of(cw); len(a) != 1 || a[0]["mode"] != "practice" {
			t.Errorf("caseworker's alerts of the case: %v", a)
		}
	})

	t.Run("the case screen: the device, a schedule set there, removed from the phone", func(t *testing.T) {
		id, e := s.appCase(t, cw, "Casescreen", "+447700900410", "2580", "1470", nil)
		ph := phonetest.Open(t, chrome, s.app, strings.TrimPrefix(e["link"], s.app), 1)
		ph.WaitEnrolled(15 * time.Second)
		b := openBrowser(t, chrome, s.direct, 1)
		b.signIn(t, carol)
		b.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("cases-title")))
		b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/cases/`+id+`'`))
		b.waitJS(t, 10*time.Second, "the device on the case screen", `document.getElementById('cases-title')?.innerText === 'Casescreen' &&
			document.querySelectorAll('#devices li').length === 1 && /^Enrolled /.test(document.querySelector('#devices li').innerText)`)

		// The caseworker sets check-ins on the case screen; the phone's
		// hidden settings then show the same schedule.
		b.waitJS(t, 10*time.Second, "check-ins loaded", `!!document.getElementById('checkins-state') && document.getElementById('checkins-state').innerText !== 'Loading\u2026'`)
		if st := eval[string](t, b, `document.getElementById('checkins-state').innerText`); st != "No check-ins are set." {
			t.Errorf("check-ins before any are set: %q", st)
		}
		b.do(t, 10*time.Second,
			chromedp.SetValue(chromedp.ID("ci-every"), "90"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('ci-every').form.querySelector('button[type=submit]').click()`))
		b.waitJS(t, 10*time.Second, "check-ins set", `(document.getElementById('checkins-state')?.innerText || '').startsWith('Check-ins every 90 minutes, 15 minutes\u2019 grace.')`)
		st, body := s.call(t, cw, "GET", "/v1/cases/"+id+"/checkins", nil)
		var ci struct {
			Active       bool `json:"active"`
			EveryMinutes int  `json:"every_minutes"`
		}
		json.Unmarshal(body, &ci)
		if st != http.StatusOK || !ci.Active || ci.EveryMinutes != 90 {
			t.Errorf("check-ins after the case screen set them: %d %s", st, body)
		}
		ph.Tap("AC 2 5 8 0")
		ph.Hold("AC", func() { ph.Until(10*time.Second, "hidden settings", `!!document.getElementById('x')`) })
		if got := phonetest.Eval[string](ph, `document.getElementById('xe').value`); got != "90" {
			t.Errorf("the phone's settings show every %q minutes, want the case screen's 90", got)
		}

		// Forget this phone: the case screen says the app removed itself.
		ph.Do(10*time.Second, chromedp.Click(chromedp.ID("xz")), chromedp.Click(chromedp.ID("xz")))
		ph.Until(10*time.Second, "fresh calculator", `!document.getElementById('x') && !!document.querySelector('.calc')`)
		deadline := time.Now().Add(10 * time.Second)
		for {
			b.do(t, 10*time.Second, chromedp.Reload())
			b.waitJS(t, 10*time.Second, "case screen", `document.getElementById('cases-title')?.innerText === 'Casescreen' && !!document.querySelector('#devices li')`)
			if eval[bool](t, b, `/^Removed from the phone /.test(document.querySelector('#devices li.device-removed')?.innerText || '')`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("case screen devices: %q", eval[string](t, b, `document.getElementById('devices').innerText`))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("a press the outbox held: raised 14 min ago, arrived now", func(t *testing.T) {
		// The phone's outbox held the press 14 minutes (no network); it
		// arrives now with the time it was raised.
		sv := s.seedCase(t, cw, "Heldpress", "+447700900411")
		d := openBrowser(t, chrome, s.direct, 1)
		d.signIn(t, alice)
		d.liveReady(t, 10*time.Second)
		s.signal(t, sv, map[string]any{"kind": "press", "raised_at": time.Now().Add(-14*time.Minute - 5*time.Second).UTC().Format(time.RFC3339)})
		d.waitJS(t, 10*time.Second, "the card says both times", `[...document.querySelectorAll('#queue .qitem')].some((c) =>
			c.querySelector('.alias')?.innerText === 'Heldpress' && c.querySelector('.held')?.innerText === 'raised 14 min ago, arrived now')`)
		var id string
		for _, a := range s.openAlerts(t, resp) {
			if a["case_id"] == sv.CaseID {
				id = a["id"].(string)
				if a["phone_raised_at"] == nil {
					t.Errorf("the alert lacks phone_raised_at: %v", a)
				}
			}
		}
		d.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/alert/`+id+`'`))
		d.waitJS(t, 10*time.Second, "the alert view says both times", `(document.getElementById('alert-state')?.innerText || '').includes('On the phone: raised 14 min ago, arrived now')`)
		s.close(t, resp, id)
	})

	t.Run("the network drops mid-request: the answer is lost, the repeat is one alert", func(t *testing.T) {
		// The server has the press but its answer never reaches the phone;
		// the press stays in the outbox and goes again, with the same
		// request_id, when the network is back.
		_, e := s.appCase(t, cw, "Midrequest", "+447700900412", "2468", "1357", nil)
		px := newCutProxy(t)
		px.Start(hostPort(s.app))
		ph := phonetest.Open(t, chrome, px.URL(), "/#"+e["code"], 1)
		ph.WaitEnrolled(15 * time.Second)
		ph.Until(15*time.Second, "service worker", `navigator.serviceWorker.ready.then((r) => !!r.active)`)
		ours := func() []map[string]any {
			var out []map[string]any
			for _, a := range s.openAlerts(t, resp) {
				if a["alias"] == "Midrequest" {
					out = append(out, a)
				}
			}
			return out
		}
		px.Deafen()
		ph.Hold("=", func() {
			deadline := time.Now().Add(10 * time.Second)
			for len(ours()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the server never had the press")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
		px.Cut()
		ph.Until(10*time.Second, "press still in the outbox", `__idb('o').then((o) => o && JSON.stringify(o).includes('press'))`)
		px.Restore()
		phonetest.Eval[bool](ph, `dispatchEvent(new Event('online')) || true`)
		ph.WaitOutboxEmpty(30 * time.Second)
		got := ours()
		if len(got) != 1 {
			t.Fatalf("%d alerts after the repeat, want 1", len(got))
		}
		s.close(t, resp, got[0]["id"].(string))
	})
}
