package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// Phone size the dashboard must work at one-handed.
const phoneW, phoneH = 390, 844

// browser is one person's tab, with everything it received recorded.
type browser struct {
	ctx context.Context
	rec *recorder
}

// recorder keeps every response body and WebSocket frame a tab received
// or sent, and every console error and exception, for the scans.
type recorder struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	bodies   map[string][]byte // by URL and request id
	framesIn []string
	framesOu []string
	errors   []string
}

func (r *recorder) add(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// openBrowser opens base in a new, isolated browser at phone size and
// starts recording its traffic.
func openBrowser(t *testing.T, chrome *testenv.Chrome, base string, scale float64) *browser {
	t.Helper()
	ctx := chrome.NewBrowser(t)
	b := &browser{ctx: ctx, rec: &recorder{urls: map[network.RequestID]string{}, bodies: map[string][]byte{}}}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{
		MaxTotalBufferSize:    new(int64(200 << 20)),
		MaxResourceBufferSize: new(int64(20 << 20)),
	}); err != nil {
		t.Fatalf("network.enable: %v", err)
	}
	b.record()
	// A listener installed by the browser itself, not the page, so the
	// CSP does not apply to it: it keeps every policy violation for
	// cspViolations.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		t.Fatalf("page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateScale(scale), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	); err != nil {
		t.Fatalf("open dashboard: %v", err)
	}
	return b
}

// record follows the tab's network and console events until it closes.
// Bodies are read as each response finishes, while the browser still
// holds them.
func (b *browser) record() {
	ctx, r := b.ctx, b.rec
	responses := chromedp.Events(ctx, network.ResponseReceived)
	finished := chromedp.Events(ctx, network.LoadingFinished)
	in := chromedp.Events(ctx, network.WebSocketFrameReceived)
	out := chromedp.Events(ctx, network.WebSocketFrameSent)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			r.add(func() { r.urls[ev.RequestID] = ev.Response.URL })
		}
	}()
	go func() {
		for ev, err := range finished {
			if err != nil {
				return
			}
			res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: ev.RequestID})
			if err != nil {
				continue // no body: a redirect, a 204, a WebSocket upgrade
			}
			r.add(func() { r.bodies[r.urls[ev.RequestID]+" #"+string(ev.RequestID)] = res.Body })
		}
	}()
	go func() {
		for ev, err := range in {
			if err != nil {
				return
			}
			r.add(func() { r.framesIn = append(r.framesIn, string(ev.Response.PayloadData)) })
		}
	}()
	go func() {
		for ev, err := range out {
			if err != nil {
				return
			}
			r.add(func() { r.framesOu = append(r.framesOu, string(ev.Response.PayloadData)) })
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				r.add(func() { r.errors = append(r.errors, "console.error: "+strings.Join(parts, " ")) })
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			r.add(func() { r.errors = append(r.errors, "exception: "+msg) })
		}
	}()
}

// do runs actions with a deadline.
func (b *browser) do(t testing.TB, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](t testing.TB, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("eval %q: %v", expr, err)
	}
	return v
}

// waitJS waits until the expression is truthy, checking on every DOM
// change, and returns how long that took; past limit the test fails.
func (b *browser) waitJS(t testing.TB, limit time.Duration, what, expr string) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, limit+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(limit))); err != nil {
		t.Fatalf("%s: not within %v (%v)", what, limit, err)
	}
	return time.Since(start)
}

// signIn fills the sign-in form as a person would and waits for the
// dashboard.
func (b *browser) signIn(t testing.TB, a *account) {
	t.Helper()
	b.do(t, 20*time.Second,
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('login-form').reset()`),
		chromedp.SendKeys(chromedp.ID("login-username"), a.Username),
		chromedp.SendKeys(chromedp.ID("login-password"), a.Password),
		chromedp.SendKeys(chromedp.ID("login-totp"), a.code(t)),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	b.waitJS(t, 20*time.Second, "signed in or refused", `document.getElementById('view-login').hidden || !document.getElementById('login-error').hidden`)
	if msg := eval[string](t, b, `document.getElementById('view-login').hidden ? '' : document.getElementById('login-error').innerText`); msg != "" {
		t.Fatalf("sign-in as %s refused: %s", a.Username, msg)
	}
}

// liveReady waits until the page's live connection is up: no offline
// banner, and the hub's "ready" frame received.
func (b *browser) liveReady(t testing.TB, limit time.Duration) {
	t.Helper()
	b.waitJS(t, limit, "live connection", `document.getElementById('banner-offline').hidden && document.body.dataset.live === 'on'`)
}

// scan lists where any of words shows in the page's DOM (markup, text
// and form values), a response body or a WebSocket frame, ignoring case,
// and counts the bodies and frames it looked at.
func (b *browser) scan(t testing.TB, words []string) (found []string, bodies, frames int) {
	t.Helper()
	dom := eval[string](t, b, `document.documentElement.outerHTML + '\n' +
		[...document.querySelectorAll('input, textarea, select')].map(e => e.value).join('\n') + '\n' +
		document.body.innerText`)
	check := func(where, text string) {
		low := strings.ToLower(text)
		for _, w := range words {
			if strings.Contains(low, strings.ToLower(w)) {
				found = append(found, fmt.Sprintf("%s holds %q", where, w))
			}
		}
	}
	check("the DOM", dom)
	b.rec.mu.Lock()
	defer b.rec.mu.Unlock()
	for where, body := range b.rec.bodies {
		check("response "+where, string(body))
	}
	for _, f := range b.rec.framesIn {
		check("WebSocket frame received", f)
	}
	for _, f := range b.rec.framesOu {
		check("WebSocket frame sent", f)
	}
	return found, len(b.rec.bodies), len(b.rec.framesIn) + len(b.rec.framesOu)
}

// pageErrors returns the console errors and exceptions seen so far.
func (b *browser) pageErrors() []string {
	b.rec.mu.Lock()
	defer b.rec.mu.Unlock()
	return append([]string(nil), b.rec.errors...)
}

// cspViolations returns what the page's Content-Security-Policy blocked.
func (b *browser) cspViolations(t testing.TB) []string {
	t.Helper()
	return eval[[]string](t, b, `window.__csp || []`)
}
