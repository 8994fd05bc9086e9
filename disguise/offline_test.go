package disguise

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"waymark/disguise/phonetest"
	"waymark/internal/testenv"
)

// TestOffline: after the first visit the service worker holds the app,
// so with the network gone the page opens again as a working calculator.
func TestOffline(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	p := openPhone(t, chrome, srv, api, 1, "/")
	p.Until(10*time.Second, "service worker in control", `navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller || new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', () => r(true))))`)
	if _, err := chromedp.Call(p.Ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.Ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	srv.Close() // nothing answers any more
	p.Do(20*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("d")))
	if eval[bool](p, `navigator.onLine`) {
		t.Error("navigator.onLine after going offline")
	}
	p.Tap("AC 1 2 × 1 2 =")
	if got := p.Display(); got != "144" {
		t.Errorf("offline, 12 × 12 = %q", got)
	}
	if got := eval[string](p, `getComputedStyle(document.body).backgroundColor`); got != "rgb(0, 0, 0)" {
		t.Errorf("offline, the style sheet is missing: background %q", got)
	}
}

// TestOutbox: a press made while the API is down waits in IndexedDB and
// reaches the server once it is back, once.
func TestOutbox(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.api.set(func(f *fakeAPI) { f.down = true })
	p.Hold("=", func() {
		p.api.wait(t, 10*time.Second, "refused press", func(c []call) bool {
			return len(c) > 0 && c[len(c)-1].Path == "/v1/app/signal" && c[len(c)-1].Status == http.StatusServiceUnavailable
		})
	})
	o := p.Store("o")
	if len(o) != 1 {
		t.Fatalf("outbox holds %d entries, want 1", len(o))
	}
	var e struct {
		ID     string
		Method string
		Path   string
		Body   map[string]any
	}
	for _, raw := range o {
		json.Unmarshal(raw, &e)
	}
	if e.Body["kind"] != "press" || e.Body["request_id"] != e.ID || !requestID.MatchString(e.ID) {
		t.Fatalf("outbox entry: %+v", e)
	}
	p.api.set(func(f *fakeAPI) { f.down = false })
	eval[bool](p, `dispatchEvent(new Event('online')) || true`)
	calls := p.api.wait(t, 30*time.Second, "press delivered", func(c []call) bool { return len(signals(c, "press")) == 1 })
	p.Until(10*time.Second, "outbox empty", `__idb('o').then((o) => o && Object.keys(o).length === 0)`)
	// Everything that reached the fake for this press carried one id.
	for _, c := range calls {
		if c.Path == "/v1/app/signal" && c.str("request_id") != e.ID {
			t.Errorf("another request id: %v", c.Body)
		}
	}
	// A later signal (inside the window: a cancel) goes through at once,
	// and the press is not sent again.
	p.Tap("AC 1 2 3 4 5 =")
	calls = p.api.wait(t, 10*time.Second, "cancel", func(c []call) bool { return len(signals(c, "cancel")) == 1 })
	if n := len(signals(calls, "press")); n != 1 {
		t.Errorf("press stored %d times", n)
	}
}

// TestRevoked: a 401 makes the app forget its enrolment quietly; it stays
// a calculator and sends nothing more.
func TestRevoked(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.api.set(func(f *fakeAPI) { clear(f.tokens) })
	p.Tap("AC 1 2 3 4 =")
	p.api.wait(t, 10*time.Second, "refused check-in", func(c []call) bool { return len(c) == 2 && c[1].Status == http.StatusUnauthorized })
	p.Until(10*time.Second, "enrolment dropped", `__idb('kv').then((o) => !o.e)`)
	p.Tap("AC 5 6 7 8 =")
	p.Tap("AC 9 × 9 =")
	if got := p.Display(); got != "81" {
		t.Errorf("display = %q", got)
	}
	if n := len(p.api.snapshot()); n != 2 {
		t.Errorf("%d requests after the token was refused: %s", n, describe(p.api.snapshot()))
	}
}

// TestOutboxCap: the outbox keeps at most 200 entries, dropping the
// oldest location updates first and never a press.
func TestOutboxCap(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.api.set(func(f *fakeAPI) { f.down = true })
	// The page's own outbox module, as the app uses it.
	n := eval[int](p, `import('/a/q.js').then(async (q) => {
  await q.queue('POST', '/v1/app/signal', { kind: 'press', raised_at: new Date().toISOString() });
  for (let i = 0; i < 210; i++) {
    await q.queue('POST', '/v1/app/signal', { kind: 'location', location: { lat: 50, lon: -1, accuracy_m: i, at: new Date().toISOString() } });
  }
  await q.queue('POST', '/v1/app/signal', { kind: 'checkin', pin: '4711', raised_at: new Date().toISOString() });
  return Object.keys(await __idb('o')).length;
})`)
	if n != 200 {
		t.Errorf("outbox holds %d entries, want 200", n)
	}
	kinds := eval[map[string]int](p, `__idb('o').then((o) => { const k = {}; for (const e of Object.values(o)) k[e.body.kind] = (k[e.body.kind] || 0) + 1; return k; })`)
	if kinds["press"] != 1 || kinds["checkin"] != 1 || kinds["location"] != 198 {
		t.Errorf("outbox kinds: %v", kinds)
	}
	// The oldest locations went: the newest is still there.
	if !eval[bool](p, `__idb('o').then((o) => Object.values(o).some((e) => e.body.kind === 'location' && e.body.location.accuracy_m === 209) && !Object.values(o).some((e) => e.body.kind === 'location' && e.body.location.accuracy_m === 11))`) {
		t.Error("not the oldest locations dropped")
	}
}

// TestStorageDenied: with IndexedDB refused (private browsing), the phone
// still enrols and sends, keeping everything in memory.
func TestStorageDenied(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	api.addCode("MNPQ2345", "calculator", "Calculator", "1")
	p := &phone{Phone: phonetest.New(t, chrome.NewBrowser(t), srv.URL), api: api}
	if _, err := chromedp.Call(p.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `IDBFactory.prototype.open = function () { throw new DOMException('denied', 'SecurityError'); };`,
	}); err != nil {
		t.Fatal(err)
	}
	p.Do(20*time.Second,
		chromedp.EmulateViewport(phonetest.W, phonetest.H, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(p.Base+"/#MNPQ2345"),
		chromedp.WaitVisible(chromedp.ID("d")),
	)
	api.wait(t, 10*time.Second, "enrolled", func(c []call) bool { return len(c) == 1 && c[0].Status == http.StatusOK })
	// The enrolment answer is handled before the keys are tapped: the
	// page waits for it before it registers the worker.
	p.Until(10*time.Second, "worker registered", `navigator.serviceWorker.getRegistration().then((r) => !!r)`)
	p.Tap("AC 2 4 6 8 =")
	calls := api.wait(t, 10*time.Second, "check-in", func(c []call) bool { return len(signals(c, "checkin")) == 1 })
	if c := signals(calls, "checkin")[0]; c.str("pin") != "2468" || c.Auth == "" {
		t.Errorf("check-in: %v %q", c.Body, c.Auth)
	}
	if got := p.Display(); got != "2468" {
		t.Errorf("display = %q", got)
	}
}

// TestConfirmation: with the discreet confirmation turned on in the
// settings, the display blinks once a check-in is stored; off (the
// default), it never does.
func TestConfirmation(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	eval[bool](p, `(window.__blinks = 0, document.getElementById('d').addEventListener('animationstart', () => window.__blinks++), true)`)
	p.Tap("AC 1 1 1 1 =")
	p.api.wait(t, 10*time.Second, "check-in", func(c []call) bool { return len(signals(c, "checkin")) == 1 })
	p.Until(5*time.Second, "outbox empty", `__idb('o').then((o) => o && Object.keys(o).length === 0)`)
	p.api.set(func(f *fakeAPI) { f.pins["4711"] = true })
	p.Tap("AC 4 7 1 1")
	p.Hold("AC", func() { p.Until(10*time.Second, "settings", `!!document.getElementById('x')`) })
	if n := eval[int](p, `window.__blinks`); n != 0 {
		t.Fatalf("%d blinks with the confirmation off", n)
	}
	p.Do(10*time.Second, chromedp.Click(chromedp.CSS(`#x .c:nth-of-type(2) input`)))
	p.Until(5*time.Second, "preference stored", `__idb('kv').then((o) => o.p && o.p.conf === true)`)
	p.Do(10*time.Second, chromedp.Click(chromedp.ID("xq")))
	p.Tap("AC 4 7 1 1 =")
	p.Until(10*time.Second, "a blink", `window.__blinks === 1`)
}
