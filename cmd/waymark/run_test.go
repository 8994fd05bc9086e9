package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"waymark/disguise"
	"waymark/internal/testenv"
	"waymark/seal"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is a Waymark started through run, as main would.
type instance struct {
	base   string
	addrs  serveAddrs
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startWaymark calls run with args and env and waits for the listening line.
func startWaymark(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	inst := &instance{stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, append([]string{"waymark"}, args...), getenv, pw, inst.stderr)
		pw.Close()
		inst.done <- err
	}()
	lines := make(chan serveAddrs, 1)
	go func() {
		scanAddrs(pr, lines)
		io.Copy(io.Discard, pr)
	}()
	select {
	case inst.addrs = <-lines:
		inst.base = inst.addrs.base
	case err := <-inst.done:
		t.Fatalf("waymark exited before listening: %v\n%s", err, inst.stderr)
	case <-time.After(15 * time.Second):
		t.Fatalf("waymark did not print its address\n%s", inst.stderr)
	}
	t.Cleanup(func() { inst.stop(t) })
	return inst
}

func (i *instance) stop(t *testing.T) {
	t.Helper()
	i.cancel()
	select {
	case err := <-i.done:
		if err != nil {
			t.Errorf("run returned %v after shutdown, want nil", err)
		}
		i.done <- nil // later stops see a clean exit
	case <-time.After(20 * time.Second):
		t.Error("waymark did not stop within 20s")
	}
}

func (i *instance) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return getURL(t, i.base+path)
}

// getURL GETs u and returns the status and body.
func getURL(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeEmbedded(t *testing.T) {
	inst := startWaymark(t, map[string]string{}, "serve", "--addr", "127.0.0.1:0")
	if code, _ := inst.get(t, "/healthz"); code != 200 {
		t.Errorf("healthz = %d", code)
	}
	if code, _ := inst.get(t, "/readyz"); code != 200 {
		t.Errorf("readyz = %d", code)
	}
	code, body := getURL(t, inst.addrs.metrics+"/metrics")
	if code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_") {
		t.Errorf("metrics on the operator listener = %d, want Go and process metrics", code)
	}
	// Counters move differently for duress and for enrolled numbers: the
	// public listener never serves them.
	if code, _ := inst.get(t, "/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404", code)
	}
	if !strings.Contains(inst.stderr.String(), "NOTHING WILL SURVIVE A RESTART") {
		t.Errorf("no loud warning about the embedded redis in the log:\n%s", inst.stderr)
	}
}

// TestServeAppListener: with --app-addr the disguised app has a listener of
// its own that serves the app and its API and nothing of the staff side,
// and says nothing that gives it away in any answer; the staff listener
// does not serve the app's files.
func TestServeAppListener(t *testing.T) {
	inst := startWaymark(t, map[string]string{}, "serve", "--addr", "127.0.0.1:0", "--app-addr", "127.0.0.1:0")
	app := inst.addrs.app
	if app == "" || app == inst.base {
		t.Fatalf("app listener %q beside %q", app, inst.base)
	}
	paths := []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/sw.js"}, {"GET", "/manifest.webmanifest"}, {"GET", "/manifest.webmanifest?look=converter&name=Units&icon=2"},
		{"GET", "/nothing-here"}, {"GET", "/a/nothing.js"}, {"POST", "/"}, {"DELETE", "/sw.js"},
		{"POST", "/v1/app/enrol"}, {"POST", "/v1/app/signal"}, {"GET", "/v1/app/signal"}, {"POST", "/v1/app/open"},
		{"GET", "/v1/app/find?postcode=SO14"}, {"PUT", "/v1/app/checkins"}, {"DELETE", "/v1/app/device"},
		{"POST", "/v1/auth/login"}, {"GET", "/metrics"}, {"GET", "/v1/alerts"}, {"POST", "/sms/inbound"},
		{"GET", "/assets/app.js"}, {"GET", "/healthz"}, {"GET", "/v1/ws"},
	}
	bodies := []string{"", "{}", `{"code":"ABCDEFGH"}`, `{"request_id":"x","kind":"panic"}`, "not json"}
	for _, p := range paths {
		for _, body := range bodies {
			req, _ := http.NewRequest(p.method, app+p.path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer not-a-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if what, w := revealingWord(resp); w != "" {
				t.Errorf("app listener %s %s (%q): %s hold %q", p.method, p.path, body, what, w)
			}
			switch p.path {
			case "/v1/auth/login", "/metrics", "/v1/alerts", "/sms/inbound", "/assets/app.js", "/healthz", "/v1/ws":
				// The app's files answer 405 to anything but GET.
				if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("app listener %s %s = %d, want 404 or 405", p.method, p.path, resp.StatusCode)
				}
			}
		}
	}
	// Oversized bodies: the app API answers 413, the app's files 405; in
	// neither the body nor the headers is there a word that gives it away.
	big := strings.Repeat("x", 100<<10)
	for _, p := range []struct {
		path string
		want int
	}{{"/v1/app/signal", http.StatusRequestEntityTooLarge}, {"/v1/app/enrol", http.StatusRequestEntityTooLarge}, {"/", http.StatusMethodNotAllowed}} {
		resp, err := http.Post(app+p.path, "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != p.want {
			t.Errorf("app listener POST %s with 100 KB = %d, want %d", p.path, resp.StatusCode, p.want)
		}
		if what, w := revealingWord(resp); w != "" {
			t.Errorf("app listener POST %s with 100 KB: %s hold %q", p.path, what, w)
		}
	}
	code, appPage := getURL(t, app+"/")
	_, dashboard := inst.get(t, "/")
	if code != 200 || !strings.Contains(appPage, "<html") || appPage == dashboard || strings.Contains(appPage, "login-form") {
		t.Errorf("app listener / = %d, want the app's page, not the dashboard's", code)
	}
	// The dashboard's listener has none of the app's files.
	for _, p := range []string{"/manifest.webmanifest", "/a/c.js", "/a/i1-192.png"} {
		if code, _ := inst.get(t, p); code != http.StatusNotFound {
			t.Errorf("staff listener %s = %d, want 404", p, code)
		}
	}
}

// revealingWord reads and closes resp and names a word of the disguise's
// list in its headers or body: which of the two, and the word ("" when
// both are clean).
func revealingWord(resp *http.Response) (what, word string) {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var head strings.Builder
	resp.Header.Write(&head)
	if w, ok := disguise.Clean([]byte(head.String())); !ok {
		return "headers", w
	}
	if w, ok := disguise.Clean(b); !ok {
		return "body", w
	}
	return "", ""
}

// b64 encodes a key as the settings take it.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// keyEnv is the settings every test deployment on a real Redis needs:
// fresh keys, and (no phone rings in tests) the reason there is no 24/7
// fallback, without which serve refuses to start.
func keyEnv() map[string]string {
	return map[string]string{
		"WAYMARK_KEYS":               seal.FormatKey("k1", seal.NewRandomKey()),
		"WAYMARK_INDEX_KEY":          b64(seal.NewRandomKey()),
		"WAYMARK_PIN_KEY":            b64(seal.NewRandomKey()),
		"WAYMARK_NO_FALLBACK_REASON": "test deployment: no phone rings",
	}
}

// TestServeRefusesWithoutFallback: with a real Redis, serve and config
// check refuse to start without a fallback phone or a reason for none;
// the reason is logged at start.
func TestServeRefusesWithoutFallback(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	delete(env, "WAYMARK_NO_FALLBACK_REASON")
	getenv := func(k string) string { return env[k] }
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"config", "check"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"waymark"}, args...), getenv, &stdout, &stderr)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error()+stderr.String(), "WAYMARK_FALLBACK_PHONE: required with a real Redis") {
			t.Errorf("%v without a fallback: %v\n%s", args, err, stderr.String())
		}
	}
	inst := startWaymark(t, map[string]string{
		"WAYMARK_REDIS_URL": r.URL(), "WAYMARK_KEYS": env["WAYMARK_KEYS"], "WAYMARK_INDEX_KEY": env["WAYMARK_INDEX_KEY"],
		"WAYMARK_PIN_KEY": env["WAYMARK_PIN_KEY"],
	}, "serve", "--addr", "127.0.0.1:0", "--no-fallback-reason", "pilot: the duty manager's phone is on the rota")
	if !strings.Contains(inst.stderr.String(), "the duty manager's phone is on the rota") {
		t.Errorf("the reason is not in the start-up log:\n%s", inst.stderr)
	}
}

// TestReadinessFollowsRedis: /readyz turns 503 within seconds of Redis
// stopping and 200 again once it is back, without restarting Waymark.
func TestReadinessFollowsRedis(t *testing.T) {
	r := testenv.StartRedis(t, testenv.RedisOptions{AOF: true})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	inst := startWaymark(t, env, "serve", "--addr", "127.0.0.1:0")
	if code, _ := inst.get(t, "/readyz"); code != 200 {
		t.Fatalf("readyz = %d with redis up", code)
	}
	r.Kill()
	start := time.Now()
	if code, _ := inst.get(t, "/readyz"); code != 503 {
		t.Fatalf("readyz = %d with redis down, want 503", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("readyz took %v to fail", d)
	}
	if code, _ := inst.get(t, "/healthz"); code != 200 {
		t.Errorf("healthz = %d with redis down, want 200", code)
	}
	r.Start()
	if code, _ := inst.get(t, "/readyz"); code != 200 {
		t.Errorf("readyz = %d after redis is back, want 200", code)
	}
}

func TestBadConfigurationExits2(t *testing.T) {
	env := map[string]string{
		"WAYMARK_PUBLIC_URL": "ftp://example.org",
		"WAYMARK_REDIS_URL":  "redis://127.0.0.1:1",
		"WAYMARK_LOG_LEVEL":  "loud",
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"waymark", "serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("run = %v, want exit status 2", err)
	}
	for _, want := range []string{"WAYMARK_PUBLIC_URL:", "WAYMARK_LOG_LEVEL:", "WAYMARK_KEYS:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestEmbeddedRefusesPublicAddressWithoutEphemeral(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"waymark", "serve", "--addr", "0.0.0.0:0"}, func(string) string { return "" }, &stdout, &stderr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "--ephemeral") {
		t.Fatalf("run = %v, want exit 2 mentioning --ephemeral", err)
	}
}

func TestDemoRefusesConfiguredRedis(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = "redis://127.0.0.1:1/0"
	err := run(context.Background(), []string{"waymark", "demo"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "embedded") {
		t.Fatalf("demo with a configured redis = %v, want a refusal", err)
	}
}

func TestKeysNewLoads(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"waymark", "keys", "new"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WAYMARK_REDIS_URL": "redis://127.0.0.1:1/0"}
	for line := range strings.SplitSeq(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "WAYMARK_") {
			env[k] = v
		}
	}
	if len(env) != 4 {
		t.Fatalf("keys new printed %d settings, want 3:\n%s", len(env)-1, out.String())
	}
	env["WAYMARK_FALLBACK_PHONE"] = "+447700900999" // required with a real Redis
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"waymark", "config", "check"}, func(k string) string { return env[k] }, &stdout, io.Discard); err != nil {
		t.Fatalf("config check with fresh keys: %v", err)
	}
	for _, v := range env {
		if len(v) > 30 && strings.Contains(stdout.String(), v) {
			t.Errorf("config check printed a secret")
		}
	}
}

func TestHelpShowsConfiguration(t *testing.T) {
	for _, args := range [][]string{{"waymark", "-h"}, {"waymark", "serve", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, want := range []string{"WAYMARK_REDIS_URL", "WAYMARK_PUBLIC_URL", "WAYMARK_KEYS", "--addr"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v output lacks %s", args, want)
			}
		}
	}
}

// serveAddrs are the base URLs a `waymark serve` prints: the public
// listener's, the operator listener's and, with --app-addr, the app's.
type serveAddrs struct{ base, metrics, app string }

// scanAddrs reads serve's address lines into a, sending it on found once
// the public listener's line (printed last) arrives.
func scanAddrs(r io.Reader, found chan<- serveAddrs) {
	var a serveAddrs
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if after, ok := strings.CutPrefix(line, "metrics listening on "); ok {
			a.metrics = after
		} else if after, ok := strings.CutPrefix(line, "app listening on "); ok {
			a.app = after
		} else if after, ok := strings.CutPrefix(line, "listening on "); ok {
			a.base = after
			found <- a
		}
	}
}

// startServeChild starts cmd, a `waymark serve` child process that dies with
// the test binary, collects its stderr, registers cleanup, and returns its
// base URL once it prints its listening line. done is closed when it exits.
func startServeChild(t *testing.T, what string, cmd *exec.Cmd, stderr *syncBuffer, done chan struct{}, cleanup func()) string {
	return startServeChildAddrs(t, what, cmd, stderr, done, cleanup).base
}

// startServeChildAddrs is startServeChild returning every listener's URL.
func startServeChildAddrs(t *testing.T, what string, cmd *exec.Cmd, stderr *syncBuffer, done chan struct{}, cleanup func()) serveAddrs {
	t.Helper()
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan serveAddrs, 1)
	go func() {
		scanAddrs(stdout, lines)
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(cleanup)
	select {
	case a := <-lines:
		return a
	case <-done:
		t.Fatalf("%s exited before listening\n%s", what, stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not print its address\n%s", what, stderr)
	}
	return serveAddrs{}
}

// TestMetricsPassPromtool: what the operator listener serves passes
// Prometheus's own checker (promtool check metrics: format and naming
// conventions), after an alert has moved the counters.
func TestMetricsPassPromtool(t *testing.T) {
	promtool := testenv.RequireBinary(t, "promtool", "apt-get install prometheus")
	inst := startWaymark(t, map[string]string{}, "serve", "--addr", "127.0.0.1:0")
	if code, _ := inst.get(t, "/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	code, body := getURL(t, inst.addrs.metrics+"/metrics")
	if code != 200 || !strings.Contains(body, "waymark_alerts_unclaimed ") || !strings.Contains(body, "waymark_redis_errors_total") {
		t.Fatalf("metrics = %d, lacking the queue and Redis metrics:\n%.2000s", code, body)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestServeReadsOnlyWhatHelpShows: every setting serve looks up in its
// environment, from start to shutdown, is one that `serve -h` lists, so
// no knob hides from the operator (the bench's own live in `waymark
// bench serve`).
func TestServeReadsOnlyWhatHelpShows(t *testing.T) {
	var help bytes.Buffer
	if err := run(context.Background(), []string{"waymark", "serve", "-h"}, func(string) string { return "" }, &help, io.Discard); err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, w := range strings.FieldsFunc(help.String(), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) {
		shown[w] = true
	}

	var mu sync.Mutex
	read := map[string]bool{}
	getenv := func(k string) string {
		mu.Lock()
		read[k] = true
		mu.Unlock()
		return ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"waymark", "serve", "--addr", "127.0.0.1:0"}, getenv, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	lines := make(chan serveAddrs, 1)
	go func() {
		scanAddrs(pr, lines)
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-lines:
		if code, _ := getURL(t, a.base+"/readyz"); code != 200 {
			t.Errorf("readyz = %d", code)
		}
	case err := <-done:
		t.Fatalf("serve exited before listening: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not print its address")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(read) == 0 {
		t.Fatal("serve read no settings at all; the test does not see its getenv")
	}
	for k := range read {
		if !shown[k] {
			t.Errorf("serve reads %s, which serve -h does not show", k)
		}
	}
}
