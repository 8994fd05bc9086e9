package disguise

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// TestConverter: the second disguise converts right, and plugs into the
// same hidden machinery: the PIN then "=" checks in, holding "=" sends a
// press, and the screen shows only the conversion.
func TestConverter(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "converter", 1)
	p.Until(5*time.Second, "converter", `!!document.querySelector('.conv')`)
	if got := eval[string](p, `document.title + '|' + document.documentElement.dataset.look + '|' + document.querySelector('meta[name=theme-color]').content`); got != "Sums|converter|#f2efe8" {
		t.Errorf("look applied: %q", got)
	}
	result := func() string { return eval[string](p, `document.getElementById('r').textContent`) }
	tests := []struct {
		kind, from, to, keys, want string
	}{
		{"Length", "cm", "in", "1 0 0 =", "39.3700787402"},
		{"Length", "mi", "km", "2 6 . 2 =", "42.1648128"},
		{"Length", "ft", "m", "6 =", "1.8288"},
		{"Weight", "kg", "lb", "1 =", "2.20462262185"},
		{"Weight", "st", "kg", "1 1 =", "69.85322498"},
		{"Weight", "oz", "g", "8 =", "226.796185"},
		{"Temperature", "°C", "°F", "1 0 0 =", "212"},
		{"Temperature", "°F", "°C", "9 8 . 6 =", "37"},
		{"Temperature", "°C", "K", "4 0 ± =", "233.15"},
		{"Temperature", "K", "°C", "0 =", "-273.15"},
	}
	for _, tt := range tests {
		p.Do(10*time.Second, chromedp.Click(chromedp.CSS(`[data-kind="`+tt.kind+`"]`)),
			chromedp.SetValue(chromedp.ID("uf"), tt.from), chromedp.SetValue(chromedp.ID("ut"), tt.to))
		p.Tap("C " + tt.keys)
		if got := result(); got != tt.want {
			t.Errorf("%s %s → %s: %q, want %q", tt.keys, tt.from, tt.to, got, tt.want)
		}
	}
	// Swap turns 212 °F into 100 °C.
	p.Do(10*time.Second, chromedp.Click(chromedp.CSS(`[data-kind="Temperature"]`)))
	p.Tap("C 2 1 2 ⇅ =")
	if got := result(); got != "100" {
		t.Errorf("swapped: %q", got)
	}

	p.Tap("C 4 7 1 1 =")
	calls := p.api.wait(t, 10*time.Second, "check-in", func(c []call) bool { return len(signals(c, "checkin")) == 1 })
	if c := signals(calls, "checkin")[0]; c.str("pin") != "4711" {
		t.Errorf("check-in: %v", c.Body)
	}
	if got := p.Display() + " " + result(); got != "4711 2599.44444444" {
		t.Errorf("after a check-in: %q", got)
	}
	p.Tap("C 1 2 . 5 =")
	p.Hold("=", func() {
		p.api.wait(t, 10*time.Second, "press", func(c []call) bool { return len(signals(c, "press")) == 1 })
	})
	if n := len(signals(p.api.snapshot(), "checkin")); n != 1 {
		t.Errorf("12.5 = sent a check-in")
	}
}

// TestPaste: a long press on the display offers Paste; a code typed there
// enrols the phone, a number goes on the display.
func TestPaste(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	api.addCode("QRST5678", "calculator", "Calculator", "1")
	p := openPhone(t, chrome, srv, api, 1, "/")
	paste := func(text string) {
		t.Helper()
		x, y := p.CenterOf("#d")
		p.Do(5*time.Second, chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
		p.Until(5*time.Second, "bubble", `!!document.querySelector('.bub')`)
		p.Do(10*time.Second, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
			chromedp.Click(chromedp.CSS(".bub .pb")), chromedp.WaitVisible(chromedp.CSS(".bub .pi")),
			chromedp.SendKeys(chromedp.CSS(".bub .pi"), text+"\r"))
		p.Until(5*time.Second, "bubble gone", `!document.querySelector('.bub')`)
	}
	paste("1,234.5")
	if got := p.Display(); got != "1234.5" {
		t.Errorf("pasted a number: display %q", got)
	}
	paste("qrst 5678")
	p.Until(10*time.Second, "token stored", `__idb('kv').then((o) => !!(o && o.e && o.e.token))`)
	if got := p.Display(); got != "1234.5" {
		t.Errorf("after a code, display %q", got)
	}
}
