package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/push"
	"waymark/staff"
)

// TestInstancesBehindNginx runs three `waymark serve` processes (the real
// binary, built once) on one Redis behind nginx from Debian's package, and
// proves an alert raised through any of them reaches responders connected
// to all of them: responders sign in and open their live sockets through
// nginx until every instance holds at least one socket (each instance's
// /metrics says how many it holds), then an alert is raised directly
// through each instance and one through nginx, and every socket must see
// all four. Finally one instance stops and intake through nginx carries on.
func TestInstancesBehindNginx(t *testing.T) {
	bin := buildWaymark(t)
	r := testenv.StartRedis(t, testenv.RedisOptions{AOF: true})
	lbPort := testenv.FreePort(t)
	lb := "http://127.0.0.1:" + strconv.Itoa(lbPort)
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_INSECURE_COOKIES"] = "true"
	// The dashboard's origin is the balancer's, not any instance's.
	env["WAYMARK_ALLOWED_ORIGINS"] = lb
	env["WAYMARK_LOG_LEVEL"] = "warn"

	if _, errOut, err := staffRun(t, env, "", "team", "add", "--id", "north", "--name", "North"); err != nil {
		t.Fatalf("team add: %v\n%s", err, errOut)
	}
	names := []string{"rita", "sam", "ali"}
	secrets := map[string]staff.Secret{}
	for i, name := range names {
		roles := "responder"
		if i == 0 {
			roles = "responder,caseworker"
		}
		out, errOut, err := staffRun(t, env, "a long enough password\n", "staff", "add", "--username", name,
			"--role", roles, "--team", "north", "--password-stdin")
		if err != nil {
			t.Fatalf("staff add %s: %v\n%s", name, err, errOut)
		}
		m := totpLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no totp secret for %s:\n%s", name, out)
		}
		secrets[name] = staff.Secret(m[1])
	}

	procs := make([]*waymarkProc, 3)
	upstreams := make([]string, 3)
	for i := range procs {
		procs[i] = startWaymarkProc(t, bin, env)
		upstreams[i] = strings.TrimPrefix(procs[i].base, "http://")
	}
	ng := testenv.StartNginx(t, testenv.NginxOptions{Port: lbPort, Upstreams: upstreams})

	// Everyone signs in through nginx.
	clients := map[string]*http.Client{}
	for _, name := range names {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		st, body := call(t, c, "POST", lb+"/v1/auth/login", map[string]string{
			"username": name, "password": "a long enough password", "totp": mustCode(t, secrets[name])})
		if st != http.StatusOK {
			t.Fatalf("login %s through nginx = %d %s", name, st, body)
		}
		clients[name] = c
	}

	// /metrics is not reachable through the balancer (docs/operations.md
	// proxies location / to the public listeners): its counters move for
	// a duress check-in and a text from an enrolled number (issue 19).
	// Each instance serves it on its own operator listener.
	for i := range 3 {
		code, body := getURL(t, lb+"/metrics")
		if code != http.StatusNotFound || strings.Contains(body, "waymark_") {
			t.Errorf("GET /metrics through nginx (try %d) = %d %.80q, want 404 without metrics", i+1, code, body)
		}
	}
	for i, p := range procs {
		if code, body := getURL(t, p.metrics+"/metrics"); code != http.StatusOK || !strings.Contains(body, "waymark_http_requests_total") {
			t.Errorf("instance %d's operator /metrics = %d, want its metrics", i+1, code)
		}
	}

	// Live sockets through nginx until every instance holds one.
	var socks []*push.Client
	for i := 0; ; i++ {
		held := wsCounts(t, procs)
		if !slices.Contains(held, 0) {
			t.Logf("after %d sockets through nginx, the instances hold %v", len(socks), held)
			break
		}
		if i == 12 {
			t.Fatalf("nginx did not spread %d sockets over the instances: %v", len(socks), held)
		}
		socks = append(socks, lbDial(t, lb, clients[names[i%len(names)]]))
		waitSockets(t, procs, len(socks))
	}

	// Four cases with the app; an alert through each instance and one
	// through nginx.
	tokens := make([]string, 4)
	for i := range tokens {
		tokens[i] = lbEnrol(t, lb, clients["rita"], fmt.Sprintf("07700900%03d", 200+i))
	}
	targets := []string{procs[0].base, procs[1].base, procs[2].base, lb}
	for i, base := range targets {
		lbPanic(t, base, tokens[i])
	}
	var first map[string]bool
	for i, ws := range socks {
		got := raisedAlerts(t, ws, len(targets))
		if first == nil {
			first = got
		} else if !maps.Equal(got, first) {
			t.Errorf("socket %d saw alerts %v, socket 0 saw %v", i, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(first)))
		}
	}
	t.Logf("%d alerts raised through 3 instances and nginx reached all %d sockets on 3 instances", len(first), len(socks))

	// One instance stops: intake through nginx carries on on the others.
	procs[2].stop(t)
	for i := range 3 {
		lbPanic(t, lb, tokens[i])
	}
	// The sockets instance 3 held were closed when it stopped; nginx logs
	// a socket when it closes: an upgrade (101) proxied to that instance.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var upgraded []testenv.NginxLogLine
		for _, l := range ng.AccessLog() {
			if l.Path == "/v1/ws" && l.Upstream == upstreams[2] {
				upgraded = append(upgraded, l)
			}
		}
		if len(upgraded) > 0 {
			if upgraded[0].Status != http.StatusSwitchingProtocols {
				t.Errorf("nginx logged the socket as %+v, want 101", upgraded[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx logged no socket to the stopped instance: %+v", ng.AccessLog())
		}
		<-time.After(20 * time.Millisecond) // nginx writes the line as the socket closes
	}
	// Each instance takes seconds to stop: stop the others together.
	var wg sync.WaitGroup
	for _, p := range procs[:2] {
		wg.Go(func() { p.stop(t) })
	}
	wg.Wait()
}

// raceEnabled reports whether this test binary was built with -race, so
// the binary under test is built the same way (and from the same cache).
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// buildWaymark builds this package's binary into a temporary directory.
func buildWaymark(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "waymark")
	args := []string{"build", "-o", out}
	if raceEnabled() {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool, append(args, ".")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	t.Logf("built the waymark binary in %v", time.Since(start).Round(time.Millisecond))
	return out
}

// waymarkProc is a `waymark serve` child process.
type waymarkProc struct {
	base string
	// metrics is the operator listener's base URL.
	metrics string
	cmd     *exec.Cmd
	stderr  *syncBuffer
	done    chan struct{}
}

// startWaymarkProc starts the binary with env as its whole environment and
// waits for its listening line.
func startWaymarkProc(t *testing.T, bin string, env map[string]string) *waymarkProc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &waymarkProc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	a := startServeChildAddrs(t, "waymark", cmd, p.stderr, p.done, func() { p.stop(t) })
	p.base, p.metrics = a.base, a.metrics
	return p
}

// stop sends SIGTERM (a graceful shutdown) and waits, killing after 20 s.
func (p *waymarkProc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("waymark %s did not stop within 20s of SIGTERM", p.base)
	}
}

// wsCounts reads waymark_ws_connections from each instance's /metrics.
func wsCounts(t *testing.T, procs []*waymarkProc) []int {
	t.Helper()
	out := make([]int, len(procs))
	for i, p := range procs {
		resp, err := http.Get(p.metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "waymark_ws_connections "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				out[i] = int(f)
			}
		}
		resp.Body.Close()
	}
	return out
}

// waitSockets waits, bounded, until the instances together hold n sockets.
func waitSockets(t *testing.T, procs []*waymarkProc, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sum := 0
		for _, c := range wsCounts(t, procs) {
			sum += c
		}
		if sum >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances hold %d sockets, want %d", sum, n)
		}
		<-time.After(20 * time.Millisecond) // polling the instances' metrics
	}
}

// lbDial takes a ticket and opens a live socket, both through the
// balancer, and reads up to ready.
func lbDial(t *testing.T, lb string, c *http.Client) *push.Client {
	t.Helper()
	st, body := call(t, c, "POST", lb+"/v1/auth/ws-ticket", nil)
	if st != http.StatusOK {
		t.Fatalf("ws-ticket through nginx = %d %s", st, body)
	}
	var tk struct{ Ticket string }
	json.Unmarshal(body, &tk)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := push.Dial(ctx, "ws"+strings.TrimPrefix(lb, "http")+"/v1/ws", tk.Ticket, push.ClientOptions{Origin: lb, Receipts: true})
	if err != nil {
		t.Fatalf("websocket through nginx: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	for {
		m, err := ws.Next(ctx)
		if err != nil {
			t.Fatalf("before ready: %v", err)
		}
		if m.Type == push.TypeReady {
			return ws
		}
	}
}

// lbEnrol makes a case of team north with an app device through base and
// returns the device token.
func lbEnrol(t *testing.T, base string, c *http.Client, phone string) string {
	t.Helper()
	st, body := call(t, c, "POST", base+"/v1/cases", map[string]any{
		"phone": phone, "alias": "Test case", "team": "north", "risk_level": "standard",
		"code_words": []string{"bluebell"}, "pin": "4826", "duress_pin": "9371"})
	if st != http.StatusCreated {
		t.Fatalf("create case = %d %s", st, body)
	}
	var cs struct{ ID string }
	json.Unmarshal(body, &cs)
	st, body = call(t, c, "POST", base+"/v1/cases/"+cs.ID+"/enrolments", map[string]any{
		"tech_safety_check": map[string]any{"others_have_access": false, "notes": ""}})
	if st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("enrolment = %d %s", st, body)
	}
	var en struct{ Code string }
	json.Unmarshal(body, &en)
	st, body = call(t, http.DefaultClient, "POST", base+"/v1/app/enrol", map[string]string{"code": en.Code})
	if st != http.StatusOK {
		t.Fatalf("app enrol = %d %s", st, body)
	}
	var dv struct{ Token string }
	json.Unmarshal(body, &dv)
	return dv.Token
}

// lbPanic raises an app panic through base and wants 202.
func lbPanic(t *testing.T, base, token string) {
	t.Helper()
	body := `{"request_id":"` + randid.Token(18) + `","kind":"panic"}`
	req, _ := http.NewRequest("POST", base+"/v1/app/signal", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("app signal through %s = %d %s", base, resp.StatusCode, b)
	}
}

// raisedAlerts reads ws until it has seen n raised alerts (bounded).
func raisedAlerts(t *testing.T, ws *push.Client, n int) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := map[string]bool{}
	for len(got) < n {
		m, err := ws.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d alerts: %v", len(got), n, err)
		}
		if m.Type == push.TypeEvent && m.Event.Type == alert.EventRaised {
			got[m.Event.Alert] = true
		}
	}
	return got
}

// TestServeWebPushSettings: with VAPID keys from `waymark keys vapid` the
// Web Push routes exist (401 without a session); without them they do
// not (404); a public key that is not the private key's stops start-up.
func TestServeWebPushSettings(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"waymark", "keys", "vapid"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WAYMARK_VAPID_SUBJECT": "mailto:duty@example.org"}
	for line := range strings.SplitSeq(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "WAYMARK_VAPID_") {
			env[k] = v
		}
	}
	if len(env) != 3 {
		t.Fatalf("keys vapid printed:\n%s", out.String())
	}
	on := startWaymark(t, env, "serve", "--addr", "127.0.0.1:0")
	if code, _ := on.get(t, "/v1/push/vapid-key"); code != http.StatusUnauthorized {
		t.Errorf("vapid-key with VAPID configured = %d, want 401 without a session", code)
	}
	off := startWaymark(t, map[string]string{}, "serve", "--addr", "127.0.0.1:0")
	if code, _ := off.get(t, "/v1/push/vapid-key"); code != http.StatusNotFound {
		t.Errorf("vapid-key without VAPID = %d, want 404", code)
	}

	other := map[string]string{}
	out.Reset()
	run(context.Background(), []string{"waymark", "keys", "vapid"}, func(string) string { return "" }, &out, io.Discard)
	for line := range strings.SplitSeq(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			other[k] = v
		}
	}
	env["WAYMARK_VAPID_PUBLIC_KEY"] = other["WAYMARK_VAPID_PUBLIC_KEY"]
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"waymark", "serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "WAYMARK_VAPID_") || strings.Contains(err.Error(), env["WAYMARK_VAPID_PRIVATE_KEY"]) {
		t.Errorf("mismatched VAPID keys: %v, want exit 2 naming the setting", err)
	}
}
