package web

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/disguise/phonetest"
	"waymark/internal/testenv"
)

// TestAppScreenshot renders, for the README, the survivor's calculator
// beside a responder's dashboard the moment its hidden press arrives, both
// at phone size, from a real serve (named as in the demo: Jay's phone,
// Ruth Okafor on call). Without -update it checks that the screens show
// what the README's caption says and writes nothing; with -update it
// writes docs/screenshots/app-and-dashboard.png.
func TestAppScreenshot(t *testing.T) {
	chrome := testenv.StartChrome(t)
	s := newStack(t)
	ruth := s.addStaff(t, "ruth", "Ruth Okafor", "responder")
	cw := s.client(t, s.addStaff(t, "sam", "Sam Patel", "caseworker"))
	_, en := s.appCase(t, cw, "Jay", "+447700900462", "2580", "1470", nil)

	p := phonetest.Open(t, chrome, s.app, "/#"+en["code"], 1)
	p.WaitEnrolled(15 * time.Second)
	p.AllowLocation(50.9097, -1.4044, 20)
	p.Tap("AC 1 2 × 7 =")

	d := openBrowser(t, chrome, s.direct, 1)
	d.signIn(t, ruth)
	d.liveReady(t, 10*time.Second)
	p.Hold("=", func() {
		d.waitJS(t, 10*time.Second, "card", `document.querySelector('#queue .qitem.panic') !== null`)
	})
	p.Settle()
	if got := p.Display(); got != "84" {
		t.Errorf("the calculator shows %q after the press, want 84 (unchanged)", got)
	}
	card := eval[string](t, d, `document.querySelector('#queue .qitem.panic').innerText`)
	for _, want := range []string{"Jay", "PANIC", "App", "Unclaimed", "Near SO"} {
		if !strings.Contains(card, want) {
			t.Errorf("the dashboard's card %q lacks %q", card, want)
		}
	}
	if !*update {
		return
	}
	phone, dash := p.Screenshot(), d.screenshot(t)
	out := sideBySide(t, phone, dash)
	dir := filepath.Join(moduleRoot(t), "docs", "screenshots")
	if err := os.WriteFile(filepath.Join(dir, "app-and-dashboard.png"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote docs/screenshots/app-and-dashboard.png (%d bytes)", len(out))
}

// screenshot is the tab as it is now.
func (b *browser) screenshot(t testing.TB) []byte {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return png
}

// sideBySide puts two PNGs next to each other on a light grey ground.
func sideBySide(t testing.TB, left, right []byte) []byte {
	t.Helper()
	a, err := png.Decode(bytes.NewReader(left))
	if err != nil {
		t.Fatal(err)
	}
	b, err := png.Decode(bytes.NewReader(right))
	if err != nil {
		t.Fatal(err)
	}
	const gap = 24
	w := a.Bounds().Dx() + gap + b.Bounds().Dx()
	h := max(a.Bounds().Dy(), b.Bounds().Dy())
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.RGBA{0xe8, 0xe8, 0xe8, 0xff}}, image.Point{}, draw.Src)
	draw.Draw(img, a.Bounds(), a, a.Bounds().Min, draw.Src)
	draw.Draw(img, b.Bounds().Add(image.Pt(a.Bounds().Dx()+gap, 0)), b, b.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
