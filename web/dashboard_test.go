package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// firstScreen is what the alert screen shows without scrolling.
type firstScreen struct {
	ScrollY     float64            `json:"scrollY"`
	InnerHeight float64            `json:"innerHeight"`
	ActionsTop  float64            `json:"actionsTop"`
	Items       map[string]boxText `json:"items"`
}

type boxText struct {
	Found  bool    `json:"found"`
	Top    float64 `json:"top"`
	Bottom float64 `json:"bottom"`
	Text   string  `json:"text"`
	InBar  bool    `json:"inBar"`
}

// firstScreenJS measures the alert screen's key elements.
const firstScreenJS = `(() => {
  const sels = %s;
  const items = {};
  for (const s of sels) {
    const el = document.querySelector(s);
    if (!el) { items[s] = {found: false}; continue; }
    const r = el.getBoundingClientRect();
    items[s] = {found: r.height > 0, top: r.top, bottom: r.bottom, text: el.innerText, inBar: !!el.closest('.actions')};
  }
  const bar = document.querySelector('#actionbar .actions');
  return {scrollY: window.scrollY + document.getElementById('main').scrollTop, innerHeight: window.innerHeight,
          actionsTop: bar ? bar.getBoundingClientRect().top : window.innerHeight, items};
})()`

// checkFirstScreen fails unless every selector is on screen at 390x844
// without scrolling, above the action bar (or in it), with the wanted
// text.
func checkFirstScreen(t *testing.T, b *browser, want map[string]string) {
	t.Helper()
	var sels []string
	for s := range want {
		sels = append(sels, fmt.Sprintf("%q", s))
	}
	fs := eval[firstScreen](t, b, fmt.Sprintf(firstScreenJS, "["+strings.Join(sels, ",")+"]"))
	if fs.ScrollY != 0 || fs.InnerHeight != phoneH {
		t.Errorf("scrollY = %v, innerHeight = %v; want 0 and %d", fs.ScrollY, fs.InnerHeight, phoneH)
	}
	for sel, text := range want {
		it := fs.Items[sel]
		switch {
		case !it.Found:
			t.Errorf("%s: not shown", sel)
		case it.InBar && (it.Top < fs.ActionsTop || it.Bottom > fs.InnerHeight):
			t.Errorf("%s: at %.0f–%.0f px, not in the action bar on screen", sel, it.Top, it.Bottom)
		case !it.InBar && (it.Top < 0 || it.Bottom > fs.ActionsTop+0.5):
			t.Errorf("%s: at %.0f–%.0f px, not between the top and the action bar at %.0f px", sel, it.Top, it.Bottom, fs.ActionsTop)
		case !strings.Contains(strings.ToLower(it.Text), strings.ToLower(text)):
			t.Errorf("%s: text %q, want it to contain %q", sel, it.Text, text)
		}
	}
}

// TestDashboard drives two responders' dashboards in a real browser
// against the real server: sign-in, a new alert within a second, the first
// screen at phone size, a claim seen by the other responder, resolve, a
// dropped connection that misses nothing, the hub's refusals, an ended
// session, and a scan for secrets in everything the pages received.
func TestDashboard(t *testing.T) {
	chrome := testenv.StartChrome(t)
	pa, pb := newCutProxy(t), newCutProxy(t)
	s := newStack(t, pa.URL(), pb.URL())
	pa.Start(hostPort(s.direct))
	pb.Start(hostPort(s.direct))

	alice := s.addStaff(t, "alice", "Alice Adams", "responder")
	bob := s.addStaff(t, "bob", "Bob Brown", "responder")
	carol := s.addStaff(t, "carol", "Carol Cole", "caseworker")
	sv := s.seedCase(t, s.client(t, carol), "Robin", canaryPhone)

	a := openBrowser(t, chrome, pa.URL(), 1)
	b := openBrowser(t, chrome, pb.URL(), 1)
	var alertID string

	t.Run("sign in", func(t *testing.T) {
		a.signIn(t, alice)
		b.signIn(t, bob)
		for _, br := range []*browser{a, b} {
			br.do(t, 10*time.Second, chromedp.WaitVisible(chromedp.ID("view-queue")))
			br.liveReady(t, 10*time.Second)
		}
		if got := eval[string](t, a, `document.getElementById('who').textContent`); got != "Alice Adams" {
			t.Errorf("signed in as %q, want Alice Adams", got)
		}
	})

	t.Run("web push offered, service worker registered", func(t *testing.T) {
		// The stack has VAPID keys: the page registers its service worker
		// and offers alerts while the dashboard is closed.
		a.waitJS(t, 10*time.Second, "push offer", `document.body.dataset.push === 'offered' && !document.getElementById('push-enable').hidden`)
		if got := eval[string](t, a, `navigator.serviceWorker.ready.then(r => r.active ? new URL(r.active.scriptURL).pathname + ' ' + new URL(r.scope).pathname : '')`); got != "/sw.js /" {
			t.Errorf("active service worker %q, want /sw.js with scope /", got)
		}
	})

	t.Run("new alert within a second", func(t *testing.T) {
		start := time.Now()
		s.panicAt(t, sv, 50.9097, -1.4044, 25)
		q := `document.querySelector('#queue .qitem.panic') !== null`
		da := a.waitJS(t, time.Second, "alert in alice's queue", q)
		db := b.waitJS(t, time.Second, "alert in bob's queue", q)
		t.Logf("app call → queue: alice %v, bob %v (after the call started: %v)", da, db, time.Since(start))
		if el := time.Since(start); el > time.Second+200*time.Millisecond {
			t.Errorf("alert took %v to reach both queues", el)
		}
		a11y(t, a, "queue")
		alertID = eval[string](t, a, `document.querySelector('#queue .qitem').dataset.alert`)
		text := eval[string](t, a, `document.querySelector('#queue .qitem').innerText`)
		// What a responder chooses by: the source, the verdict (text
		// only, at any hour for this case), the district of the fix, how
		// long it has waited, the risk.
		for _, want := range []string{"Panic", "Robin", "Unclaimed", "Risk: high", "App", "Text only", "Near SO", " s"} {
			if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
				t.Errorf("queue item %q lacks %q", text, want)
			}
		}
	})

	t.Run("first screen at phone size", func(t *testing.T) {
		a.do(t, 10*time.Second,
			chromedp.Click(chromedp.CSS(`#queue .qitem[data-alert="`+alertID+`"]`)),
			chromedp.WaitVisible(chromedp.ID("verdict")))
		a.waitJS(t, 5*time.Second, "location on the alert", `document.querySelector('[data-fact=location]').innerText.includes('±25 m')`)
		a11y(t, a, "alert")
		checkFirstScreen(t, a, map[string]string{
			"#verdict":                  "TEXT ONLY",
			"#next-step":                "Text the agreed message",
			"#opening-line":             "library about your reservation",
			"[data-fact=risk]":          "High",
			"[data-fact=marac]":         "Referred",
			"[data-fact=repeat]":        "Possible repeat",
			"[data-fact=location]":      "±25 m",
			"[data-fact=children]":      "2",
			"[data-fact=communication]": "Urdu",
			"[data-fact=plan]":          "police welfare check",
			"#act-claim":                "Claim",
		})
		loc := eval[string](t, a, `document.querySelector('[data-fact=location]').innerText`)
		for _, want := range []string{"Near SO", "50.90970, -1.40440", "old"} {
			if !strings.Contains(loc, want) {
				t.Errorf("location %q lacks %q", loc, want)
			}
		}
		// One outside link, a plain one to the point on openstreetmap.org
		// (no map is embedded, nothing is fetched from there), and a copy
		// button for the coordinates.
		links := eval[[]string](t, a, `[...document.querySelectorAll('#view-alert a[href^="http"]')].map(e => e.href + ' ' + e.rel)`)
		if len(links) != 1 || !strings.HasPrefix(links[0], "https://www.openstreetmap.org/?mlat=50.90970&mlon=-1.40440#map=17/50.90970/-1.40440 ") ||
			!strings.Contains(links[0], "noreferrer") {
			t.Errorf("outside links on the alert screen: %q; want one plain openstreetmap.org link to the fix, rel noreferrer", links)
		}
		a.do(t, 5*time.Second, chromedp.Click(chromedp.ID("copy-location")))
		a.waitJS(t, 2*time.Second, "copied", `document.getElementById('toast').innerText.includes('50.90970, -1.40440')`)

		// A duress PIN on cancel turns the open panic into duress: the
		// open screen says so at once, and the verdict becomes DO NOT CONTACT.
		s.signal(t, sv, map[string]any{"kind": "cancel", "pin": canaryDuressPIN})
		a.waitJS(t, time.Second, "duress flag", `document.getElementById('duress-flag') !== null`)
		a.waitJS(t, time.Second, "verdict after duress", `document.getElementById('verdict').innerText.includes('DO NOT CONTACT')`)
		checkFirstScreen(t, a, map[string]string{
			"#duress-flag":              "DURESS",
			"#verdict":                  "DO NOT CONTACT",
			"#next-step":                "Call 999 and give this location",
			"[data-fact=risk]":          "High",
			"[data-fact=marac]":         "Referred",
			"[data-fact=repeat]":        "Possible repeat",
			"[data-fact=location]":      "±25 m",
			"[data-fact=children]":      "2",
			"[data-fact=communication]": "interpreter",
			"[data-fact=plan]":          "Text first",
			"#act-claim":                "Claim",
		})
		// Under DO NOT CONTACT the opening line is not offered at all.
		if eval[bool](t, a, `document.getElementById('opening-line') !== null`) {
			t.Error("the opening line shows under DO NOT CONTACT")
		}
		b.waitJS(t, time.Second, "duress in bob's queue", `document.querySelector('#queue .qitem.duress') !== null`)
	})

	t.Run("claim shows on the other dashboard", func(t *testing.T) {
		a.do(t, 5*time.Second, chromedp.Click(chromedp.ID("act-claim")))
		d := b.waitJS(t, time.Second, "claim on bob's queue",
			`(document.querySelector('#queue .qitem[data-alert="`+alertID+`"]')||{innerText:''}).innerText.includes('Claimed by Alice Adams')`)
		t.Logf("claim → other dashboard: %v", d)
		a.waitJS(t, time.Second, "claim on alice's screen", `document.getElementById('alert-claim').innerText === 'Claimed by you'`)

		// Bob opens it and cannot claim it again.
		b.do(t, 10*time.Second,
			chromedp.Click(chromedp.CSS(`#queue .qitem[data-alert="`+alertID+`"]`)),
			chromedp.WaitVisible(chromedp.ID("verdict")))
		if n := eval[int](t, b, `document.querySelectorAll('#act-claim').length`); n != 0 {
			t.Error("bob is offered Claim on alice's alert")
		}
		if got := eval[string](t, b, `document.getElementById('alert-claim').innerText`); got != "Claimed by Alice Adams" {
			t.Errorf("bob sees %q", got)
		}
		b.do(t, 5*time.Second, chromedp.Click(chromedp.CSS(`#view-alert .back`)), chromedp.WaitVisible(chromedp.ID("view-queue")))
	})

	t.Run("resolve", func(t *testing.T) {
		a.do(t, 5*time.Second, chromedp.Click(chromedp.ID("act-working")))
		a.waitJS(t, 2*time.Second, "working", `document.getElementById('alert-claim').innerText.startsWith('Being worked on by you')`)
		a11y(t, a, "own alert")
		a.do(t, 10*time.Second,
			chromedp.Click(chromedp.ID("resolve-outcome-police-attended")),
			chromedp.SendKeys(chromedp.ID("resolve-police"), "CAD-ab-seventeen"),
			chromedp.Click(chromedp.CSS("#resolve-form button[type=submit]")))
		// Police attended with children at home: the children's services
		// reference is asked for before anything is sent.
		a.waitJS(t, 2*time.Second, "children's reference asked for",
			`document.querySelector('[data-field=childrens_services_reference] .field-error:not([hidden])') !== null`)
		a.do(t, 10*time.Second,
			chromedp.SendKeys(chromedp.ID("resolve-children"), "CS-ref-xy"),
			chromedp.SendKeys(chromedp.ID("resolve-note"), "Police attended; safe with sister."),
			chromedp.Click(chromedp.CSS("#resolve-form button[type=submit]")),
			chromedp.WaitVisible(chromedp.ID("view-queue")))
		gone := `document.querySelector('#queue .qitem[data-alert="` + alertID + `"]') === null`
		a.waitJS(t, time.Second, "resolved alert gone from alice's queue", gone)
		b.waitJS(t, time.Second, "resolved alert gone from bob's queue", gone)
		// No case-management endpoint takes the closing record in this
		// stack: the alert says its record is not yet filed.
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/alert/`+alertID+`'`))
		a.waitJS(t, 5*time.Second, "record not yet filed", `(document.getElementById('record-status')?.innerText || '').toLowerCase().includes('record not yet filed')`)
		a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/queue'`), chromedp.WaitVisible(chromedp.ID("view-queue")))
	})

	t.Run("off duty hands claimed alerts over", func(t *testing.T) {
		s.panicAt(t, sv, 50.9097, -1.4044, 25)
		q := `[...document.querySelectorAll('#queue .qitem')].some(e => e.innerText.toLowerCase().includes('unclaimed'))`
		a.waitJS(t, 5*time.Second, "a new alert in alice's queue", q)
		id := eval[string](t, a, `[...document.querySelectorAll('#queue .qitem')].find(e => e.innerText.toLowerCase().includes('unclaimed')).dataset.alert`)
		a.do(t, 10*time.Second,
			chromedp.Click(chromedp.CSS(`#queue .qitem[data-alert="`+id+`"]`)),
			chromedp.WaitVisible(chromedp.ID("act-claim")),
			chromedp.Click(chromedp.ID("act-claim")))
		a.waitJS(t, 5*time.Second, "claimed", `document.getElementById('alert-claim').innerText === 'Claimed by you'`)
		a.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#view-alert .back`)), chromedp.WaitVisible(chromedp.ID("duty-toggle")))
		a.do(t, 10*time.Second, chromedp.Click(chromedp.ID("duty-toggle")), chromedp.WaitVisible(chromedp.ID("duty-form")))
		a11y(t, a, "going off duty")
		// A colleague who does not exist is refused next to the field,
		// and nothing changes.
		a.do(t, 10*time.Second,
			chromedp.SendKeys(chromedp.ID("handover-to-0"), "nobody"),
			chromedp.SendKeys(chromedp.ID("handover-note-0"), "Police on the way; text first."),
			chromedp.Click(chromedp.ID("duty-submit")))
		a.waitJS(t, 5*time.Second, "refusal shown", `[...document.querySelectorAll('#duty-form .field-error:not([hidden]), #duty-form .error:not([hidden])')].length > 0`)
		a.do(t, 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`document.getElementById('handover-to-0').value = ''`),
			chromedp.SendKeys(chromedp.ID("handover-to-0"), "bob"),
			chromedp.Click(chromedp.ID("duty-submit")))
		a.waitJS(t, 5*time.Second, "off duty", `document.body.dataset.duty === 'off' && document.getElementById('duty-toggle').innerText === 'Back on duty'`)
		b.waitJS(t, 5*time.Second, "handed to bob", `(document.querySelector('#queue .qitem[data-alert="`+id+`"]')||{innerText:''}).innerText.includes('Claimed by you')`)
		a.do(t, 10*time.Second, chromedp.Click(chromedp.ID("duty-toggle")))
		a.waitJS(t, 5*time.Second, "back on duty", `document.body.dataset.duty === 'on' && document.getElementById('duty-toggle').innerText === 'Go off duty'`)
		// Bob closes it, so the next test starts with an empty queue.
		if st, body := s.call(t, s.client(t, bob), "POST", "/v1/alerts/"+id+"/resolve", map[string]any{"outcome": "safe"}); st != http.StatusOK {
			t.Fatalf("bob resolves the handed-over alert: %d %s", st, body)
		}
		a.waitJS(t, 5*time.Second, "queue empty again", `document.querySelector('#queue .qitem[data-alert="`+id+`"]') === null`)
	})

	t.Run("dropped connection misses nothing", func(t *testing.T) {
		pa.Cut()
		defer pa.Restore()
		a.waitJS(t, 5*time.Second, "offline banner", `!document.getElementById('banner-offline').hidden`)
		s.panicAt(t, sv, 50.9101, -1.4050, 40)
		b.waitJS(t, time.Second, "new alert on bob's (connected) queue", `document.querySelector('#queue .qitem.panic') !== null`)
		if eval[bool](t, a, `document.querySelector('#queue .qitem.panic') !== null`) {
			t.Fatal("alice's queue shows the alert although her network is down")
		}
		pa.Restore()
		d := a.waitJS(t, 20*time.Second, "alert after reconnect", `document.querySelector('#queue .qitem.panic') !== null`)
		a.liveReady(t, 5*time.Second)
		t.Logf("reconnected and caught up %v after the network came back", d)
		// The reconnect resumed from the last event id it had.
		a.rec.mu.Lock()
		var hellos []string
		for _, f := range a.rec.framesOu {
			if strings.Contains(f, `"type":"hello"`) {
				hellos = append(hellos, f)
			}
		}
		a.rec.mu.Unlock()
		if len(hellos) < 2 {
			t.Fatalf("%d hello frames, want a second one after the reconnect", len(hellos))
		}
		if last := hellos[len(hellos)-1]; strings.Contains(last, `"since":""`) {
			t.Errorf("reconnect hello has no since: %s", last)
		}
	})

	t.Run("hub refuses another origin and a reused ticket", func(t *testing.T) {
		// A raw handshake from a foreign origin: 403 before any upgrade.
		req, _ := http.NewRequest("GET", s.direct+"/v1/ws", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Origin", "https://evil.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("foreign-origin handshake: %d, want 403", res.StatusCode)
		}

		// The same from a page on another origin, in a browser.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<!doctype html><title>elsewhere</title>`))
		}))
		defer evil.Close()
		c := openRaw(t, chrome, evil.URL)
		got := eval[string](t, c, `new Promise(res => {
			const ws = new WebSocket('ws://`+hostPort(pa.URL())+`/v1/ws');
			ws.onopen = () => res('opened');
			ws.onclose = (e) => res('closed ' + e.code);
			setTimeout(() => res('timeout'), 5000);
		})`)
		if got == "opened" {
			t.Errorf("a page on %s opened the hub", evil.URL)
		}

		// A ticket works once: a second socket with it is closed 4401.
		got = eval[string](t, a, `(async () => {
			const r = await fetch('/v1/auth/ws-ticket', {method: 'POST'});
			const {ticket} = await r.json();
			const open = () => new Promise(res => {
				const ws = new WebSocket('ws://' + location.host + '/v1/ws');
				ws.onopen = () => ws.send(JSON.stringify({type: 'hello', ticket, since: ''}));
				ws.onmessage = (m) => { if (JSON.parse(m.data).type === 'ready') { res('ready'); ws.close(); } };
				ws.onclose = (e) => res('closed ' + e.code);
				setTimeout(() => res('timeout'), 5000);
			});
			const first = await open();
			const second = await open();
			return first + ' / ' + second;
		})()`)
		if got != "ready / closed 4401" {
			t.Errorf("ticket used twice: %s, want ready / closed 4401", got)
		}
	})

	t.Run("ended session keeps the queue read-only", func(t *testing.T) {
		// The session ends on the server (as at the end of its lifetime);
		// the hub closes the socket and the page says so.
		eval[int](t, b, `fetch('/v1/auth/logout', {method: 'POST'}).then(r => r.status)`)
		b.waitJS(t, 2*time.Second, "session-ended banner", `!document.getElementById('banner-session').hidden`)
		if !eval[bool](t, b, `document.querySelector('#queue .qitem') !== null && !document.getElementById('view-queue').hidden`) {
			t.Error("the queue went away with the session")
		}
		if !eval[bool](t, b, `document.body.classList.contains('readonly') && !document.getElementById('view-login').hidden`) {
			t.Error("no read-only mode with the sign-in form")
		}
		b.signIn(t, bob)
		b.liveReady(t, 5*time.Second)
		if !eval[bool](t, b, `document.getElementById('banner-session').hidden && !document.body.classList.contains('readonly')`) {
			t.Error("still read-only after signing in again")
		}
	})

	t.Run("a push shows only New alert", func(t *testing.T) {
		origin := pa.URL()
		if _, err := chromedp.CallBrowser(a.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: origin, BrowserContextID: chromedp.FromContext(a.ctx).BrowserContextID,
		}); err != nil {
			t.Fatalf("grant notifications: %v", err)
		}
		ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
		defer cancel()
		regs := chromedp.Events(ctx, serviceworker.WorkerRegistrationUpdated)
		if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
			t.Fatalf("serviceworker.enable: %v", err)
		}
		var id serviceworker.RegistrationID
		for ev, err := range regs {
			if err != nil {
				t.Fatalf("no service worker registration for %s: %v", origin, err)
			}
			for _, r := range ev.Registrations {
				if r.ScopeURL == origin+"/" && !r.IsDeleted {
					id = r.RegistrationID
				}
			}
			if id != "" {
				break
			}
		}
		// The payload names someone: none of it may show. DevTools'
		// delivery to a worker that is still waking is best effort (about
		// one run in four loses the first push here), so it is sent again
		// until a notification shows; the tag makes repeats replace it.
		got := "none"
		for attempt := 0; attempt < 4 && got == "none"; attempt++ {
			if _, err := chromedp.Call(ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
				Origin: origin, RegistrationID: id, Data: `{"t":"alert","title":"Robin","body":"Robin panic"}`,
			}); err != nil {
				t.Fatalf("deliver push: %v", err)
			}
			got = eval[string](t, a, `(async () => {
				const r = await navigator.serviceWorker.ready;
				for (let i = 0; i < 40; i++) {
					const ns = await r.getNotifications();
					if (ns.length) return ns.map((n) => n.title + '|' + n.body).join(',');
					await new Promise((res) => setTimeout(res, 50));
				}
				return 'none';
			})()`)
		}
		if got != "New alert|" {
			diag := eval[string](t, a, `navigator.serviceWorker.getRegistration().then((r) => Notification.permission + ' ' + (r ? (r.active ? r.active.state : 'no active') + ' ' + r.scope : 'no registration'))`)
			t.Errorf("notifications after a push: %q, want only \"New alert\" with no body (%s; registration %s)", got, diag, id)
		}
	})

	t.Run("no secret reaches the page", func(t *testing.T) {
		for name, br := range map[string]*browser{"alice": a, "bob": b} {
			found, bodies, frames := br.scan(t, canaries())
			t.Logf("%s: scanned the DOM, %d response bodies, %d WebSocket frames", name, bodies, frames)
			for _, f := range found {
				t.Errorf("%s: %s", name, f)
			}
			// The scan must see what the API sent: the alias is in the
			// alert view, the opening line too.
			control, _, _ := br.scan(t, []string{"Robin", "about your reservation"})
			if len(control) < 2 || bodies < 5 || frames < 5 {
				t.Errorf("%s: the scan saw too little (%d bodies, %d frames, control words found %d times)", name, bodies, frames, len(control))
			}
		}
	})

	for name, br := range map[string]*browser{"alice": a, "bob": b} {
		if v := br.cspViolations(t); len(v) > 0 {
			t.Errorf("%s's page broke its CSP: %v", name, v)
		}
		for _, e := range br.pageErrors() {
			// A WebSocket cut mid-flight and the refused handshakes log
			// network errors; anything else is a bug in the page.
			if !strings.Contains(e, "WebSocket") && !strings.Contains(e, "Failed to load resource") {
				t.Errorf("%s's page: %s", name, e)
			}
		}
	}
}

// openRaw opens url in a new browser without expecting the dashboard.
func openRaw(t *testing.T, chrome *testenv.Chrome, url string) *browser {
	t.Helper()
	ctx := chrome.NewBrowser(t)
	b := &browser{ctx: ctx, rec: &recorder{}}
	b.do(t, 10*time.Second, chromedp.Navigate(url))
	return b
}
