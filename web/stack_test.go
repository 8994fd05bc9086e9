package web

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/internal/testenv"
	"waymark/staff"
)

// The browser tests drive the real thing: the waymark binary, built from
// this tree, serving on loopback against a private redis-server, seeded
// only through its CLI and HTTP API. Each browser reaches it through a
// proxy of its own (cutProxy), so a test can cut one person's network
// without touching anyone else's.

// stack is one running Waymark and what the tests seeded into it.
type stack struct {
	bin    string
	env    []string
	direct string // http://127.0.0.1:PORT of the server itself
	app    string // http://127.0.0.1:PORT of its app listener
	users  map[string]*account
	stderr *lockedBuffer
	proc   *os.Process // the waymark serve this test started (for SIGSTOP)
}

// account is a staff account the tests created, with what it takes to
// sign in as it.
type account struct {
	Username    string
	DisplayName string
	Password    string
	Secret      string
	// lastStep is the last TOTP time step used: codes are single use, so
	// each sign-in takes a later step (the server accepts one either side
	// of now).
	lastStep int64
}

// Canaries: what must never reach a responder's page or any response
// the dashboard receives.
const (
	canaryPhone      = "+447700900123"
	canaryCodeWord   = "bluebell"
	canaryDuressWord = "marigold"
	canaryPIN        = "48263917"
	canaryDuressPIN  = "93715284"
	canaryNotes      = "spare key under the heron statue"
	testPassword     = "correct horse battery staple"
)

// canaries lists every form in which the secrets could show.
func canaries() []string {
	return []string{
		canaryPhone, "7700900123", "07700 900123", "07700900123", "7700 900123",
		canaryCodeWord, canaryDuressWord, canaryPIN, canaryDuressPIN, canaryNotes,
	}
}

// moduleRoot finds the directory holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// buildWaymark compiles cmd/waymark into a temporary directory. The build
// cache makes every build after the first a link step.
func buildWaymark(t testing.TB) string {
	t.Helper()
	gobin, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "waymark")
	cmd := exec.Command(gobin, "build", "-o", out, "./cmd/waymark")
	cmd.Dir = moduleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/waymark: %v\n%s", err, b)
	}
	return out
}

// childEnv is the environment of every waymark process: the test's own,
// without any WAYMARK_ setting it may carry, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAYMARK_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// newStack starts redis-server and waymark serve, and makes the team
// "north". origins are the extra dashboard origins to allow (the proxies').
func newStack(t *testing.T, origins ...string) *stack {
	t.Helper()
	return newStackEnv(t, nil, origins...)
}

// newStackEnv is newStack with extra WAYMARK_ settings for serve. Every
// stack has VAPID keys (Web Push on), as a deployment would.
func newStackEnv(t *testing.T, extra []string, origins ...string) *stack {
	t.Helper()
	redis := testenv.StartRedis(t, testenv.RedisOptions{})
	s := &stack{bin: buildWaymark(t), users: map[string]*account{}, stderr: &lockedBuffer{}}

	keys := s.admin(t, nil, "keys", "new") + "\n" + s.admin(t, nil, "keys", "vapid")
	s.env = childEnv("WAYMARK_REDIS_URL="+redis.URL(), "WAYMARK_TENANT=webtest", "WAYMARK_INSECURE_COOKIES=true",
		"WAYMARK_ALLOWED_ORIGINS="+strings.Join(origins, ","), "WAYMARK_LOG_LEVEL=warn",
		"WAYMARK_VAPID_SUBJECT=mailto:ops@waymark.example", "WAYMARK_NO_FALLBACK_REASON=browser tests: no phone rings")
	for _, line := range strings.Split(keys, "\n") {
		if strings.HasPrefix(line, "WAYMARK_") {
			s.env = append(s.env, strings.TrimSpace(line))
		}
	}
	s.env = append(s.env, extra...)
	s.admin(t, nil, "team", "add", "--id", "north", "--name", "North Team")
	s.serve(t)
	return s
}

// admin runs a waymark subcommand to completion and returns its stdout.
func (s *stack) admin(t *testing.T, stdin io.Reader, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	if s.env == nil {
		cmd.Env = childEnv()
	}
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("waymark %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// serve starts waymark serve and waits for its "listening on" line.
func (s *stack) serve(t *testing.T) {
	t.Helper()
	cmd := exec.Command(s.bin, "serve", "--addr", "127.0.0.1:0", "--app-addr", "127.0.0.1:0")
	cmd.Env = s.env
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start waymark serve: %v", err)
	}
	s.proc = cmd.Process
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
		if t.Failed() {
			t.Logf("waymark serve stderr (tail):\n%s", s.stderr.Tail(8000))
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "app listening on "); ok {
				s.app = u // printed before the public listener's line
			} else if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case addr <- u:
				default:
				}
			}
		}
	}()
	select {
	case s.direct = <-addr:
	case <-done:
		t.Fatalf("waymark serve exited before listening:\n%s", s.stderr.Tail(8000))
	case <-time.After(60 * time.Second):
		t.Fatalf("waymark serve did not start within 60 s:\n%s", s.stderr.Tail(8000))
	}
}

// addStaff creates an account through `waymark staff add`.
func (s *stack) addStaff(t *testing.T, username, display, role string) *account {
	t.Helper()
	out := s.admin(t, strings.NewReader(testPassword+"\n"), "staff", "add", "--username", username,
		"--display-name", display, "--role", role, "--team", "north", "--password-stdin")
	a := &account{Username: username, DisplayName: display, Password: testPassword}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "totp_secret="); ok {
			a.Secret = v
		}
	}
	if a.Secret == "" {
		t.Fatalf("staff add %s printed no totp_secret:\n%s", username, out)
	}
	s.users[username] = a
	return a
}

// code returns a TOTP code for a step not used before by a, within the
// one-step window either side of now the server accepts.
func (a *account) code(t testing.TB) string {
	t.Helper()
	// The server takes a code within one step of its clock and each step
	// once per account. The current step, or the next one once it is
	// used, stays good for at least 30 s of typing on a busy machine;
	// the previous step could expire a moment after it was typed.
	for {
		cur := time.Now().Unix() / 30
		step := max(cur, a.lastStep+1)
		if step <= cur+1 {
			a.lastStep = step
			c, err := staff.TOTPCode(staff.Secret(a.Secret), time.Unix(step*30+1, 0))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		time.Sleep(time.Until(time.Unix((cur+1)*30, 0)) + 10*time.Millisecond)
	}
}

// client signs a in through the API and returns an HTTP client holding
// the session cookie.
func (s *stack) client(t *testing.T, a *account) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	st, body := s.call(t, c, "POST", "/v1/auth/login", map[string]string{"username": a.Username, "password": a.Password, "totp": a.code(t)})
	if st != http.StatusOK {
		t.Fatalf("login %s: %d %s", a.Username, st, body)
	}
	return c
}

// call sends a JSON request to the server directly; hdr is name, value
// pairs.
func (s *stack) call(t testing.TB, c *http.Client, method, path string, body any, hdr ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.direct+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// survivor is a seeded case with an enrolled app device.
type survivor struct {
	CaseID string
	Token  string
	Alias  string
}

// seedCase enrols a high-risk case (MARAC-referred last month, two
// children, an Urdu interpreter, text-only contact at any hour) through
// the caseworker API, and enrols its app.
func (s *stack) seedCase(t *testing.T, cw *http.Client, alias, phone string) survivor {
	t.Helper()
	month := time.Now().AddDate(0, -1, 0).Format(time.DateOnly)
	st, body := s.call(t, cw, "POST", "/v1/cases", map[string]any{
		"phone": phone, "alias": alias, "team": "north", "risk_level": "high", "risk_date": month,
		"marac":         map[string]any{"referred": true, "date": month},
		"communication": map[string]any{"language": "ur", "needs": []string{"interpreter"}, "interpreter_gender": "female"},
		"children":      map[string]any{"count": 2, "age_bands": []string{"0-4", "5-10"}},
		"code_words":    []string{canaryCodeWord}, "duress_words": []string{canaryDuressWord},
		"pin": canaryPIN, "duress_pin": canaryDuressPIN, "notes": canaryNotes,
		"safe_contact": map[string]any{
			"windows":      []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "from": "00:00", "to": "24:00"}},
			"channels":     map[string]any{"call": false, "sms": true, "voicemail": false},
			"opening_line": "Hi, it's Ruth from the library about your reservation",
		},
		"response_plan": "Text first using the opening line. No reply within 10 minutes: police welfare check, then duty IDVA follows up.",
	})
	if st != http.StatusCreated {
		t.Fatalf("create case: %d %s", st, body)
	}
	var c struct{ ID string }
	json.Unmarshal(body, &c)
	st, body = s.call(t, cw, "POST", "/v1/cases/"+c.ID+"/enrolments", map[string]any{
		"tech_safety_check": map[string]any{"others_have_access": false, "notes": "checked together"},
	})
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("enrolment: %d %s", st, body)
	}
	var e struct{ Code string }
	json.Unmarshal(body, &e)
	st, body = s.call(t, http.DefaultClient, "POST", "/v1/app/enrol", map[string]string{"code": e.Code})
	if st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("app enrol: %d %s", st, body)
	}
	var d struct{ Token string }
	json.Unmarshal(body, &d)
	return survivor{CaseID: c.ID, Token: d.Token, Alias: alias}
}

// signal sends one app signal and wants the one answer the app ever gets.
func (s *stack) signal(t testing.TB, sv survivor, body map[string]any) {
	t.Helper()
	b := make([]byte, 16)
	rand.Read(b)
	body["request_id"] = base64.RawURLEncoding.EncodeToString(b)
	st, out := s.call(t, http.DefaultClient, "POST", "/v1/app/signal", body, "Authorization", "Bearer "+sv.Token)
	if st != http.StatusAccepted {
		t.Fatalf("app signal %v: %d %s", body["kind"], st, out)
	}
}

// panicAt raises (or joins) a panic with a location fix.
func (s *stack) panicAt(t testing.TB, sv survivor, lat, lon, acc float64) {
	t.Helper()
	s.signal(t, sv, map[string]any{"kind": "panic", "location": map[string]any{"lat": lat, "lon": lon, "accuracy_m": acc}})
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Tail is the last n bytes written.
func (l *lockedBuffer) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// cutProxy forwards TCP connections to the server. Cut closes every
// connection it carries and refuses new ones, as a dropped mobile network
// would; Restore lets them through again. Stall keeps every connection
// open but passes no byte either way, as a network that drops packets
// without closing anything (only missing heartbeats tell the page);
// Resume lets bytes flow again on the same connections. Deafen lets
// requests through but throws the answers away, as a network that drops
// mid-request after the server has the request.
type cutProxy struct {
	l       net.Listener
	backend string

	mu      sync.Mutex
	down    bool
	stalled bool
	deaf    bool
	wake    *sync.Cond
	conns   map[net.Conn]struct{}
}

func newCutProxy(t *testing.T) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, conns: map[net.Conn]struct{}{}}
	p.wake = sync.NewCond(&p.mu)
	t.Cleanup(func() {
		l.Close()
		p.Resume()
		p.Cut()
	})
	return p
}

// URL is the origin browsers use to reach the server through p.
func (p *cutProxy) URL() string { return "http://" + p.l.Addr().String() }

// Start forwards to backend (host:port) until the test ends.
func (p *cutProxy) Start(backend string) {
	p.backend = backend
	go func() {
		for {
			c, err := p.l.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *cutProxy) forward(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	b, err := net.DialTimeout("tcp", p.backend, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		b.Close()
		return
	}
	p.conns[c], p.conns[b] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(b, c, false); b.Close() })
	wg.Go(func() { p.pipe(c, b, true); c.Close() })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, b)
	p.mu.Unlock()
}

// pipe copies src to dst, holding each chunk while the proxy is stalled
// and dropping the server's answers while it is deaf.
func (p *cutProxy) pipe(dst, src net.Conn, answers bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.stalled {
				p.wake.Wait()
			}
			drop := answers && p.deaf
			p.mu.Unlock()
			if drop {
				continue
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Stall stops every byte, leaving the connections open.
func (p *cutProxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// Resume lets bytes through again.
func (p *cutProxy) Resume() {
	p.mu.Lock()
	p.stalled = false
	p.wake.Broadcast()
	p.mu.Unlock()
}

// Deafen throws away every byte the server sends from now on, until Cut.
func (p *cutProxy) Deafen() {
	p.mu.Lock()
	p.deaf = true
	p.mu.Unlock()
}

// Cut drops every connection and refuses new ones.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore accepts connections again, answers and all.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.deaf = false, false
}

// hostPort is the host:port of an http:// URL.
func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }
