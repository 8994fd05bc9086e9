package web

import (
	"bufio"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite docs/screenshots/{queue,alert}.png from the demo (go test -run TestDashboardScreenshots ./web/ -args -update)")

// demoLoginLine is how `waymark demo` prints an account.
var demoLoginLine = regexp.MustCompile(`^\s+(\w+)\s+username (\S+)\s+password (\S+)\s+TOTP secret (\S+)$`)

// startDemo runs `waymark demo --simulate` exactly as the README tells a
// newcomer to (no settings of the test's own), and returns the dashboard's
// address and the accounts it printed.
func startDemo(t *testing.T) (string, map[string]*account) {
	t.Helper()
	bin := buildWaymark(t)
	cmd := exec.Command(bin, "demo", "--simulate", "--addr", "127.0.0.1:0")
	cmd.Env = childEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	type found struct {
		base  string
		users map[string]*account
	}
	ready := make(chan found, 1)
	go func() {
		f := found{users: map[string]*account{}}
		sent := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				f.base = u
			}
			if m := demoLoginLine.FindStringSubmatch(line); m != nil {
				f.users[m[1]] = &account{Username: m[2], Password: m[3], Secret: m[4]}
			}
			if !sent && f.base != "" && len(f.users) >= 2 {
				ready <- f
				sent = true
			}
		}
	}()
	select {
	case f := <-ready:
		return f.base, f.users
	case <-done:
		t.Fatalf("waymark demo exited:\n%s", stderr.Tail(4000))
	case <-time.After(60 * time.Second):
		t.Fatalf("waymark demo printed no address and accounts within 60 s:\n%s", stderr.Tail(4000))
	}
	return "", nil
}

// TestDashboardScreenshots takes the README's dashboard screenshots from
// `waymark demo --simulate` itself, signed in as its responder (Ruth
// Okafor), so they show only what the demo has: the queue with Jay's code
// word by text, Robin's app panic, Ash's missed check-in and a text from an
// unknown number; and Robin's alert. Without -update it checks the same
// screens and writes nothing.
func TestDashboardScreenshots(t *testing.T) {
	chrome := testenv.StartChrome(t)
	base, users := startDemo(t)
	ruth := users["responder"]
	if ruth == nil {
		t.Fatalf("the demo printed no responder account: %v", users)
	}
	b := openBrowser(t, chrome, base, 2)
	b.signIn(t, ruth)
	b.liveReady(t, 10*time.Second)
	if got := eval[string](t, b, `document.getElementById('who').textContent`); got != "Ruth Okafor" {
		t.Errorf("the demo's responder is %q, want Ruth Okafor (the README names her)", got)
	}
	// The simulation raises the text, the panic and the missed check-in
	// within 9 s, and the unknown number's text at 18 s.
	b.waitJS(t, 40*time.Second, "the demo's four alerts", `(() => {
		const t = [...document.querySelectorAll('#queue .qitem')].map(e => e.innerText).join('\n');
		return ['Jay', 'Robin', 'Ash', 'Unknown sender'].every(w => t.includes(w));
	})()`)
	cards := eval[string](t, b, `[...document.querySelectorAll('#queue .qitem')].map(e => e.innerText.replace(/\n/g, ' ')).join('\n')`)
	t.Logf("queue:\n%s", cards)
	for _, want := range []string{"Text", "App", "Check-in", "Risk: not assessed", "Near SO"} {
		if !strings.Contains(cards, want) {
			t.Errorf("the queue lacks %q, which the README says it shows", want)
		}
	}
	dir := filepath.Join(moduleRoot(t), "docs", "screenshots")
	shot := func(name string) {
		t.Helper()
		if !*update {
			return
		}
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
		chromedp.Click(chromedp.CSS(`#queue .qitem.panic`)),
		chromedp.WaitVisible(chromedp.ID("verdict")))
	b.waitJS(t, 10*time.Second, "location", `document.querySelector('[data-fact=location]').innerText.includes('m ')`)
	if got := eval[string](t, b, `document.getElementById('alert-title').innerText`); !strings.Contains(got, "Robin") {
		t.Errorf("the panic's alert screen is %q, want Robin's", got)
	}
	if !eval[bool](t, b, `document.getElementById('next-step') !== null && document.getElementById('osm-link') !== null && document.getElementById('copy-location') !== null`) {
		t.Error("Robin's alert lacks the next step, the copy button or the map link the README shows")
	}
	shot("alert.png")
}
