package web

import (
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// notLiveJS describes the page's "not live" state: the banner (shown, and
// inside the window however far the page is scrolled), the tab title, and
// whether the ages are greyed and still.
const notLiveJS = `(() => {
  const main = document.getElementById('main');
  main.scrollTop = main.scrollHeight;
  window.scrollTo(0, document.body.scrollHeight);
  const b = document.getElementById('banner-offline');
  const r = b.getBoundingClientRect();
  const age = document.querySelector('#queue time.age');
  return {shown: !b.hidden && r.height > 0, inView: r.top >= 0 && r.bottom <= window.innerHeight,
    where: r.top + '..' + r.bottom + ' of ' + window.innerHeight + ', scrollY ' + window.scrollY + ', body ' + document.body.getBoundingClientRect().height,
    text: b.innerText, title: document.title, stale: document.body.classList.contains('stale'),
    age: age ? age.textContent : '', ageColor: age ? getComputedStyle(age).color : '',
    fgColor: getComputedStyle(document.body).color};
})()`

type notLive struct {
	Shown    bool   `json:"shown"`
	Where    string `json:"where"`
	InView   bool   `json:"inView"`
	Text     string `json:"text"`
	Title    string `json:"title"`
	Stale    bool   `json:"stale"`
	Age      string `json:"age"`
	AgeColor string `json:"ageColor"`
	FgColor  string `json:"fgColor"`
}

// TestDashboardNotLive freezes the real server with SIGSTOP, then stalls a
// responder's network without closing anything: each time the page must
// say within 25 s of its last frame that it is not receiving alerts, in a
// banner that stays in view however far the page is scrolled, in the tab's
// title, with ages stopped and greyed; and recover by itself, replaying
// what it missed.
func TestDashboardNotLive(t *testing.T) {
	chrome := testenv.StartChrome(t)
	px := newCutProxy(t)
	s := newStack(t, px.URL())
	px.Start(hostPort(s.direct))
	alice := s.addStaff(t, "alice", "Alice Adams", "responder")
	carol := s.addStaff(t, "carol", "Carol Cole", "caseworker")
	cw := s.client(t, carol)
	// Enough alerts that the queue scrolls at phone size.
	var svs []survivor
	for i, alias := range []string{"Robin", "Jay", "Ash", "Kit", "Lee", "Max", "Ned", "Oli"} {
		sv := s.seedCase(t, cw, alias, "+4477009001"+string(rune('0'+i))+"0")
		s.panicAt(t, sv, 50.9097, -1.4044, 25)
		svs = append(svs, sv)
	}

	// The same person at phone size and on a desktop.
	a := openBrowser(t, chrome, px.URL(), 1)
	a.signIn(t, alice)
	a.liveReady(t, 10*time.Second)
	a.waitJS(t, 5*time.Second, "eight alerts", `document.querySelectorAll('#queue .qitem').length === 8`)
	d := openBrowser(t, chrome, px.URL(), 1)
	d.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
	d.signIn(t, alice)
	d.liveReady(t, 10*time.Second)
	d.waitJS(t, 5*time.Second, "eight alerts (desktop)", `document.querySelectorAll('#queue .qitem').length === 8`)

	checkOne := func(t *testing.T, a *browser, since time.Time, how string) {
		t.Helper()
		// The last frame came at most one heartbeat (10 s) before; the
		// page gives up 25 s after it.
		a.waitJS(t, 30*time.Second, "not-live banner ("+how+")", `!document.getElementById('banner-offline').hidden`)
		// When the page itself went not live (it notes the time), so two
		// pages checked one after the other are each timed truly.
		took := time.UnixMilli(eval[int64](t, a, `Number(document.body.dataset.staleSince)`)).Sub(since)
		t.Logf("%s: not-live banner %v after", how, took.Round(100*time.Millisecond))
		if took < 14*time.Second || took > 27*time.Second {
			t.Errorf("%s: banner after %v; want between 15 and 25 s (25 s after the last frame, heartbeats every 10 s)", how, took)
		}
		st := eval[notLive](t, a, notLiveJS)
		if !st.Shown || !st.InView {
			t.Errorf("%s: banner shown %v, in view after scrolling to the end %v (%s)", how, st.Shown, st.InView, st.Where)
		}
		if st.Text == "" || !contains(st.Text, "Not receiving alerts") {
			t.Errorf("%s: banner says %q", how, st.Text)
		}
		if !contains(st.Title, "Not receiving alerts") {
			t.Errorf("%s: title %q", how, st.Title)
		}
		if !st.Stale || st.AgeColor == st.FgColor {
			t.Errorf("%s: ages not greyed (stale %v, age colour %s, text colour %s)", how, st.Stale, st.AgeColor, st.FgColor)
		}
		// The ages have stopped: the same text two seconds later.
		before := st.Age
		deadline := time.Now().Add(2100 * time.Millisecond)
		a.waitJS(t, 3*time.Second, "two seconds pass", `Date.now() >= `+jsMillis(deadline))
		if after := eval[notLive](t, a, notLiveJS).Age; after != before {
			t.Errorf("%s: the age kept counting while not live: %q then %q", how, before, after)
		}
		a11y(t, a, "not live ("+how+")")
	}
	check := func(t *testing.T, since time.Time, how string) {
		t.Helper()
		checkOne(t, a, since, how+", phone")
		checkOne(t, d, since, how+", desktop")
	}

	// The hub's heartbeat reaches both pages (every 10 s): what keeps an
	// idle dashboard live, and whose absence is noticed below.
	for name, b := range map[string]*browser{"phone": a, "desktop": d} {
		deadline := time.Now().Add(12 * time.Second)
		for {
			b.rec.mu.Lock()
			n := 0
			for _, f := range b.rec.framesIn {
				if strings.Contains(f, `"type":"heartbeat"`) {
					n++
				}
			}
			b.rec.mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no heartbeat frame within 12 s", name)
			}
			// Look again after the page's own 200 ms timer.
			eval[bool](t, b, `new Promise(r => setTimeout(() => r(true), 200))`)
		}
	}

	t.Run("server frozen with SIGSTOP", func(t *testing.T) {
		if err := s.proc.Signal(syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP waymark serve (pid %d): %v", s.proc.Pid, err)
		}
		stopped := time.Now()
		cont := sync.OnceFunc(func() { s.proc.Signal(syscall.SIGCONT) })
		defer cont()
		check(t, stopped, "SIGSTOP")
		cont()
		for _, b := range []*browser{a, d} {
			took := b.waitJS(t, 30*time.Second, "recovered after SIGCONT", `document.getElementById('banner-offline').hidden && document.body.dataset.live === 'on'`)
			t.Logf("SIGCONT: live again %v later", took.Round(100*time.Millisecond))
		}
		if eval[bool](t, a, `document.title.includes('Not receiving') || document.body.classList.contains('stale')`) {
			t.Error("still marked not live after recovering")
		}
		// Live for real: a new alert arrives.
		s.panicAt(t, svs[0], 50.9101, -1.4050, 40)
		a.waitJS(t, 2*time.Second, "alert after recovery", `[...document.querySelectorAll('#queue .qitem')].some(e => e.innerText.includes('Robin') && e.innerText.includes('Near'))`)
	})

	t.Run("network stalled without a close", func(t *testing.T) {
		px.Stall()
		stalled := time.Now()
		resumed := sync.OnceFunc(px.Resume)
		defer resumed()
		check(t, stalled, "stalled network")
		// Meanwhile an alert is raised (the server is fine): the page
		// gets it on recovery, through the replay from its last event.
		extra := s.seedCase(t, cw, "Pat", "+447700900199")
		s.panicAt(t, extra, 50.9097, -1.4044, 25)
		resumed()
		for _, b := range []*browser{a, d} {
			took := b.waitJS(t, 30*time.Second, "missed alert after the network came back", `[...document.querySelectorAll('#queue .qitem')].some(e => e.innerText.includes('Pat'))`)
			b.liveReady(t, 10*time.Second)
			t.Logf("stall over: caught up %v later", took.Round(100*time.Millisecond))
		}
	})

	for _, b := range []*browser{a, d} {
		for _, e := range b.pageErrors() {
			if !contains(e, "WebSocket") && !contains(e, "Failed to load resource") && !contains(e, "signal timed out") {
				t.Errorf("page: %s", e)
			}
		}
		if v := b.cspViolations(t); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
	}
}

// contains reports whether s holds sub, ignoring case.
func contains(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// jsMillis is t as a JavaScript millisecond timestamp.
func jsMillis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
