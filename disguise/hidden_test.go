package disguise

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

var requestID = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// checkSignal checks what every signal carries.
func checkSignal(t *testing.T, c call) {
	t.Helper()
	if !requestID.MatchString(c.str("request_id")) {
		t.Errorf("request_id %q is not 22 base64url characters", c.str("request_id"))
	}
	if _, err := time.Parse(time.RFC3339, c.str("raised_at")); err != nil {
		t.Errorf("raised_at %q: %v", c.str("raised_at"), err)
	}
	if !strings.HasPrefix(c.Auth, "Bearer tok") {
		t.Errorf("Authorization = %q", c.Auth)
	}
}

// TestEnrol: the link's code is taken out of the address before anything
// else, the browser's history never holds it, and the token is stored.
func TestEnrol(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	api.addCode("K7M2P9QX", "calculator", "My Sums", "3")
	// As typed by a person: lower case, a dash.
	p := openPhone(t, chrome, srv, api, 1, "/#k7m2-p9qx")
	p.Until(10*time.Second, "token stored", `__idb('kv').then((o) => !!(o && o.e && o.e.token))`)
	calls := api.snapshot()
	if len(calls) != 1 || calls[0].Path != "/v1/app/enrol" || calls[0].str("code") != "K7M2P9QX" || calls[0].Auth != "" {
		t.Fatalf("calls: %s", describe(calls))
	}
	if got := eval[string](p, `location.href`); got != p.Base+"/" {
		t.Errorf("location.href = %q, want %q", got, p.Base+"/")
	}
	hist, err := chromedp.Call(p.Ctx, page.GetNavigationHistory, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist.Entries {
		if strings.Contains(strings.ToUpper(e.URL+e.Title), "P9QX") || strings.Contains(e.URL, "#") {
			t.Errorf("history holds %q", e.URL)
		}
	}
	if n := eval[int](p, `history.length`); n != len(hist.Entries) {
		t.Errorf("history.length = %d, entries %d", n, len(hist.Entries))
	}
	kv := p.Store("kv")
	if !bytes.Contains(kv["e"], []byte(`"device_id":"devK7M2P9QX"`)) {
		t.Errorf("enrolment stored: %s", kv["e"])
	}
	if string(kv["l"]) != `{"kind":"calculator","name":"My Sums","icon":"3"}` {
		t.Errorf("look stored: %s", kv["l"])
	}
	if got := eval[string](p, `document.title + ' ' + document.querySelector('link[rel=manifest]').getAttribute('href')`); got != "My Sums /manifest.webmanifest?look=calculator&name=My+Sums&icon=3" {
		t.Errorf("title and manifest: %q", got)
	}

	// A wrong code: nothing changes, nothing shows.
	q := openPhone(t, chrome, srv, api, 1, "/#ZZZZ2222")
	api.wait(t, 10*time.Second, "second enrol", func(c []call) bool { return len(c) == 2 })
	q.Tap("1 +")
	if got := q.Display(); got != "1" {
		t.Errorf("after a wrong code, display = %q", got)
	}
	if kv := q.Store("kv"); kv["e"] != nil && string(kv["e"]) != "null" {
		t.Errorf("a wrong code stored %s", kv["e"])
	}
	if got := eval[string](q, `location.href`); got != q.Base+"/" {
		t.Errorf("location.href = %q", got)
	}
}

// TestCheckin: the PIN then "=" sends a check-in with the PIN, and the
// display shows what any calculator shows; anything that is not a plain
// run of 4–8 digits is arithmetic and sends nothing.
func TestCheckin(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.Tap("AC 1 2 3 =")             // 3 digits
	p.Tap("AC 1 2 3 4 5 6 7 8 9 =") // 9 digits
	p.Tap("AC 2 5 8 0 + 1 =")       // an operator
	p.Tap("AC 2 5 . 8 0 =")         // a decimal point
	p.Tap("AC 2 5 8 0 ± =")         // a sign
	p.Tap("AC 0 2 5 8 0 =")
	if got := p.Display(); got != "2580" {
		t.Errorf("display = %q, want 2580", got)
	}
	p.api.wait(t, 10*time.Second, "check-in", func(c []call) bool { return len(signals(c, "")) >= 1 })
	p.Tap("AC 9 9 1 2 ⌫ 3 =")
	calls := p.api.wait(t, 10*time.Second, "second check-in", func(c []call) bool { return len(signals(c, "")) >= 2 })
	s := signals(calls, "")
	if len(s) != 2 || s[0].kind() != "checkin" || s[0].str("pin") != "02580" || s[1].str("pin") != "9913" {
		t.Fatalf("signals: %s", describe(s))
	}
	for _, c := range s {
		checkSignal(t, c)
	}
	if s[0].str("request_id") == s[1].str("request_id") {
		t.Error("two check-ins share a request_id")
	}
	if got := p.Display(); got != "9913" {
		t.Errorf("display = %q", got)
	}
	p.Until(5*time.Second, "outbox empty", `__idb('o').then((o) => o && Object.keys(o).length === 0)`)
}

// TestCheckinScreensIdentical: after a check-in with the real PIN, the
// duress PIN or a wrong PIN, the screen is the same to the pixel, and the
// same as a phone that is not enrolled shows for the same keys. The fake
// answers each kind of PIN alike, as the server does; the digits are the
// same so that only what the server makes of them differs.
func TestCheckinScreensIdentical(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	shots := map[string][]byte{}
	for i, name := range []string{"real", "duress", "wrong", "not enrolled"} {
		code := []string{"AAAA2222", "BBBB3333", "CCCC4444"}
		p := openPhone(t, chrome, srv, api, 2, "/")
		before := len(signals(api.snapshot(), ""))
		if i < 3 {
			api.addCode(code[i], "calculator", "Calculator", "1")
			p.enrol(code[i])
			if name != "wrong" {
				api.set(func(f *fakeAPI) { f.pins["4711"] = true })
			} else {
				api.set(func(f *fakeAPI) { delete(f.pins, "4711") })
			}
		}
		p.Tap("AC 4 7 1 1 =")
		if i < 3 {
			if !api.within(20*time.Second, func(c []call) bool { return len(signals(c, "")) > before }) {
				t.Fatalf("%s check-in not sent: display %q, outbox %s, locks %s", name, p.Display(), p.Store("o"),
					eval[string](p, `navigator.locks.query().then((q) => JSON.stringify(q))`))
			}
			p.Until(5*time.Second, "outbox empty", `__idb('o').then((o) => o && Object.keys(o).length === 0)`)
		}
		// Let any pending frame paint before the picture.
		p.Settle()
		shots[name] = p.Screenshot()
	}
	for _, name := range []string{"duress", "wrong", "not enrolled"} {
		if !bytes.Equal(shots["real"], shots[name]) {
			t.Errorf("the screen after a %s check-in differs from the real one", name)
		}
	}
	if len(shots["real"]) < 1000 {
		t.Errorf("screenshot of %d bytes", len(shots["real"]))
	}
}

// TestHold: holding "=" for two seconds sends the press first, then the
// location, without changing the screen; the PIN then "=" inside the
// window sends a cancel.
func TestHold(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.AllowLocation(50.9097, -1.4044, 25)
	p.Tap("AC 1 2")
	start := time.Now()
	p.Hold("=", func() {
		p.api.wait(t, 10*time.Second, "press", func(c []call) bool { return len(signals(c, "press")) == 1 })
	})
	if d := time.Since(start); d < 1900*time.Millisecond {
		t.Errorf("the press came after %v of holding, before 2 s", d)
	}
	calls := p.api.wait(t, 15*time.Second, "location", func(c []call) bool { return len(signals(c, "location")) == 1 })
	s := signals(calls, "")
	if s[0].kind() != "press" || s[1].kind() != "location" {
		t.Fatalf("order: %s", describe(s))
	}
	checkSignal(t, s[0])
	loc, _ := s[1].Body["location"].(map[string]any)
	if loc["lat"] != 50.9097 || loc["lon"] != -1.4044 || loc["accuracy_m"] != float64(25) {
		t.Errorf("location = %v", loc)
	}
	if _, err := time.Parse(time.RFC3339, loc["at"].(string)); err != nil {
		t.Errorf("location at: %v", err)
	}
	if got := p.Display(); got != "12" {
		t.Errorf("display after the hold = %q, want 12 (unchanged)", got)
	}
	if strings.Contains(strings.ToLower(eval[string](p, `document.body.innerText`)), "sent") {
		t.Error("something shows")
	}
	p.Tap("AC 4 7 1 1 =")
	calls = p.api.wait(t, 10*time.Second, "cancel", func(c []call) bool { return len(signals(c, "cancel")) == 1 })
	if c := signals(calls, "cancel")[0]; c.str("pin") != "4711" {
		t.Errorf("cancel: %v", c.Body)
	}
	if len(signals(calls, "checkin")) != 0 {
		t.Errorf("a check-in inside the window: %s", describe(calls))
	}
}

// TestHoldLocationRefused: with location refused the press still goes,
// and nothing shows.
func TestHoldLocationRefused(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.Permission(browser.PermissionSettingDenied)
	p.Hold("=", func() {
		p.api.wait(t, 10*time.Second, "press", func(c []call) bool { return len(signals(c, "press")) == 1 })
	})
	// A check-in after the window would be queued behind any location:
	// once it arrives, a location would have too.
	eval[bool](p, `__idb('kv').then(() => true)`)
	p.Tap("AC 1 2 3 4 =")
	calls := p.api.wait(t, 10*time.Second, "later signal", func(c []call) bool { return len(signals(c, "")) >= 2 })
	if n := len(signals(calls, "location")); n != 0 {
		t.Errorf("%d locations sent with permission refused", n)
	}
	if got := p.Display(); got != "1234" {
		t.Errorf("display = %q", got)
	}
}

// TestHoldLocationFollows: after a press, with the app open on the
// screen, a fresh location follows every 30 s, each carrying the press's
// raised_at. (A lower bound on the gap between arrivals only: a timer
// never fires early.)
func TestHoldLocationFollows(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.AllowLocation(50.9097, -1.4044, 25)
	p.Hold("=", func() {
		p.api.wait(t, 10*time.Second, "press", func(c []call) bool { return len(signals(c, "press")) == 1 })
	})
	calls := p.api.wait(t, 60*time.Second, "second location", func(c []call) bool { return len(signals(c, "location")) >= 2 })
	press, locs := signals(calls, "press")[0], signals(calls, "location")
	for i, l := range locs[:2] {
		if l.str("raised_at") != press.str("raised_at") {
			t.Errorf("location %d raised_at %q, want the press's %q", i, l.str("raised_at"), press.str("raised_at"))
		}
	}
	// The first send may lag its timer under load; 20 s still tells a
	// 30 s timer from a resend.
	if gap := locs[1].At.Sub(locs[0].At); gap < 20*time.Second {
		t.Errorf("the second location came %v after the first, want about 30 s", gap)
	}
}

// TestHoldNoFix: with location allowed but no fix to be had (the phone
// finds no position) the press still goes, no location follows, nothing
// shows, and the app goes on working.
func TestHoldNoFix(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.Permission(browser.PermissionSettingGranted)
	// No coordinates: Chromium answers "position unavailable".
	if _, err := chromedp.Call(p.Ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{}); err != nil {
		t.Fatal(err)
	}
	p.Tap("AC 7")
	p.Hold("=", func() {
		p.api.wait(t, 10*time.Second, "press", func(c []call) bool { return len(signals(c, "press")) == 1 })
	})
	if got := p.Display(); got != "7" {
		t.Errorf("display after the hold = %q, want 7 (unchanged)", got)
	}
	p.Tap("AC 1 2 3 4 =")
	calls := p.api.wait(t, 10*time.Second, "later signal", func(c []call) bool { return len(signals(c, "")) >= 2 })
	if n := len(signals(calls, "location")); n != 0 {
		t.Errorf("%d locations sent with no fix", n)
	}
	if got := p.Display(); got != "1234" {
		t.Errorf("display = %q", got)
	}
}

// TestSettings: a PIN the server does not accept changes nothing; the
// real one opens the settings, which save a schedule with the PIN, find
// services, and close on quick exit leaving a fresh calculator.
func TestSettings(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "calculator", 1)
	p.api.set(func(f *fakeAPI) { f.pins["4711"] = true })
	p.Tap("AC 1 3 5 7")
	p.Hold("AC", func() {
		p.api.wait(t, 10*time.Second, "open", func(c []call) bool { return len(c) == 2 && c[1].Path == "/v1/app/open" })
	})
	if got := p.Display(); got != "1357" {
		t.Errorf("after a wrong PIN, display = %q", got)
	}
	if eval[bool](p, `!!document.getElementById('x')`) {
		t.Fatal("settings opened on a wrong PIN")
	}
	p.Tap("AC 4 7 1 1")
	p.Hold("AC", func() { p.Until(10*time.Second, "settings", `!!document.getElementById('x')`) })
	calls := p.api.snapshot()
	if o := calls[len(calls)-1]; o.str("pin") != "4711" || !requestID.MatchString(o.str("request_id")) {
		t.Errorf("open: %v", o.Body)
	}
	if got := eval[string](p, `document.getElementById('xe').value`); got != "120" {
		t.Errorf("every = %q, want the server's 120", got)
	}
	p.Do(10*time.Second,
		chromedp.SetValue(chromedp.ID("xe"), "90"),
		chromedp.Click(chromedp.ID("xs")),
	)
	calls = p.api.wait(t, 10*time.Second, "schedule", func(c []call) bool { return c[len(c)-1].Method == "PUT" })
	put := calls[len(calls)-1]
	if put.Path != "/v1/app/checkins" || put.str("pin") != "4711" || put.Body["every_minutes"] != float64(90) || put.Body["grace_minutes"] != float64(15) {
		t.Errorf("PUT: %v", put.Body)
	}
	p.Do(10*time.Second, chromedp.Click(chromedp.ID("xf")), chromedp.WaitVisible(chromedp.ID("fp")),
		chromedp.SendKeys(chromedp.ID("fp"), "SO14 7DU"), chromedp.Click(chromedp.ID("fg")))
	p.Until(10*time.Second, "results", `document.querySelectorAll('#fr .sv').length === 2`)
	calls = p.api.snapshot()
	if f := calls[len(calls)-1]; f.Path != "/v1/app/find" || f.Query != "postcode=SO14+7DU" {
		t.Errorf("find: %s %s", f.Path, f.Query)
	}
	if got := eval[string](p, `document.querySelector('#fr .sv').innerText`); !strings.Contains(got, "Harbour Outreach") || !strings.Contains(got, "1.2 km") {
		t.Errorf("first result: %q", got)
	}
	if got := eval[int](p, `document.querySelectorAll('#fc option').length`); got != 3 {
		t.Errorf("%d categories offered, want 3", got)
	}
	p.Do(10*time.Second, chromedp.Click(chromedp.ID("xq")))
	if eval[bool](p, `!!document.getElementById('x')`) {
		t.Fatal("quick exit left the settings")
	}
	if got := p.Display(); got != "0" {
		t.Errorf("after quick exit, display = %q", got)
	}
	if w, ok := Clean([]byte(eval[string](p, `document.documentElement.outerHTML`))); !ok {
		t.Errorf("after quick exit the page holds %q", w)
	}
}

// TestForget: forgetting the phone revokes it, clears storage, caches and
// the service worker, and leaves a fresh calculator.
func TestForget(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "converter", 1)
	p.Until(10*time.Second, "service worker", `navigator.serviceWorker.ready.then(() => caches.keys()).then((k) => k.length === 1)`)
	p.api.set(func(f *fakeAPI) { f.pins["4711"] = true })
	p.Tap("C 4 7 1 1")
	p.Hold("C", func() { p.Until(10*time.Second, "settings", `!!document.getElementById('x')`) })
	p.Do(10*time.Second, chromedp.Click(chromedp.ID("xz")), chromedp.Click(chromedp.ID("xz")))
	p.Until(10*time.Second, "fresh calculator", `!document.getElementById('x') && !!document.querySelector('.calc')`)
	calls := p.api.snapshot()
	var del *call
	for i := range calls {
		if calls[i].Method == "DELETE" && calls[i].Path == "/v1/app/device" {
			del = &calls[i]
		}
	}
	if del == nil || del.str("pin") != "4711" || del.Status != http.StatusAccepted {
		t.Fatalf("no revocation: %s", describe(calls))
	}
	if got := eval[string](p, `indexedDB.databases().then((d) => d.map((x) => x.name).join())`); got != "" {
		t.Errorf("databases left: %q", got)
	}
	if got := eval[int](p, `caches.keys().then((k) => k.length)`); got != 0 {
		t.Errorf("%d caches left", got)
	}
	if got := eval[int](p, `navigator.serviceWorker.getRegistrations().then((r) => r.length)`); got != 0 {
		t.Errorf("%d service workers left", got)
	}
	if got := eval[string](p, `document.title`); got != "Calculator" {
		t.Errorf("title = %q", got)
	}
	p.Tap("2 + 2 =")
	if got := p.Display(); got != "4" {
		t.Errorf("display = %q", got)
	}
}
