package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"waymark/alert"
	"waymark/config"
	"waymark/internal/testenv"
	"waymark/oncall"
	"waymark/push"
	"waymark/sms"
	"waymark/staff"
)

// Fault tests (issue 9): real `waymark serve` processes built from this
// package, a real redis-server with appendonly, a fake Twilio behind a
// recorder, loopback only. Each scenario is a subtest with its own Redis
// and processes; the binary is built once for all of them. Processes are
// stopped by the PID this test started them with, never by name.
//
// The escalation policy of the fault tests is quick: every level pages
// the primary by text, then the secondary, then the duty manager, each
// after a 4-second wait, then phones the fallback.

const faultWait = 4 * time.Second

// faultPolicyFile is a policy file setting every level to level (the
// quick default when empty).
func faultPolicyFile(level string) string {
	steps := `
  ack_timeout: 1m
  steps:
    - {whom: [oncall:primary], how: [sms], wait: 4s}
    - {whom: [oncall:secondary], how: [sms], wait: 4s}
    - {whom: [duty-manager], how: [sms], wait: 4s}
    - {whom: [fallback], how: [voice], wait: 4s}
`
	if level != "" {
		steps = level
	}
	return "high:" + steps + "medium:" + steps + "standard:" + steps
}

const faultRota = `
team: north
timezone: Europe/London
shifts:
  - {tier: primary, staff: prim, days: daily, start: "00:00", end: "24:00"}
  - {tier: secondary, staff: sec, days: daily, start: "00:00", end: "24:00"}
  - {tier: duty-manager, staff: mgr, days: daily, start: "00:00", end: "24:00"}
`

// Phones of the fault tests' people (Ofcom's drama range).
var faultPhones = map[string]string{
	"prim": "+447700900101", "sec": "+447700900102", "mgr": "+447700900103", "fallback": "+447700900199",
}

func faultWho(phone string) string {
	for who, p := range faultPhones {
		if p == phone {
			return who
		}
	}
	return "?" + phone[len(phone)-3:]
}

// twilioCall is one request the recorder passed to the fake Twilio.
type twilioCall struct {
	At   time.Time
	Inst string // which instance sent it
	Kind string // message or call
	To   string // prim, sec, mgr, fallback
}

// twilioRecorder sits between the instances and the fake Twilio: each
// instance's WAYMARK_TWILIO_API_URL is the recorder's URL plus its name,
// so every request is recorded with its time and sender.
type twilioRecorder struct {
	srv   *httptest.Server
	fake  *testenv.FakeTwilio
	mu    sync.Mutex
	calls []twilioCall
}

func newTwilioRecorder(t *testing.T, fake *testenv.FakeTwilio) *twilioRecorder {
	rec := &twilioRecorder{fake: fake}
	target, _ := url.Parse(fake.URL())
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inst, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		form, _ := url.ParseQuery(string(body))
		kind := ""
		switch {
		case strings.HasSuffix(rest, "/Messages.json"):
			kind = "message"
		case strings.HasSuffix(rest, "/Calls.json"):
			kind = "call"
		}
		rec.mu.Lock()
		rec.calls = append(rec.calls, twilioCall{At: time.Now(), Inst: inst, Kind: kind, To: faultWho(form.Get("To"))})
		rec.mu.Unlock()
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+"/"+rest, bytes.NewReader(body))
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, "upstream gone", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(rec.srv.CloseClientConnections)
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *twilioRecorder) all() []twilioCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *twilioRecorder) count(kind, to string, since time.Time) int {
	n := 0
	for _, c := range r.all() {
		if c.Kind == kind && c.To == to && !c.At.Before(since) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or within passes; it waits on a short
// timer between polls of the processes' observable state.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		<-time.After(50 * time.Millisecond)
	}
}

// faultProc is one `waymark serve` child.
type faultProc struct {
	name   string
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	done   chan struct{}
}

func (p *faultProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	// By the PID this test started, never by name.
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
		t.Errorf("signal %v to %s: %v", sig, p.name, err)
	}
}

func (p *faultProc) kill(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	<-p.done
}

// faultEnv is one scenario: Redis, fake Twilio, people, rota and policy.
type faultEnv struct {
	t       *testing.T
	bin     string
	redis   *testenv.Redis
	fake    *testenv.FakeTwilio
	rec     *twilioRecorder
	env     map[string]string
	app     *app // in-process: claims alerts and reads them, as a third party
	ids     map[string]string
	secrets map[string]staff.Secret
	procs   []*faultProc
	sent    atomic.Int64
}

const faultPublicURL = "http://127.0.0.1:9"

func newFaultEnv(t *testing.T, bin, policy string) *faultEnv {
	t.Helper()
	r := testenv.StartRedis(t, testenv.RedisOptions{AOF: true})
	fake := testenv.StartTwilio(t)
	e := &faultEnv{t: t, bin: bin, redis: r, fake: fake, rec: newTwilioRecorder(t, fake),
		ids: map[string]string{}, secrets: map[string]staff.Secret{}}
	env := keyEnv()
	for k, v := range map[string]string{
		"WAYMARK_REDIS_URL":          r.URL(),
		"WAYMARK_INSECURE_COOKIES":   "true",
		"WAYMARK_TWILIO_ACCOUNT_SID": fake.AccountSID,
		"WAYMARK_TWILIO_AUTH_TOKEN":  fake.AuthToken,
		"WAYMARK_TWILIO_FROM":        "+447700900500",
		"WAYMARK_PUBLIC_URL":         faultPublicURL,
		"WAYMARK_SMS_CODE_WORDS":     "bluebell",
		"WAYMARK_TRIAGE_TEAM":        "north",
		"WAYMARK_FALLBACK_PHONE":     faultPhones["fallback"],
		"WAYMARK_FALLBACK_NAME":      "Out of hours line",
		"WAYMARK_CANCEL_WINDOW":      "5s",
		"WAYMARK_LOG_FORMAT":         "text",
	} {
		env[k] = v
	}
	e.env = env
	if _, errOut, err := staffRun(t, env, "", "team", "add", "--id", "north", "--name", "North"); err != nil {
		t.Fatalf("team add: %v\n%s", err, errOut)
	}
	for _, name := range []string{"prim", "sec", "mgr"} {
		out, errOut, err := staffRun(t, env, "a long enough password\n", "staff", "add", "--username", name,
			"--role", "responder", "--team", "north", "--phone", faultPhones[name], "--password-stdin")
		if err != nil {
			t.Fatalf("staff add %s: %v\n%s", name, err, errOut)
		}
		for line := range strings.SplitSeq(out, "\n") {
			if id, ok := strings.CutPrefix(line, "id="); ok {
				e.ids[name] = id
			}
		}
		if m := totpLine.FindStringSubmatch(out); m != nil {
			e.secrets[name] = staff.Secret(m[1])
		}
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if out, errOut, err := staffRun(t, env, "", "rota", "set", "--team", "north", write("rota.yaml", faultRota)); err != nil {
		t.Fatalf("rota set: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := staffRun(t, env, "", "policy", "set", "--team", "north", write("policy.yaml", policy)); err != nil {
		t.Fatalf("policy set: %v\n%s%s", err, out, errOut)
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(context.Background(), cfg, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	e.app = a
	return e
}

// start starts an instance named name.
func (e *faultEnv) start(name string) *faultProc {
	t := e.t
	t.Helper()
	cmd := exec.Command(e.bin, "serve", "--addr", "127.0.0.1:0")
	for k, v := range e.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "WAYMARK_TWILIO_API_URL="+e.rec.srv.URL+"/"+name)
	p := &faultProc{name: name, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.base = startServeChild(t, "instance "+name, cmd, p.stderr, p.done, func() {
		// A stopped process must be continued before it can exit.
		p.signal(t, syscall.SIGCONT)
		p.signal(t, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("instance %s log:\n%s", p.name, lastLines(p.stderr.String(), 60))
		}
	})
	e.procs = append(e.procs, p)
	return p
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// raise texts the code word from a new unknown sender through p, as Twilio
// would, and returns the sender and the HTTP status.
func (e *faultEnv) raise(p *faultProc) (string, int) {
	e.t.Helper()
	n := e.sent.Add(1)
	// Ofcom's drama range has room for 800 senders above the staff's.
	from := fmt.Sprintf("+447700900%03d", 200+n%800)
	form := map[string]string{
		"MessageSid": fmt.Sprintf("SM%032d", n),
		"AccountSid": e.fake.AccountSID, "From": from, "To": "+447700900500", "Body": "bluebell", "NumMedia": "0",
	}
	req, _ := http.NewRequest("POST", p.base+"/sms/inbound", strings.NewReader(sms.EncodeForm(form)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.SignatureHeader, sms.Sign(e.fake.AuthToken, faultPublicURL+"/sms/inbound", form))
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return from, 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return from, resp.StatusCode
}

// openAlerts reads the open alerts with their sealed sender, as a third
// party would.
func (e *faultEnv) openAlerts() []*alert.Alert {
	e.t.Helper()
	ctx := context.Background()
	list, err := e.app.store.Alerts.OpenAlerts(ctx)
	if err != nil {
		e.t.Fatalf("open alerts: %v", err)
	}
	out := make([]*alert.Alert, 0, len(list))
	for _, a := range list {
		full, err := e.app.store.Alerts.Alert(ctx, a.ID)
		if err != nil {
			e.t.Fatalf("alert %s: %v", a.ID, err)
		}
		out = append(out, full)
	}
	return out
}

// steps are the times an alert's escalation steps ran.
func steps(a *alert.Alert) []time.Time {
	var out []time.Time
	for _, en := range a.Timeline {
		if en.Type == alert.EntryEscalated {
			out = append(out, en.At)
		}
	}
	return out
}

// claimAll claims every open alert for prim, in process, and returns the
// time the last claim committed.
func (e *faultEnv) claimAll() time.Time {
	e.t.Helper()
	p := &staff.Principal{StaffID: e.ids["prim"], Username: "prim", DisplayName: "Prim", Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"north"}}
	for _, a := range e.openAlerts() {
		if err := e.app.alerts.Ack(context.Background(), p, a.ID); err != nil {
			e.t.Fatalf("claim %s: %v", a.ID, err)
		}
	}
	return time.Now()
}

// assertNothingAfter fails on any page that reached Twilio after the
// claims (plus the time one request in flight takes to arrive).
func (e *faultEnv) assertNothingAfter(claimed time.Time) {
	e.t.Helper()
	for _, c := range e.rec.all() {
		if c.At.After(claimed.Add(300 * time.Millisecond)) {
			e.t.Errorf("%s to %s sent by %s %s after the claims", c.Kind, c.To, c.Inst, c.At.Sub(claimed).Round(time.Millisecond))
		}
	}
}

// faultBinary builds the waymark binary once into dir.
func faultBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "waymark")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, goTool, "build", "-o", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// TestEscalationFaults runs the fault scenarios against real
// processes. Each is bounded well under a minute.
func TestEscalationFaults(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	bin := faultBinary(t)
	t.Run("sigkill one of three", func(t *testing.T) { faultSIGKILL(t, bin) })
	t.Run("restart every instance", func(t *testing.T) { faultRestartAll(t, bin) })
	t.Run("sigstop past a step", func(t *testing.T) { faultSIGSTOP(t, bin) })
	t.Run("redis killed mid-load", func(t *testing.T) { faultRedisKill(t, bin) })
	t.Run("frozen responder socket", func(t *testing.T) { faultFrozenSocket(t, bin) })
	t.Run("twilio failing", func(t *testing.T) { faultTwilio(t, bin) })
	t.Run("drill through the whole path", func(t *testing.T) { faultDrill(t, bin) })
}

// faultSIGKILL: three instances; one is killed with SIGKILL just as the
// second steps fall due. Every alert still escalates on time (a dead
// instance's claimed steps come back after the 5 s lease), and once
// claimed nothing more is paged by anyone.
func faultSIGKILL(t *testing.T, bin string) {
	e := newFaultEnv(t, bin, faultPolicyFile(""))
	a, b, c := e.start("a"), e.start("b"), e.start("c")
	t0 := time.Now()
	for _, p := range []*faultProc{a, b, c, a, b, c} {
		if _, code := e.raise(p); code != 200 {
			t.Fatalf("raise through %s = %d", p.name, code)
		}
	}
	waitFor(t, 3*time.Second, "six alerts open", func() bool { return len(e.openAlerts()) == 6 })
	<-time.After(time.Until(t0.Add(faultWait + 50*time.Millisecond)))
	b.kill(t)
	killed := time.Now()
	// Steps 1 to 3 of every alert, each on time give or take the lease.
	const slack = 5*time.Second + 2*time.Second
	waitFor(t, 3*faultWait+slack, "every alert at its third step", func() bool {
		for _, al := range e.openAlerts() {
			if len(steps(al)) < 3 {
				return false
			}
		}
		return true
	})
	for _, al := range e.openAlerts() {
		for k, at := range steps(al)[:3] {
			due := al.RaisedAt.Add(time.Duration(k) * faultWait)
			if late := at.Sub(due); late > slack || late < -time.Second {
				t.Errorf("alert %s step %d ran %s after it was due (instance killed %s after the raise)", al.ID, k+1, late.Round(time.Millisecond), killed.Sub(t0).Round(time.Millisecond))
			}
		}
	}
	if n := e.rec.count("message", "prim", t0); n < 6 {
		t.Errorf("%d texts to the primary, want at least 6", n)
	}
	claimed := e.claimAll()
	// Past the next step, the lease and the outbox takeover of the dead
	// instance's pages.
	<-time.After(12 * time.Second)
	e.assertNothingAfter(claimed)
	for _, al := range e.openAlerts() {
		if al.Owner == "" {
			t.Errorf("alert %s lost its claim", al.ID)
		}
	}
}

// faultRestartAll: every instance is killed mid-escalation and new ones
// started: every escalation resumes and reaches the fallback.
func faultRestartAll(t *testing.T, bin string) {
	e := newFaultEnv(t, bin, faultPolicyFile(""))
	a, b := e.start("a"), e.start("b")
	t0 := time.Now()
	for _, p := range []*faultProc{a, b, a} {
		if _, code := e.raise(p); code != 200 {
			t.Fatalf("raise through %s = %d", p.name, code)
		}
	}
	waitFor(t, 5*time.Second, "first step of three alerts", func() bool { return e.rec.count("message", "prim", t0) >= 3 })
	a.kill(t)
	b.kill(t)
	e.start("c")
	e.start("d")
	waitFor(t, 3*faultWait+15*time.Second, "every alert phoned the fallback", func() bool {
		for _, al := range e.openAlerts() {
			if len(steps(al)) < 4 {
				return false
			}
		}
		return e.rec.count("call", "fallback", t0) >= 3
	})
	for _, who := range []string{"sec", "mgr"} {
		if n := e.rec.count("message", who, t0); n < 3 {
			t.Errorf("%d texts to %s after the restart, want 3", n, who)
		}
	}
}

// faultSIGSTOP: the instance whose page is stuck in a hanging Twilio
// request is paused; the other takes the page over and escalation goes
// on; the alerts are claimed; the paused instance resumes and sends
// nothing stale.
func faultSIGSTOP(t *testing.T, bin string) {
	e := newFaultEnv(t, bin, faultPolicyFile(""))
	e.fake.Script(testenv.Reply{Hang: true})
	a, b := e.start("a"), e.start("b")
	procs := map[string]*faultProc{"a": a, "b": b}
	t0 := time.Now()
	if _, code := e.raise(a); code != 200 {
		t.Fatalf("raise = %d", code)
	}
	var first twilioCall
	waitFor(t, 5*time.Second, "the first page reaches Twilio", func() bool {
		all := e.rec.all()
		if len(all) > 0 {
			first = all[0]
		}
		return len(all) > 0
	})
	stalled := procs[first.Inst]
	stalled.signal(t, syscall.SIGSTOP)
	other := "a"
	if first.Inst == "a" {
		other = "b"
	}
	// The other instance takes the stuck page over once it has been idle
	// for the claim time (10 s), and sends it.
	waitFor(t, 20*time.Second, "the page taken over and sent", func() bool {
		for _, c := range e.rec.all() {
			if c.Inst == other && c.To == "prim" {
				return true
			}
		}
		return false
	})
	if steps := steps(e.openAlerts()[0]); len(steps) < 2 {
		t.Errorf("escalation stalled with the paused instance: %d steps after %s", len(steps), time.Since(t0).Round(time.Second))
	}
	claimed := e.claimAll()
	stalled.signal(t, syscall.SIGCONT)
	<-time.After(12 * time.Second)
	e.assertNothingAfter(claimed)
	select {
	case <-stalled.done:
		t.Errorf("the resumed instance exited:\n%s", lastLines(stalled.stderr.String(), 30))
	default:
	}
	if st, err := e.app.store.Outbox.Stats(context.Background()); err != nil || st.Dead != 0 {
		t.Errorf("dead letters after the resume: %+v, %v", st, err)
	}
}

// faultRedisKill: Redis is killed and restarted from its AOF while alerts
// pour in through two instances: every alert that was answered 200 is
// there afterwards.
func faultRedisKill(t *testing.T, bin string) {
	e := newFaultEnv(t, bin, faultPolicyFile(""))
	procs := []*faultProc{e.start("a"), e.start("b")}
	var mu sync.Mutex
	var ok []string
	codes := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Four senders, each one request at a time through alternate
	// instances: about 100 alerts a second while Redis is up.
	for w := range 4 {
		wg.Go(func() {
			tick := time.NewTicker(40 * time.Millisecond)
			defer tick.Stop()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				from, code := e.raise(procs[i%2])
				mu.Lock()
				codes[code]++
				if code == 200 {
					ok = append(ok, from)
				}
				mu.Unlock()
			}
		})
	}
	<-time.After(1500 * time.Millisecond)
	e.redis.Kill()
	<-time.After(1500 * time.Millisecond)
	e.redis.Start()
	<-time.After(2 * time.Second)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("answers: %v", codes)
	if codes[200] == 0 || codes[503]+codes[0] == 0 {
		t.Errorf("answers %v: want some 200s and some refusals while Redis was down", codes)
	}
	for k := range codes {
		if k != 200 && k != 503 && k != 0 {
			t.Errorf("%d answers with status %d", codes[k], k)
		}
	}
	have := map[string]bool{}
	open := e.openAlerts()
	for _, al := range open {
		have[al.Sender.Reveal()] = true
	}
	lost := 0
	for _, from := range ok {
		if !have[from] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d alerts answered 200 are gone after Redis restarted from its AOF", lost, len(ok))
	}
}

// faultFrozenSocket: the primary's dashboard is open and on duty but its
// client stops (TCP open, nothing read, no receipts): the secondary is
// paged within 5 s of the receipt deadline.
func faultFrozenSocket(t *testing.T, bin string) {
	e := newFaultEnv(t, bin, faultPolicyFile(`
  steps:
    - {whom: [oncall:primary], how: [dashboard], wait: 30s}
    - {whom: [oncall:secondary], how: [sms], wait: 30s}
    - {whom: [fallback], how: [voice], wait: 30s}
`))
	p := e.start("a")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	st, body := call(t, c, "POST", p.base+"/v1/auth/login", map[string]string{
		"username": "prim", "password": "a long enough password", "totp": mustCode(t, e.secrets["prim"])})
	if st != 200 {
		t.Fatalf("login = %d %s", st, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := push.Dial(ctx, wsURL(&instance{base: p.base}), ticket(t, &instance{base: p.base}, c), push.ClientOptions{Origin: p.base, Duty: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for {
		m, err := ws.Next(ctx)
		if err != nil {
			t.Fatalf("before ready: %v", err)
		}
		if m.Type == push.TypeReady {
			break
		}
	}
	// From here the client reads nothing and confirms nothing: frozen.
	waitFor(t, 5*time.Second, "the primary shows as on duty", func() bool {
		on, err := presence{store: e.app.store.Hub}.OnDashboard(context.Background(), "north")
		return err == nil && on[e.ids["prim"]]
	})
	t0 := time.Now()
	if _, code := e.raise(p); code != 200 {
		t.Fatalf("raise = %d", code)
	}
	deadline := t0.Add(alert.ReceiptWait + time.Second) // receipt wait plus one tick
	waitFor(t, alert.ReceiptWait+time.Second+8*time.Second, "the secondary paged", func() bool {
		return e.rec.count("message", "sec", t0) > 0
	})
	var at time.Time
	for _, cl := range e.rec.all() {
		if cl.To == "sec" {
			at = cl.At
			break
		}
	}
	if late := at.Sub(deadline); late > 5*time.Second {
		t.Errorf("secondary paged %s after the receipt deadline, want within 5 s", late.Round(time.Millisecond))
	}
	if at.Before(t0.Add(alert.ReceiptWait)) {
		t.Errorf("secondary paged %s after the raise: before the primary's receipt wait ended", at.Sub(t0))
	}
	t.Logf("secondary paged %s after the raise", at.Sub(t0).Round(time.Millisecond))
}

// faultTwilio: Twilio answers 500 and 429 and then hangs: the text is
// retried within its budget, dead-lettered when that runs out, and the
// escalation carries on through the next channel (a call); a Twilio that
// recovers after a 500 and a 429 gets the text through on a retry.
func faultTwilio(t *testing.T, bin string) {
	policy := faultPolicyFile(`
  steps:
    - {whom: [oncall:primary], how: [sms, voice], wait: 30s}
    - {whom: [fallback], how: [voice], wait: 30s}
`)
	t.Run("recovers", func(t *testing.T) {
		e := newFaultEnv(t, bin, policy)
		e.fake.Script(testenv.Reply{Status: 500}, testenv.Reply{Status: 429, Code: testenv.TwilioTooMany})
		p := e.start("a")
		t0 := time.Now()
		if _, code := e.raise(p); code != 200 {
			t.Fatalf("raise = %d", code)
		}
		waitFor(t, 10*time.Second, "the text through on a retry", func() bool {
			for _, r := range e.fake.Requests() {
				if r.Kind == "message" && r.Answered == 201 {
					return true
				}
			}
			return false
		})
		if n := e.rec.count("message", "prim", t0); n != 3 {
			t.Errorf("%d attempts, want 3 (500, 429, then accepted)", n)
		}
		if n := e.rec.count("call", "prim", t0); n != 0 {
			t.Errorf("%d calls although the text went through", n)
		}
	})
	t.Run("keeps failing", func(t *testing.T) {
		e := newFaultEnv(t, bin, policy)
		e.fake.Script(testenv.Reply{Status: 500}, testenv.Reply{Status: 429, Code: testenv.TwilioTooMany}, testenv.Reply{Hang: true})
		p := e.start("a")
		t0 := time.Now()
		if _, code := e.raise(p); code != 200 {
			t.Fatalf("raise = %d", code)
		}
		waitFor(t, 20*time.Second, "the primary phoned instead", func() bool { return e.rec.count("call", "prim", t0) > 0 })
		texts := e.rec.count("message", "prim", t0)
		if texts < 3 {
			t.Errorf("%d text attempts, want at least 3 (500, 429, timeout)", texts)
		}
		var called time.Time
		for _, c := range e.rec.all() {
			if c.Kind == "call" && c.To == "prim" {
				called = c.At
			}
		}
		if d := called.Sub(t0); d > 12*time.Second {
			t.Errorf("call %s after the raise, want within the text's 8 s budget and a tick", d.Round(time.Millisecond))
		}
		st, err := e.app.store.Outbox.Stats(context.Background())
		if err != nil || st.Dead != 1 {
			t.Errorf("dead letters %+v, %v; want the text", st, err)
		}
		dead, _ := e.app.store.Outbox.DeadPages(context.Background(), 5)
		if len(dead) != 1 || dead[0].Page.Channel != oncall.ChannelSMS {
			t.Errorf("dead letter %+v", dead)
		}
	})
}
