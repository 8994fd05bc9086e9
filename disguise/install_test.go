package disguise

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// TestInstallable: Chromium reads the look's manifest without errors
// and finds nothing that stops the app being installed (the browser
// contexts of these tests are incognito-like, which Chromium reports as
// the one reason it would not offer the install; that one is allowed).
func TestInstallable(t *testing.T) {
	chrome := testenv.StartChrome(t)
	p := enrolled(t, chrome, "converter", 1)
	p.Until(10*time.Second, "service worker in control", `navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller || new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', () => r(true))))`)
	m, err := chromedp.Call(p.Ctx, page.GetAppManifest, page.GetAppManifestParams{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.URL, "/manifest.webmanifest?look=converter&name=Sums&icon=2") {
		t.Errorf("manifest URL %q", m.URL)
	}
	for _, e := range m.Errors {
		t.Errorf("manifest error: %s", e.Message)
	}
	if m.Manifest == nil || m.Manifest.Name != "Sums" {
		t.Errorf("manifest read: %+v", m.Manifest)
	}
	ie, err := chromedp.Call(p.Ctx, page.GetInstallabilityErrors, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("installability: %d reasons", len(ie.InstallabilityErrors))
	for _, e := range ie.InstallabilityErrors {
		t.Logf("  %s", e.ErrorID)
		if e.ErrorID != "in-incognito" {
			t.Errorf("not installable: %s %v", e.ErrorID, e.ErrorArguments)
		}
	}
}
