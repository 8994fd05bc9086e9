package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromePath is where Debian's chromium package puts its launcher.
const chromePath = "/usr/bin/chromium"

// Chrome is a headless Chromium process owned by one test, with a fresh
// profile in a temporary directory. Each NewBrowser is an isolated browser
// context (its own cookies and storage), so one process serves several
// "people" at once.
type Chrome struct {
	t    testing.TB
	root context.Context
}

// RequireChrome finds Chromium (Debian's /usr/bin/chromium, or chromium or
// chromium-browser on PATH) or ends the test: under CI=true it fails,
// elsewhere it skips, like RequireBinary.
func RequireChrome(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat(chromePath); err == nil && !fi.IsDir() {
		return chromePath
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return RequireBinary(t, "chromium", "apt-get install -y chromium")
}

// StartChrome starts headless Chromium for t and stops it at cleanup. The
// flags keep it from talking to anything but the pages a test opens: no
// background networking, component updates, sync or QUIC.
func StartChrome(t testing.TB) *Chrome {
	t.Helper()
	path := RequireChrome(t)
	dir, err := os.MkdirTemp("", "wm-chrome-")
	if err != nil {
		t.Fatalf("testenv: temp dir: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.WindowSize(390, 844),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		// Closing the browser first lets it flush and exit on its own;
		// cancelling the allocator then kills whatever is left and waits.
		cancelRoot()
		cancelAlloc()
		os.RemoveAll(dir)
	})
	// Run with no actions starts the browser, so a broken install fails
	// here with a clear message rather than inside the first test step. It
	// must be given root itself: the browser process lives as long as the
	// context of the first Run.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("testenv: start chromium: %v", err)
	}
	return &Chrome{t: t, root: root}
}

// NewBrowser opens a tab in a new, isolated browser context: a separate
// person with their own cookies and storage. It is closed at cleanup.
func (c *Chrome) NewBrowser(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("testenv: new browser context: %v", err)
	}
	return ctx
}
