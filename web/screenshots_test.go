package web

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite docs/screenshots/*.png (go test -run TestScreenshots ./web/ -args -update)")

// TestScreenshots renders the queue and a duress alert at phone size
// (390x844 CSS pixels, device scale 2) for the README. It only runs with
// -update, and writes the files it was asked for.
func TestScreenshots(t *testing.T) {
	if !*update {
		t.Skip("writes docs/screenshots only with: go test -run TestScreenshots ./web/ -args -update")
	}
	chrome := testenv.StartChrome(t)
	s := newStack(t)
	sam := s.addStaff(t, "sam", "Sam Patel", "responder")
	kit := s.addStaff(t, "kit", "Kit Morgan", "responder")
	cw := s.client(t, s.addStaff(t, "carol", "Carol Cole", "caseworker"))

	robin := s.seedCase(t, cw, "Robin", "+447700900001")
	jay := s.seedCase(t, cw, "Jay", "+447700900002")
	ash := s.seedCase(t, cw, "Ash", "+447700900003")
	s.panicAt(t, jay, 50.9101, -1.4050, 40)
	s.signal(t, ash, map[string]any{"kind": "message", "message": "can you call after 6"})
	s.panicAt(t, robin, 50.9097, -1.4044, 25)
	s.signal(t, robin, map[string]any{"kind": "cancel", "pin": canaryDuressPIN})

	// Kit claims Jay's alert, so the queue shows a claim too.
	kc := s.client(t, kit)
	st, body := s.call(t, kc, "GET", "/v1/alerts?state=open", nil)
	if st != http.StatusOK {
		t.Fatalf("list alerts: %d %s", st, body)
	}
	var list struct {
		Alerts []struct{ ID, Alias string }
	}
	json.Unmarshal(body, &list)
	for _, a := range list.Alerts {
		if a.Alias == "Jay" {
			if st, body := s.call(t, kc, "POST", "/v1/alerts/"+a.ID+"/ack", nil); st != http.StatusOK {
				t.Fatalf("ack: %d %s", st, body)
			}
		}
	}

	b := openBrowser(t, chrome, s.direct, 2)
	b.signIn(t, sam)
	b.liveReady(t, 10*time.Second)
	b.waitJS(t, 5*time.Second, "three alerts", `document.querySelectorAll('#queue .qitem').length === 3`)
	dir := filepath.Join(moduleRoot(t), "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/screenshots/%s (%d bytes)", name, len(png))
	}
	shot("queue.png")
	b.do(t, 10*time.Second,
		chromedp.Click(chromedp.CSS(`#queue .qitem.duress`)),
		chromedp.WaitVisible(chromedp.ID("duress-flag")))
	b.waitJS(t, 5*time.Second, "location", `document.querySelector('[data-fact=location]').innerText.includes('m ')`)
	shot("alert.png")
}
