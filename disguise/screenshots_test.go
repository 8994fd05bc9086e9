package disguise

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// TestScreenshots draws the pictures for docs/survivor-app.md at phone
// size (390×844, device scale 2). It writes them only with -update:
//
//	go test -run TestScreenshots ./disguise/ -args -update
//
// without it, it walks the same screens, so the gestures the guide
// pictures still lead where it says, and writes nothing. The rings and
// captions on the gesture pictures are drawn by the test into the page,
// never served by the app.
func TestScreenshots(t *testing.T) {
	chrome := testenv.StartChrome(t)
	dir := filepath.Join("..", "docs", "screenshots")
	shot := func(p *phone, name string) {
		t.Helper()
		p.Settle()
		if !*update {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "app-"+name+".png"), p.Screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// mark rings the element sel and writes a caption above the keypad.
	mark := func(p *phone, sel, caption string) {
		t.Helper()
		eval[bool](p, `(() => {
  document.querySelectorAll('.__mark').forEach((e) => e.remove());
  const r = document.querySelector('`+sel+`').getBoundingClientRect();
  const ring = document.createElement('div');
  ring.className = '__mark';
  Object.assign(ring.style, { position: 'fixed', left: (r.x - 6) + 'px', top: (r.y - 6) + 'px', width: (r.width + 12) + 'px', height: (r.height + 12) + 'px',
    border: '5px solid #ff2d55', borderRadius: getComputedStyle(document.querySelector('`+sel+`')).borderRadius, boxSizing: 'border-box', zIndex: 50, pointerEvents: 'none' });
  const cap = document.createElement('div');
  cap.className = '__mark';
  cap.textContent = '`+caption+`';
  Object.assign(cap.style, { position: 'fixed', left: '16px', right: '16px', top: '16px', padding: '12px 14px', background: '#ff2d55', color: '#fff',
    font: '600 20px system-ui, sans-serif', borderRadius: '12px', zIndex: 50, textAlign: 'center' });
  document.body.append(ring, cap);
  return true;
})()`)
	}
	unmark := func(p *phone) {
		eval[bool](p, `(document.querySelectorAll('.__mark').forEach((e) => e.remove()), true)`)
	}

	p := enrolled(t, chrome, "calculator", 2)
	p.api.set(func(f *fakeAPI) { f.pins["4711"] = true })
	p.Tap("AC 1 2 8 × 3 =")
	if got := p.Display(); got != "384" {
		t.Errorf("the guide's calculator shows %q, want 384", got)
	}
	shot(p, "calculator")
	p.Tap("AC 4 7 1 1")
	mark(p, `[data-k="eq"]`, "Check in: type your PIN, then tap =")
	shot(p, "checkin")
	p.Tap("AC AC")
	mark(p, `[data-k="eq"]`, "Raise an alert: hold = for 2 seconds")
	shot(p, "hold")
	p.Tap("AC 4 7 1 1")
	mark(p, `[data-k="clear"]`, "Settings: type your PIN, then hold AC for 2 seconds")
	shot(p, "settings-gesture")
	unmark(p)
	p.Hold("AC", func() { p.Until(10*time.Second, "settings", `!!document.getElementById('x')`) })
	shot(p, "settings")
	p.Do(10*time.Second, chromedp.Click(chromedp.ID("xf")), chromedp.WaitVisible(chromedp.ID("fp")),
		chromedp.SendKeys(chromedp.ID("fp"), "SO14 7DU"), chromedp.Click(chromedp.ID("fg")))
	p.Until(10*time.Second, "results", `document.querySelectorAll('#fr .sv').length === 2`)
	eval[bool](p, `(document.activeElement.blur(), true)`)
	shot(p, "find")
	p.Do(10*time.Second, chromedp.Click(chromedp.ID("xq")))

	x, y := p.CenterOf("#d")
	p.Do(5*time.Second, chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	p.Until(5*time.Second, "bubble", `!!document.querySelector('.bub')`)
	p.Do(5*time.Second, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	mark(p, `#d`, "Enrol by hand: press and hold the display, then Paste")
	shot(p, "paste")

	c := enrolled(t, chrome, "converter", 2)
	c.Tap("C 1 7 5 =")
	shot(c, "converter")
}
