package disguise

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// The phone the app must work on, in CSS pixels.
const phoneW, phoneH = 390, 844

// phone is one person's browser with the app open.
type phone struct {
	t    *testing.T
	ctx  context.Context
	base string
	api  *fakeAPI
}

// idbHelper is installed by the browser itself (not served, so the CSP
// and the word scan do not apply): it reads the app's IndexedDB without
// creating it.
const idbHelper = `window.__idb = async (store) => {
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === 'k')) return null;
  return new Promise((res) => {
    const r = indexedDB.open('k');
    r.onsuccess = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains(store)) { db.close(); return res(null); }
      const t = db.transaction(store);
      const ks = t.objectStore(store).getAllKeys();
      const vs = t.objectStore(store).getAll();
      t.oncomplete = () => { db.close(); const o = {}; ks.result.forEach((k, i) => { o[k] = vs.result[i]; }); res(o); };
    };
    r.onerror = () => res(null);
  });
};`

// openPhone opens the app at path in a new, isolated browser at phone
// size and waits for the disguise to be on screen.
func openPhone(t *testing.T, chrome *testenv.Chrome, srv *httptest.Server, api *fakeAPI, scale float64, path string) *phone {
	t.Helper()
	p := &phone{t: t, ctx: chrome.NewBrowser(t), base: srv.URL, api: api}
	p.watch()
	p.do(20*time.Second,
		chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateScale(scale), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(p.base+path),
		chromedp.WaitVisible(chromedp.ID("d")),
	)
	return p
}

// watch installs the test's helpers in every page and fails the test,
// at its end, if the page threw an exception or broke its own
// Content-Security-Policy (an inline script, a Trusted Types sink).
func (p *phone) watch() {
	t := p.t
	src := idbHelper + "\nwindow.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatalf("add script: %v", err)
	}
	var mu sync.Mutex
	var errs []string
	exceptions := chromedp.Events(p.ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			errs = append(errs, msg)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		defer cancel()
		if csp, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || []`)); err == nil && len(csp) > 0 {
			t.Errorf("CSP violations: %v", csp)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errs {
			t.Errorf("page exception: %s", e)
		}
	})
}

// do runs actions with a deadline.
func (p *phone) do(d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](p *phone, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %q: %v", expr, err)
	}
	return v
}

// until polls a JavaScript expression (which may be a promise) until it
// is truthy; past limit the test fails.
func (p *phone) until(limit time.Duration, what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, limit+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(limit))); err != nil {
		p.t.Fatalf("%s: not within %v (%v)", what, limit, err)
	}
}

func (p *phone) display() string {
	p.t.Helper()
	return eval[string](p, `document.getElementById('d').textContent`)
}

// keyName maps what a test writes to a key's data-k.
func keyName(k string) string {
	switch k {
	case "AC", "C":
		return "clear"
	case "=":
		return "eq"
	case "%":
		return "pct"
	case "±":
		return "neg"
	case "⌫":
		return "back"
	case "⇅":
		return "swap"
	}
	return k
}

// center is where key k is on screen.
func (p *phone) center(k string) (x, y float64) {
	p.t.Helper()
	xy := eval[[]float64](p, `(() => { const r = document.querySelector('[data-k="`+keyName(k)+`"]').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	return xy[0], xy[1]
}

// tap taps the keys named in seq, separated by spaces ("1 2 + 3 =").
func (p *phone) tap(seq string) {
	p.t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for _, k := range strings.Fields(seq) {
		x, y := p.center(k)
		acts = append(acts, chromedp.MouseClickXY(x, y))
	}
	p.do(20*time.Second, acts...)
}

// hold presses key k and keeps it down until done says the gesture
// happened, then lets go.
func (p *phone) hold(k string, done func()) {
	p.t.Helper()
	x, y := p.center(k)
	p.do(5*time.Second, chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	done()
	p.do(5*time.Second, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
}

// store reads one of the app's IndexedDB stores ("kv" or "o").
func (p *phone) store(name string) map[string]json.RawMessage {
	p.t.Helper()
	s := eval[string](p, `__idb('`+name+`').then((o) => JSON.stringify(o))`)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		p.t.Fatalf("store %s: %v (%s)", name, err, s)
	}
	return m
}

// enrol opens the enrolment link for code and waits for the token.
func (p *phone) enrol(code string) {
	p.t.Helper()
	p.do(20*time.Second, chromedp.Navigate(p.base+"/#"+code), chromedp.WaitVisible(chromedp.ID("d")))
	p.until(10*time.Second, "token stored", `__idb('kv').then((o) => !!(o && o.e && o.e.token))`)
}

// enrolled starts a server, a fake API and a phone enrolled with a look.
func enrolled(t *testing.T, chrome *testenv.Chrome, kind string, scale float64) *phone {
	t.Helper()
	srv, api := newServer(t)
	code := "K7M2P9QX"
	api.addCode(code, kind, "Sums", "2")
	p := openPhone(t, chrome, srv, api, scale, "/")
	p.enrol(code)
	return p
}

// allowLocation grants geolocation to the app and puts the phone at
// lat, lon; deny refuses it.
func (p *phone) allowLocation(lat, lon, acc float64) {
	p.t.Helper()
	p.permission(browser.PermissionSettingGranted)
	if _, err := chromedp.Call(p.ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
		p.t.Fatalf("geolocation override: %v", err)
	}
}

func (p *phone) permission(s browser.PermissionSetting) {
	p.t.Helper()
	if _, err := chromedp.CallBrowser(p.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{Name: "geolocation"},
		Setting:          s,
		Origin:           p.base,
		BrowserContextID: chromedp.FromContext(p.ctx).BrowserContextID,
	}); err != nil {
		p.t.Fatalf("set permission: %v", err)
	}
}

func (p *phone) screenshot() []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	return b
}

// centerOf is where the element sel is on screen.
func (p *phone) centerOf(sel string) (x, y float64) {
	p.t.Helper()
	xy := eval[[]float64](p, `(() => { const r = document.querySelector('`+sel+`').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	return xy[0], xy[1]
}

// settle waits until no transition or animation runs and a frame has
// been drawn, so that a screenshot catches no key halfway through its
// pressed look.
func (p *phone) settle() {
	p.t.Helper()
	p.until(5*time.Second, "animations over", `document.getAnimations().every((a) => a.playState !== 'running')`)
	eval[bool](p, `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
}
