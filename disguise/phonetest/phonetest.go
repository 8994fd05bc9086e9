// Package phonetest drives the survivor's app (package disguise) in a
// headless Chromium tab at phone size, for this module's tests: the
// disguise package's own and the full-stack tests that enrol a phone and
// raise signals through a real server.
//
// A Phone taps keys where a thumb would, holds them for the hidden
// gestures, reads the display and the app's IndexedDB, and fails its test
// if the page throws or breaks its Content-Security-Policy. The helpers it
// installs in each page come from the browser (CDP), not the server, so
// the app listener never serves them.
package phonetest

import (
	"context"
	"encoding/base32"
	"encoding/json"
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

// W and H are the phone the app must work on, in CSS pixels.
const W, H = 390, 844

// Phone is one person's tab with the app open.
type Phone struct {
	T    testing.TB
	Ctx  context.Context
	Base string // the app's origin, "http://127.0.0.1:PORT"
}

// helpers are installed in every page by the browser: __idb(store) reads
// one of the app's IndexedDB stores ("kv" or "o") without creating the
// database, and __csp collects policy violations.
const helpers = `window.__idb = async (store) => {
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
};
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`

// New wraps a tab (from testenv.Chrome.NewBrowser) for the app at base,
// installing the helpers and the watch for exceptions and CSP violations.
// It does not navigate.
func New(t testing.TB, ctx context.Context, base string) *Phone {
	t.Helper()
	p := &Phone{T: t, Ctx: ctx, Base: strings.TrimSuffix(base, "/")}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: helpers}); err != nil {
		t.Fatalf("phonetest: add script: %v", err)
	}
	var mu sync.Mutex
	var errs []string
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
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
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if csp, err := chromedp.Run(c, chromedp.Evaluate[[]string](`window.__csp || []`)); err == nil && len(csp) > 0 {
			t.Errorf("phonetest: CSP violations: %v", csp)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errs {
			t.Errorf("phonetest: page exception: %s", e)
		}
	})
	return p
}

// Open opens base+path (for example "/" or "/#CODE") in a new, isolated
// browser at phone size (scale is the device pixel ratio) and waits for
// the app's display.
func Open(t testing.TB, chrome *testenv.Chrome, base, path string, scale float64) *Phone {
	t.Helper()
	p := New(t, chrome.NewBrowser(t), base)
	p.Do(20*time.Second,
		chromedp.EmulateViewport(W, H, chromedp.EmulateScale(scale), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(p.Base+path),
		chromedp.WaitVisible(chromedp.ID("d")),
	)
	return p
}

// Do runs actions with a deadline.
func (p *Phone) Do(d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.T.Fatalf("phonetest: %v", err)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) into T.
func Eval[T any](p *Phone, expr string) T {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.T.Fatalf("phonetest: eval %q: %v", expr, err)
	}
	return v
}

// Until polls a JavaScript expression (which may be a promise) every
// 10 ms until it is truthy; past limit the test fails.
func (p *Phone) Until(limit time.Duration, what, expr string) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, limit+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(limit))); err != nil {
		p.T.Fatalf("phonetest: %s: not within %v (%v)", what, limit, err)
	}
}

// Display is what the display shows.
func (p *Phone) Display() string {
	p.T.Helper()
	return Eval[string](p, `document.getElementById('d').textContent`)
}

// keyName maps a key as written in a sequence to its data-k.
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

// CenterOf is where the element matching the CSS selector sel is on
// screen.
func (p *Phone) CenterOf(sel string) (x, y float64) {
	p.T.Helper()
	b, _ := json.Marshal(sel)
	xy := Eval[[]float64](p, `(() => { const r = document.querySelector(`+string(b)+`).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	return xy[0], xy[1]
}

// center is where key k is on screen.
func (p *Phone) center(k string) (x, y float64) {
	return p.CenterOf(`[data-k="` + keyName(k) + `"]`)
}

// Tap taps the keys named in seq, separated by spaces: digits, ".", "+",
// "−", "×", "÷", "%", "±", "⌫", "⇅", "=", and "AC" or "C" for the clear
// key ("AC 1 2 + 3 =").
func (p *Phone) Tap(seq string) {
	p.T.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for _, k := range strings.Fields(seq) {
		x, y := p.center(k)
		acts = append(acts, chromedp.MouseClickXY(x, y))
	}
	p.Do(20*time.Second, acts...)
}

// Hold presses key k (as in Tap) and keeps it down until done returns,
// then lets go. The hidden gestures need 2 s: done should wait for their
// effect (the press reaching the server, the settings on screen), not
// sleep.
func (p *Phone) Hold(k string, done func()) {
	p.T.Helper()
	x, y := p.center(k)
	p.Do(5*time.Second, chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	done()
	p.Do(5*time.Second, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
}

// Store reads one of the app's IndexedDB stores: "kv" (the enrolment
// under "e", the look under "l", preferences under "p") or "o" (the
// outbox, by request id). It is nil when there is no database.
func (p *Phone) Store(name string) map[string]json.RawMessage {
	p.T.Helper()
	s := Eval[string](p, `__idb('`+name+`').then((o) => JSON.stringify(o))`)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		p.T.Fatalf("phonetest: store %s: %v (%s)", name, err, s)
	}
	return m
}

// WaitEnrolled waits until the app has stored a device token.
func (p *Phone) WaitEnrolled(limit time.Duration) {
	p.T.Helper()
	p.Until(limit, "token stored", `__idb('kv').then((o) => !!(o && o.e && o.e.token))`)
}

// WaitOutboxEmpty waits until nothing waits in the app's outbox.
func (p *Phone) WaitOutboxEmpty(limit time.Duration) {
	p.T.Helper()
	p.Until(limit, "outbox empty", `__idb('o').then((o) => o && Object.keys(o).length === 0)`)
}

// AllowLocation grants the app geolocation and puts the phone at lat,
// lon with the given accuracy in metres.
func (p *Phone) AllowLocation(lat, lon, acc float64) {
	p.T.Helper()
	p.Permission(browser.PermissionSettingGranted)
	if _, err := chromedp.Call(p.Ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
		p.T.Fatalf("phonetest: geolocation override: %v", err)
	}
}

// Permission sets the app's geolocation permission.
func (p *Phone) Permission(s browser.PermissionSetting) {
	p.T.Helper()
	if _, err := chromedp.CallBrowser(p.Ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{Name: "geolocation"},
		Setting:          s,
		Origin:           p.Base,
		BrowserContextID: chromedp.FromContext(p.Ctx).BrowserContextID,
	}); err != nil {
		p.T.Fatalf("phonetest: set permission: %v", err)
	}
}

// Settle waits until no transition or animation runs and a frame has
// been drawn, so that a screenshot catches no key halfway through its
// pressed look.
func (p *Phone) Settle() {
	p.T.Helper()
	p.Until(5*time.Second, "animations over", `document.getAnimations().every((a) => a.playState !== 'running')`)
	// Then have the whole page painted afresh: after a partial repaint
	// (the last key's), a tile's edge pixels may be rastered differently
	// from a full paint, and two equal screens would differ by a few
	// pixels of anti-aliasing.
	Eval[bool](p, `(async () => {
	  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
	  document.documentElement.style.opacity = '0.99';
	  await frame();
	  document.documentElement.style.opacity = '';
	  await frame();
	  return true;
	})()`)
}

// Screenshot is a PNG of the screen.
func (p *Phone) Screenshot() []byte {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 20*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.T.Fatalf("phonetest: screenshot: %v", err)
	}
	return b
}

// Unveil reverses disguise.Veil, for tests that read the app's answers
// (disguise's tests check that it does).
func Unveil(s string) ([]byte, error) {
	return base32.NewEncoding("bcdfghjkmnpqrstwxzBCDFGHJKMNPQRS").WithPadding(base32.NoPadding).DecodeString(s)
}
