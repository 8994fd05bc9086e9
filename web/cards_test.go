package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
	"waymark/sms"
)

// seedContactCase enrols a case with the given risk and safe-contact plan
// (channels and whether a window covers every hour) and its app.
func (s *stack) seedContactCase(t *testing.T, cw *http.Client, alias, phone, risk string, call, text, anyHour bool) survivor {
	t.Helper()
	windows := []map[string]any{}
	if anyHour {
		windows = append(windows, map[string]any{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "from": "00:00", "to": "24:00"})
	}
	st, body := s.call(t, cw, "POST", "/v1/cases", map[string]any{
		"phone": phone, "alias": alias, "team": "north", "risk_level": risk,
		"code_words": []string{strings.ToLower(alias) + "word"}, "pin": "2580", "duress_pin": "1470",
		"safe_contact": map[string]any{
			"windows": windows, "channels": map[string]any{"call": call, "sms": text, "voicemail": false},
			"opening_line": "Hi, it's the surgery about your appointment",
		},
	})
	if st != http.StatusCreated {
		t.Fatalf("create case %s: %d %s", alias, st, body)
	}
	var c struct{ ID string }
	jsonUnmarshal(t, body, &c)
	st, body = s.call(t, cw, "POST", "/v1/cases/"+c.ID+"/enrolments", map[string]any{
		"tech_safety_check": map[string]any{"others_have_access": false, "notes": "checked"},
	})
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("enrolment: %d %s", st, body)
	}
	var e struct{ Code string }
	jsonUnmarshal(t, body, &e)
	st, body = s.call(t, http.DefaultClient, "POST", "/v1/app/enrol", map[string]string{"code": e.Code})
	if st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("app enrol: %d %s", st, body)
	}
	var d struct{ Token string }
	jsonUnmarshal(t, body, &d)
	return survivor{CaseID: c.ID, Token: d.Token, Alias: alias}
}

// smsIn sends an inbound text through the real webhook, signed as Twilio
// signs it.
func (s *stack) smsIn(t *testing.T, token, from, body string) {
	t.Helper()
	sid := make([]byte, 16)
	rand.Read(sid)
	form := map[string]string{"MessageSid": "SM" + hex.EncodeToString(sid), "AccountSid": "AC" + strings.Repeat("0", 32),
		"From": from, "To": "+447700900000", "Body": body, "NumMedia": "0", "NumSegments": "1"}
	req, _ := http.NewRequest("POST", s.direct+"/sms/inbound", strings.NewReader(sms.EncodeForm(form)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.SignatureHeader, sms.Sign(token, "http://127.0.0.1/sms/inbound", form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("inbound text: %d", res.StatusCode)
	}
}

// uncoveredJS lists the controls in main that something else covers at
// their centre, after scrolling each into view, and whether the action bar
// and any message lie outside main's box. Empty means nothing covers
// anything.
const uncoveredJS = `(() => {
  const main = document.getElementById('main');
  const out = [];
  const mr = main.getBoundingClientRect();
  for (const id of ['actionbar', 'toast']) {
    const el = document.getElementById(id);
    if (!el || el.hidden) continue;
    const r = el.getBoundingClientRect();
    if (r.height > 0 && r.top < mr.bottom - 0.5) out.push(id + ' overlaps the content (' + r.top + ' < ' + mr.bottom + ')');
  }
  const ctls = [...main.querySelectorAll('button, a[href], input, select, textarea, label.check')]
    .filter(el => el.offsetWidth || el.offsetHeight);
  for (const el of ctls) {
    el.scrollIntoView({block: 'end'});
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + Math.min(r.height / 2, 10);
    const hit = document.elementFromPoint(x, y);
    if (!hit || !(hit === el || el.contains(hit) || hit.contains(el) || (hit.tagName === 'LABEL' && hit.control === el))) {
      out.push((el.id || el.tagName.toLowerCase() + ' ' + (el.innerText || el.name || '').slice(0, 30)) + ' covered by ' + (hit ? (hit.id || hit.className || hit.tagName) : 'nothing'));
    }
  }
  main.scrollTop = 0;
  return out.concat(['checked ' + ctls.length]);
})()`

// checkUncovered fails for every control that something covers.
func checkUncovered(t *testing.T, b *browser, screen string) {
	t.Helper()
	res := eval[[]string](t, b, uncoveredJS)
	n := res[len(res)-1]
	for _, p := range res[:len(res)-1] {
		t.Errorf("%s: %s", screen, p)
	}
	t.Logf("%s: %s controls, none covered", screen, strings.TrimPrefix(n, "checked "))
}

// TestDashboardCards checks what the queue cards show for choosing (source,
// verdict, district, wait, risk "not assessed" for an unknown sender, and
// "Overdue" once the first step of the policy has passed unclaimed), the
// one next step for each contact verdict, and that neither the action bar
// nor a message ever covers a control, at phone and desktop size.
func TestDashboardCards(t *testing.T) {
	chrome := testenv.StartChrome(t)
	const token = "0123456789abcdef0123456789abcdef"
	s := newStackEnv(t, []string{"WAYMARK_TWILIO_ACCOUNT_SID=AC" + strings.Repeat("0", 32), "WAYMARK_TWILIO_AUTH_TOKEN=" + token,
		"WAYMARK_PUBLIC_URL=http://127.0.0.1", "WAYMARK_TRIAGE_TEAM=triage"})
	s.admin(t, nil, "team", "add", "--id", "triage", "--name", "Triage")
	alice := s.addAccount(t, "alice", "Alice Adams", "responder", "north,triage")
	cw := s.client(t, s.addStaff(t, "carol", "Carol Cole", "caseworker"))

	// High risk in north: the first step waits 3 s, so an unclaimed
	// high-risk alert is overdue 3 s after it is raised.
	s.admin(t, strings.NewReader(`{"high": {"steps": [
		{"whom": ["oncall:primary"], "how": ["dashboard"], "wait": "3s"},
		{"whom": ["fallback"], "how": ["sms"], "wait": "10m"}]}}`), "policy", "set", "--team", "north", "-")

	robin := s.seedContactCase(t, cw, "Robin", "+447700900301", "high", false, true, true) // TEXT ONLY
	jay := s.seedContactCase(t, cw, "Jay", "+447700900302", "medium", true, true, true)    // SAFE TO CALL
	ash := s.seedContactCase(t, cw, "Ash", "+447700900303", "standard", true, true, false) // DO NOT CONTACT: no window
	s.panicAt(t, robin, 50.9097, -1.4044, 25)
	s.signal(t, jay, map[string]any{"kind": "panic"})
	s.signal(t, ash, map[string]any{"kind": "panic"})
	s.smsIn(t, token, "+447700900999", "robinword")

	b := openBrowser(t, chrome, s.direct, 1)
	b.signIn(t, alice)
	b.liveReady(t, 10*time.Second)
	b.waitJS(t, 10*time.Second, "four alerts", `document.querySelectorAll('#queue .qitem').length === 4`)
	card := func(alias string) string {
		return eval[string](t, b, `[...document.querySelectorAll('#queue .qitem')].map(e => e.innerText.replace(/\n/g, ' ')).find(x => x.includes('`+alias+`')) || ''`)
	}

	t.Run("cards show what a responder chooses by", func(t *testing.T) {
		for alias, want := range map[string][]string{
			"Robin":          {"App", "Text only", "Near SO", "Risk: high"},
			"Jay":            {"App", "Safe to call", "No location", "Risk: medium"},
			"Ash":            {"App", "Do not contact", "No location", "Risk: standard"},
			"Unknown sender": {"Text", "Risk: not assessed"},
		} {
			got := card(alias)
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("%s's card %q lacks %q", alias, got, w)
				}
			}
		}
		if strings.Contains(card("Unknown sender"), "Risk: standard") {
			t.Error("an unknown sender shows a risk nobody assessed")
		}
		// Overdue: Robin's (high, 3 s first step) once 3 s have passed
		// unclaimed; Jay's (medium, the default policy) not yet.
		b.waitJS(t, 6*time.Second, "Robin overdue", `[...document.querySelectorAll('#queue .qitem.overdue')].some(e => e.innerText.includes('Robin') && e.innerText.includes('Overdue'))`)
		if strings.Contains(card("Jay"), "Overdue") {
			t.Error("Jay's alert is marked overdue before its policy's first step has passed")
		}
		outline := eval[string](t, b, `getComputedStyle(document.querySelector('#queue .qitem.overdue')).outlineStyle`)
		if outline != "solid" {
			t.Errorf("overdue card outline %q", outline)
		}
		a11y(t, b, "queue with every kind of card")
	})

	t.Run("one next step per verdict", func(t *testing.T) {
		for _, c := range []struct {
			alias, next string
			opening     bool
		}{
			{"Robin", "Text the agreed message", true},
			{"Jay", "Ring now", true},
			{"Ash", "Do not call or text them", false},
		} {
			b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/queue'`), chromedp.WaitVisible(chromedp.ID("view-queue")))
			b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#queue .qitem')].find(e => e.innerText.includes('`+c.alias+`')).click()`),
				chromedp.WaitVisible(chromedp.ID("next-step")))
			b.waitJS(t, 5*time.Second, c.alias+"'s screen", `document.getElementById('alert-title').innerText.includes('`+c.alias+`')`)
			if got := eval[string](t, b, `document.getElementById('next-step').innerText`); !strings.HasPrefix(got, c.next) {
				t.Errorf("%s: next step %q, want %q", c.alias, got, c.next)
			}
			if got := eval[bool](t, b, `document.getElementById('opening-line') !== null`); got != c.opening {
				t.Errorf("%s: opening line shown %v, want %v", c.alias, got, c.opening)
			}
			a11y(t, b, c.alias+"'s alert")
		}
	})

	check := func(t *testing.T, size string) {
		// Robin's alert, claimed: every form below the first screen.
		b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/queue'`), chromedp.WaitVisible(chromedp.ID("view-queue")))
		b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#queue .qitem')].find(e => e.innerText.includes('Robin')).click()`),
			chromedp.WaitVisible(chromedp.ID("verdict")))
		if eval[bool](t, b, `document.getElementById('act-claim') !== null`) {
			b.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('act-claim').click()`))
		}
		b.waitJS(t, 5*time.Second, "claimed", `document.getElementById('resolve-form') && !document.getElementById('resolve-form').closest('.more').hidden`)
		checkUncovered(t, b, size+" alert screen")
		// A message shows: it takes its own room, over nothing.
		// Clicked from the page: the screen redraws as the claim's events
		// arrive, so a node found a moment earlier may be gone.
		b.do(t, 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('copy-location').click()`))
		b.waitJS(t, 2*time.Second, "message", `!document.getElementById('toast').hidden`)
		checkUncovered(t, b, size+" alert screen with a message")
		// The outcomes are large targets, each with its words.
		small := eval[[]string](t, b, `[...document.querySelectorAll('#resolve-form .outcomes label')].filter(l => { const r = l.getBoundingClientRect(); return r.height < 44 || !l.innerText.trim(); }).map(l => l.innerText)`)
		if len(small) > 0 {
			t.Errorf("%s: outcome choices under 44 px or without words: %q", size, small)
		}
		a11y(t, b, size+" claimed alert")
	}
	t.Run("nothing covers a control at phone size", func(t *testing.T) { check(t, "phone") })
	t.Run("nothing covers a control at desktop size", func(t *testing.T) {
		b.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
		check(t, "desktop")
		a11y(t, b, "desktop")
	})
}

func jsonUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}
