package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/push"
	"waymark/seal"
	"waymark/staff"
	"waymark/store"
)

// benchFlags are waymark bench's own flags.
type benchFlags struct {
	responders int
	teams      int
	rate       float64
	duration   time.Duration
	floor      floorFlag
	ramp       bool
	rampRates  string
	rampStep   time.Duration
	rampLimit  time.Duration
	target     string
	targetPID  int
	conns      int
	settle     time.Duration
	cpuprofile string
	serverProf string
}

func (b *benchFlags) define(fs *flag.FlagSet) {
	fs.IntVar(&b.responders, "responders", 1, "responders connected over WebSocket, receipts on")
	fs.IntVar(&b.teams, "teams", 1, "teams the responders and the alerts are spread over")
	fs.Float64Var(&b.rate, "rate", 200, "app alerts per second, open loop (0: connect and measure idle memory only)")
	fs.DurationVar(&b.duration, "duration", 20*time.Second, "how long to raise alerts")
	fs.Var(&b.floor, "floor", "also run floors through the same client and report them beside: --floor a trivial hub that stores nothing; --floor durable that one and a hub that appends each alert to the same Redis with one XADD before answering and delivers from that stream")
	fs.BoolVar(&b.ramp, "ramp", false, "raise the rate step by step; report the highest with p99 within --ramp-limit, no error, no loss")
	fs.StringVar(&b.rampRates, "ramp-rates", "500,1000,2000,3000,4000,5000", "rates tried by --ramp, in order")
	fs.DurationVar(&b.rampStep, "ramp-step", 3*time.Second, "how long each --ramp rate runs")
	fs.DurationVar(&b.rampLimit, "ramp-limit", 100*time.Millisecond, "p99 a --ramp rate must hold")
	fs.StringVar(&b.target, "target", "", "base URL of a running Waymark on the configured Redis and tenant (default: start `waymark serve` as a child)")
	fs.IntVar(&b.targetPID, "target-pid", 0, "process id of --target, for its CPU and memory")
	fs.IntVar(&b.conns, "conns", 64, "keep-alive connections for the app API")
	fs.DurationVar(&b.settle, "settle", 3*time.Second, "wait after connecting before reading idle memory")
	fs.StringVar(&b.cpuprofile, "cpuprofile", "", "write the bench process's own CPU profile (the load generator) to this file")
	fs.StringVar(&b.serverProf, "server-profile", "", "directory for the child server's CPU profile (cpu.pprof) and allocation profile (allocs.pprof), written when it stops")
}

const benchUsage = "bench [--responders N] [--teams T] [--rate R] [--duration D] [--floor [durable]] [--ramp] [--target URL] [flags]"

// floorFlag is --floor: "" (none), "nothing" (bare --floor: the hub that
// stores nothing) or "durable" (both floors). It is a boolean flag, so
// `--floor durable` is joined into `--floor=durable` first (floorArgs).
type floorFlag string

func (f *floorFlag) String() string   { return string(*f) }
func (f *floorFlag) IsBoolFlag() bool { return true }
func (f *floorFlag) Set(v string) error {
	switch v {
	case "true", "nothing":
		*f = "nothing"
	case "false", "":
		*f = ""
	case "durable":
		*f = "durable"
	default:
		return fmt.Errorf("--floor takes nothing or durable, not %q", v)
	}
	return nil
}

// floorArgs joins "--floor durable" into "--floor=durable".
func floorArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if (args[i] == "--floor" || args[i] == "-floor") && i+1 < len(args) && (args[i+1] == "durable" || args[i+1] == "nothing") {
			out = append(out, args[i]+"="+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// benchCmd is `waymark bench`: it measures app call → responder receipt
// on this machine, against a child `waymark serve` (or --target) on the
// configured Redis, or on a private redis-server with appendfsync always
// when none is configured. Loopback only; every process it starts it
// stops, by PID. The last line of output is one JSON object.
func benchCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 && args[0] == "floor" {
		return benchFloorServer(ctx, c, args[1:])
	}
	args = floorArgs(args)
	var bf benchFlags
	env := benchEnv{base: c.getenv, set: map[string]string{}}
	cleanup, err := env.prepare(ctx, c, args)
	defer cleanup()
	if err != nil {
		return err
	}
	cmd := adminCommand{name: "bench", usage: benchUsage, flags: bf.define}
	a, rest, err := openAdmin(ctx, &cli{getenv: env.get, stdin: c.stdin, stdout: c.stdout, stderr: c.stderr}, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) > 0 {
		return usageError("waymark bench: unexpected argument %q", rest[0])
	}
	if bf.responders < 0 || bf.teams < 1 || bf.rate < 0 || bf.conns < 1 || bf.duration <= 0 {
		return usageError("waymark bench: --responders ≥ 0, --teams ≥ 1, --rate ≥ 0, --conns ≥ 1 and --duration > 0")
	}
	if a.cfg.RedisURL == "" {
		return usageError("waymark bench: needs WAYMARK_REDIS_URL (Sentinel and Cluster are not supported by the bench)")
	}
	rates, err := bf.rates()
	if err != nil {
		return err
	}
	nofile := raiseNoFile()
	fmt.Fprintf(c.stdout, "# open-file limit %s; tenant %s; redis %s\n", nofile, a.cfg.Tenant, env.redisNote)
	if env.fsync[1] > 0 {
		fmt.Fprintf(c.stdout, "# redis's disk: one fsync of a 600-byte append p50 %.2f p99 %.2f ms; with appendfsync always every alert waits for one\n", env.fsync[0], env.fsync[1])
	}

	if bf.cpuprofile != "" {
		f, err := os.Create(bf.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	b := &bench{a: a, c: c, f: bf, env: env, epoch: time.Now()}
	return b.run(ctx, rates)
}

func (b *benchFlags) rates() ([]float64, error) {
	if !b.ramp {
		return []float64{b.rate}, nil
	}
	var out []float64
	for f := range strings.SplitSeq(b.rampRates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, usageError("waymark bench: --ramp-rates: %q is not a positive rate", f)
		}
		out = append(out, r)
	}
	return out, nil
}

// raiseNoFile lifts the open-file soft limit to the hard limit (the
// children inherit it) and says what it is.
func raiseNoFile() string {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return "unknown"
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Sprintf("%d (could not raise: %v)", l.Cur, err)
	}
	return fmt.Sprintf("raised to the hard limit, %d", l.Max)
}

// benchEnv is the bench's configuration: the caller's, plus a private
// Redis, throwaway keys and a fresh tenant where the caller set none.
type benchEnv struct {
	redisPID  int
	base      func(string) string
	set       map[string]string
	redisNote string
	// fsync is the private Redis's disk: one fsync of a small write, p50
	// and p99 in ms (zero when Redis is the caller's).
	fsync [2]float64
}

func (e *benchEnv) get(k string) string {
	if v, ok := e.set[k]; ok {
		return v
	}
	return e.base(k)
}

// prepare starts a private redis-server (appendonly, appendfsync always)
// when no Redis is configured, makes keys when none are, and puts the run
// in a fresh tenant unless --target names a server with its own.
func (e *benchEnv) prepare(ctx context.Context, c *cli, args []string) (func(), error) {
	cleanup := func() {}
	hasFlag := func(name string) bool {
		for _, a := range args {
			a = strings.TrimLeft(a, "-")
			if a == name || strings.HasPrefix(a, name+"=") {
				return true
			}
		}
		return false
	}
	if hasFlag("h") || hasFlag("help") {
		return cleanup, nil
	}
	configured := e.base("WAYMARK_REDIS_URL") != "" || hasFlag("redis-url") ||
		e.base("WAYMARK_REDIS_SENTINEL_MASTER") != "" || e.base("WAYMARK_REDIS_CLUSTER_ADDRS") != "" ||
		hasFlag("redis-sentinel-master") || hasFlag("redis-cluster-addrs")
	if !configured {
		r, err := startBenchRedis(ctx)
		if err != nil {
			return cleanup, err
		}
		cleanup = r.stop
		e.redisPID = r.cmd.Process.Pid
		e.fsync = diskFsync(r.dir)
		e.set["WAYMARK_REDIS_URL"] = r.url
		e.redisNote = "private redis-server (appendonly yes, appendfsync always, unix socket)"
	} else {
		e.redisNote = "configured"
	}
	if hasFlag("target") {
		return cleanup, nil
	}
	if e.base("WAYMARK_KEYS") == "" {
		e.set["WAYMARK_KEYS"] = seal.FormatKey("kbench", seal.NewRandomKey())
		e.set["WAYMARK_INDEX_KEY"] = base64.RawURLEncoding.EncodeToString(seal.NewRandomKey())
		e.set["WAYMARK_PIN_KEY"] = base64.RawURLEncoding.EncodeToString(seal.NewRandomKey())
	}
	if !hasFlag("tenant") {
		e.set["WAYMARK_TENANT"] = "bench-" + randid.New("", 8)
	}
	return cleanup, nil
}

// benchRedis is a redis-server child.
type benchRedis struct {
	cmd *exec.Cmd
	dir string
	url string
}

func startBenchRedis(ctx context.Context) (*benchRedis, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, usageError("waymark bench: no Redis configured and no redis-server on PATH; set WAYMARK_REDIS_URL or install redis-server")
	}
	dir, err := os.MkdirTemp("", "wm-bench-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(path, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("waymark bench: start redis-server: %w", err)
	}
	r := &benchRedis{cmd: cmd, dir: dir, url: "unix://" + sock}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("unix", sock); err == nil {
			conn.Close()
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.stop()
			return nil, errors.New("waymark bench: redis-server did not start within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling for the socket
	}
}

func (r *benchRedis) stop() {
	stopChild(r.cmd, 10*time.Second)
	os.RemoveAll(r.dir)
}

// stopChild stops a process this bench started: SIGTERM, then SIGKILL
// after grace. Only ever the PID we started.
func stopChild(cmd *exec.Cmd, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}

// bench is one run of waymark bench.
type bench struct {
	a     *app
	c     *cli
	f     benchFlags
	env   benchEnv
	epoch time.Time
}

// benchReport is one target's figures.
type benchReport struct {
	Target     string       `json:"target"`
	Responders int          `json:"responders"`
	Teams      int          `json:"teams"`
	IdleKiB    float64      `json:"idle_kib_per_conn,omitempty"`
	Steps      []stepResult `json:"steps,omitempty"`
	MaxRate    float64      `json:"max_rate,omitempty"`
}

func (b *bench) run(ctx context.Context, rates []float64) error {
	wm, err := b.waymark(ctx, rates)
	if err != nil {
		return err
	}
	var fl, dfl *benchReport
	if b.f.floor != "" {
		if fl, err = b.floorRun(ctx, rates, false); err != nil {
			return err
		}
	}
	if b.f.floor == "durable" {
		if dfl, err = b.floorRun(ctx, rates, true); err != nil {
			return err
		}
	}
	return b.summary(wm, fl, dfl)
}

// waymark seeds, starts the child server (unless --target), connects the
// responders, measures idle memory, then runs the load.
func (b *bench) waymark(ctx context.Context, rates []float64) (*benchReport, error) {
	seed, err := b.seed(ctx, rates)
	if err != nil {
		return nil, err
	}
	base, pid := strings.TrimSuffix(b.f.target, "/"), b.f.targetPID
	if base == "" {
		child, err := b.startServer(ctx)
		if err != nil {
			return nil, err
		}
		defer child.stop()
		base, pid = child.base, child.cmd.Process.Pid
	}
	t := seed.target(b, base, pid)
	t.redisPID = b.env.redisPID
	return b.drive(ctx, t, rates)
}

// floorRun measures a trivial hub, in a child process of its own like
// Waymark, with the same client, rates and responders: one that stores
// nothing, or (durable) one that appends each alert to Waymark's Redis
// before answering and delivers from there.
func (b *bench) floorRun(ctx context.Context, rates []float64, durable bool) (*benchReport, error) {
	args, env, name := []string{"bench", "floor"}, []string{"PATH=" + b.c.getenv("PATH")}, "floor"
	if durable {
		args, name = append(args, "durable"), "durable"
		env = append(env, "WAYMARK_REDIS_URL="+b.a.cfg.RedisURL, "WAYMARK_TENANT="+b.a.cfg.Tenant)
		for _, k := range []string{"WAYMARK_REDIS_USERNAME", "WAYMARK_REDIS_PASSWORD", "WAYMARK_REDIS_TLS", "WAYMARK_REDIS_TLS_CA_FILE"} {
			if v := b.env.get(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	child, err := b.startChild(ctx, args, env)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	base := child.base
	var mu sync.Mutex
	ids := map[string]int{}
	t := &benchTarget{
		name:   name,
		origin: base,
		base:   base,
		pid:    child.cmd.Process.Pid,
		wsURL: func(r int) string {
			return "ws" + strings.TrimPrefix(base, "http") + "/ws?team=" + benchTeam(r%b.f.teams)
		},
		ticket: func(context.Context, int) (string, error) { return randid.Token(18), nil },
		raise: func(ctx context.Context, hc *http.Client, i int) error {
			id := "a_" + randid.New("", 20)
			mu.Lock()
			ids[id] = i
			mu.Unlock()
			body := `{"team":"` + benchTeam(i%b.f.teams) + `","alert":"` + id + `"}`
			return post(ctx, hc, base+"/signal", "", body)
		},
		resolve: func(context.Context, []string) (map[string]int, error) {
			mu.Lock()
			defer mu.Unlock()
			out := ids
			ids = map[string]int{}
			return out, nil
		},
	}
	return b.drive(ctx, t, rates)
}

// benchFloorServer is `waymark bench floor [durable]`, a floor's child
// process: a push.Floor on a free loopback port until SIGTERM; durable,
// on Waymark's Redis (WAYMARK_REDIS_URL, WAYMARK_TENANT). Loopback only:
// the floor has no authentication.
func benchFloorServer(ctx context.Context, c *cli, args []string) error {
	h := push.NewFloor()
	if len(args) > 0 && args[0] == "durable" {
		// The parent passes its Redis settings, already checked; the
		// floor needs no keys (it seals nothing).
		st, err := store.Open(store.Options{Tenant: c.getenv("WAYMARK_TENANT"), URL: c.getenv("WAYMARK_REDIS_URL"),
			Username: c.getenv("WAYMARK_REDIS_USERNAME"), Password: c.getenv("WAYMARK_REDIS_PASSWORD"),
			TLS: c.getenv("WAYMARK_REDIS_TLS") == "true", TLSCAFile: c.getenv("WAYMARK_REDIS_TLS_CA_FILE"), Now: time.Now})
		if err != nil {
			return err
		}
		defer st.Close()
		h = push.NewDurableFloor(floorLog{store.NewHub(st)})
		go h.Run(ctx)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	fmt.Fprintf(c.stdout, "listening on http://%s\n", l.Addr())
	<-ctx.Done()
	return srv.Close()
}

// floorLog is the durable floor's log on the store.
type floorLog struct{ st *store.Hub }

func (f floorLog) Append(ctx context.Context, team, alertID string) error {
	return f.st.FloorAppend(ctx, team, alertID)
}

func (f floorLog) Follow(ctx context.Context, fn func(team, alertID string)) error {
	return f.st.FloorFollow(ctx, fn)
}

// drive connects the responders to t, reads idle memory, and runs each
// rate (stopping a ramp at the first rate that fails).
func (b *bench) drive(ctx context.Context, t *benchTarget, rates []float64) (*benchReport, error) {
	rep := &benchReport{Target: t.name, Responders: b.f.responders, Teams: b.f.teams}
	rss0 := procRSS(t.pid)
	run, err := connect(ctx, t, b.f.responders, b.f.teams, b.epoch)
	if err != nil {
		return nil, fmt.Errorf("waymark bench: connect %s responders: %w", t.name, err)
	}
	defer run.close()
	// Fewer than 100 connections are lost in the noise of the heap.
	if t.pid > 0 && b.f.responders >= 100 {
		time.Sleep(b.f.settle) // let the server settle before reading its memory
		rss1 := procRSS(t.pid)
		rep.IdleKiB = round1(float64(rss1-rss0) / 1024 / float64(b.f.responders))
		fmt.Fprintf(b.c.stdout, "%-8s %d idle connections: server RSS %.1f → %.1f MiB, %.1f KiB per connection\n",
			t.name, b.f.responders, float64(rss0)/(1<<20), float64(rss1)/(1<<20), rep.IdleKiB)
	}
	hc := newBenchHTTP(b.f.conns)
	defer hc.CloseIdleConnections()
	for k, rate := range rates {
		if rate == 0 {
			break
		}
		d := b.f.duration
		if b.f.ramp {
			d = b.f.rampStep
		}
		if k > 0 && t.prepare != nil {
			if err := t.prepare(ctx, hc); err != nil {
				return nil, err
			}
		}
		res, err := run.load(ctx, hc, rate, d)
		if err != nil {
			return nil, err
		}
		res.Errors += int(run.lost.Swap(0))
		rep.Steps = append(rep.Steps, res)
		b.printStep(t.name, d, res)
		ok := res.Errors == 0 && res.Lost == 0 && res.P99 <= float64(b.f.rampLimit)/float64(time.Millisecond)
		if b.f.ramp {
			if !ok {
				break
			}
			rep.MaxRate = rate
		}
	}
	return rep, nil
}

func (b *bench) printStep(name string, d time.Duration, r stepResult) {
	fmt.Fprintf(b.c.stdout, "%-8s %d responders/%d teams, %g alerts/s for %s: p50 %.2f p90 %.2f p99 %.2f max %.2f ms; "+
		"fan-out p50 %.2f p99 %.2f ms; app answer p50 %.2f p99 %.2f ms; delivered %d/%d lost %d out-of-order %d duplicates %d errors %d",
		name, b.f.responders, b.f.teams, r.Rate, d, r.P50, r.P90, r.P99, r.Max, r.FanoutP50, r.FanoutP99, r.AnswerP50, r.AnswerP99,
		r.Delivered, r.Expected, r.Lost, r.OutOfOrder, r.Duplicates, r.Errors)
	if r.RSSMiB > 0 {
		fmt.Fprintf(b.c.stdout, "; server cpu %.0f%% rss %.1f MiB", r.CPU, r.RSSMiB)
	}
	if r.RedisCPU > 0 {
		fmt.Fprintf(b.c.stdout, "; redis cpu %.0f%%", r.RedisCPU)
	}
	fmt.Fprintln(b.c.stdout)
}

// summary prints the contract's last line.
func (b *bench) summary(wm, fl, dfl *benchReport) error {
	out := map[string]any{
		"responders": b.f.responders, "teams": b.f.teams, "rate": b.f.rate, "duration_s": b.f.duration.Seconds(),
		"p50_ms": nil, "p99_ms": nil, "lost": 0, "errors": 0, "floor_p50_ms": nil, "floor_p99_ms": nil,
		"waymark": wm,
	}
	last := func(r *benchReport) *stepResult {
		if r == nil || len(r.Steps) == 0 {
			return nil
		}
		if b.f.ramp {
			// The highest passing rate, or the first step if none passed.
			for i := len(r.Steps) - 1; i >= 0; i-- {
				if r.Steps[i].Rate == r.MaxRate {
					return &r.Steps[i]
				}
			}
			return &r.Steps[0]
		}
		return &r.Steps[len(r.Steps)-1]
	}
	lost, errs := 0, 0
	for _, s := range wm.Steps {
		lost += s.Lost
		errs += s.Errors
	}
	out["lost"], out["errors"] = lost, errs
	if s := last(wm); s != nil {
		out["p50_ms"], out["p90_ms"], out["p99_ms"], out["max_ms"] = s.P50, s.P90, s.P99, s.Max
		out["fanout_p99_ms"], out["answer_p99_ms"], out["out_of_order"] = s.FanoutP99, s.AnswerP99, s.OutOfOrder
		out["server_cpu_percent"], out["server_rss_mib"] = round1(s.CPU), round1(s.RSSMiB)
		out["delivered"], out["expected"] = s.Delivered, s.Expected
	}
	if wm.IdleKiB != 0 {
		out["idle_kib_per_conn"] = wm.IdleKiB
	}
	if b.env.fsync[1] > 0 {
		out["disk_fsync_p50_ms"], out["disk_fsync_p99_ms"] = b.env.fsync[0], b.env.fsync[1]
	}
	if b.f.ramp {
		out["max_rate"] = wm.MaxRate
	}
	if fl != nil {
		out["floor"] = fl
		if s := last(fl); s != nil {
			out["floor_p50_ms"], out["floor_p99_ms"] = s.P50, s.P99
		}
		if b.f.ramp {
			out["floor_max_rate"] = fl.MaxRate
		}
	}
	if dfl != nil {
		out["durable_floor"] = dfl
		out["durable_floor_p50_ms"], out["durable_floor_p99_ms"], out["durable_floor_ramp_per_s"] = nil, nil, nil
		if s := last(dfl); s != nil {
			out["durable_floor_p50_ms"], out["durable_floor_p99_ms"] = s.P50, s.P99
		}
		if b.f.ramp {
			out["durable_floor_ramp_per_s"] = dfl.MaxRate
		}
	}
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintln(b.c.stdout, string(line))
	if lost > 0 || errs > 0 {
		return fmt.Errorf("waymark bench: %d lost, %d errors", lost, errs)
	}
	return nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// benchTeam is team k's id: letters only, so no digit run reaches a key.
func benchTeam(k int) string { return "bt-" + letters(k) }

// letters writes k in base 24 with randid's letters.
func letters(k int) string {
	const abc = "abcdefghijkmnpqrstuvwxyz"
	s := ""
	for {
		s = string(abc[k%len(abc)]) + s
		k /= len(abc)
		if k == 0 {
			return s
		}
		k--
	}
}

// post sends one JSON request and wants 202.
func post(ctx context.Context, hc *http.Client, url, bearer, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// benchServer is the `waymark serve` child.
type benchServer struct {
	cmd  *exec.Cmd
	base string
	log  string
}

// startServer runs this binary's `serve` on a free loopback port with the
// bench's configuration and waits for its listening line.
func (b *bench) startServer(ctx context.Context) (*benchServer, error) {
	cfg := b.a.cfg
	keys := make([]string, len(cfg.Keys))
	for i, k := range cfg.Keys {
		keys[i] = seal.FormatKey(k.ID, k.Secret)
	}
	env := []string{
		"PATH=" + b.c.getenv("PATH"),
		"WAYMARK_ADDR=127.0.0.1:0",
		"WAYMARK_REDIS_URL=" + cfg.RedisURL,
		"WAYMARK_TENANT=" + cfg.Tenant,
		"WAYMARK_KEYS=" + strings.Join(keys, ","),
		"WAYMARK_INDEX_KEY=" + base64.RawURLEncoding.EncodeToString(cfg.IndexKey),
		"WAYMARK_PIN_KEY=" + base64.RawURLEncoding.EncodeToString(cfg.PINKey),
		"WAYMARK_LOG_LEVEL=warn",
		"WAYMARK_NO_FALLBACK_REASON=benchmark: nothing is paged",
	}
	if b.f.serverProf != "" {
		env = append(env, "WAYMARK_BENCH_PROFILE="+b.f.serverProf)
	}
	for _, k := range []string{"WAYMARK_REDIS_USERNAME", "WAYMARK_REDIS_PASSWORD", "WAYMARK_REDIS_TLS", "WAYMARK_REDIS_TLS_CA_FILE", "WAYMARK_TRIAGE_TEAM"} {
		if v := b.env.get(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return b.startChild(ctx, []string{"serve"}, env)
}

// startChild runs this binary with args and env (nothing else of the
// bench's environment) and waits for its "listening on" line.
func (b *bench) startChild(ctx context.Context, args, env []string) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "wm-bench-child-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	// WAYMARK_BENCH_CHILD marks the child, so that under `go test` (where
	// the executable is the test binary) TestMain runs the command.
	cmd.Env = append(env, "WAYMARK_BENCH_CHILD=1")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("waymark bench: start %s: %w", args[0], err)
	}
	s := &benchServer{cmd: cmd, log: logf.Name()}
	logf.Close()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if after, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- after
			}
		}
	}()
	select {
	case s.base = <-lines:
		fmt.Fprintf(b.c.stdout, "# %s: pid %d at %s (log %s)\n", strings.Join(args, " "), cmd.Process.Pid, s.base, s.log)
		return s, nil
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	s.stop()
	tail, _ := os.ReadFile(s.log)
	return nil, fmt.Errorf("waymark bench: %s did not start:\n%s", args[0], tail)
}

// benchChildProfile starts profiling a bench's `waymark serve` child when
// the bench asked for it (--server-profile): CPU for the child's whole
// life, and the allocation profile at the end. The returned func writes
// them; it is a no-op for any other process.
func benchChildProfile(getenv func(string) string, stderr io.Writer) func() {
	dir := getenv("WAYMARK_BENCH_PROFILE")
	if getenv("WAYMARK_BENCH_CHILD") != "1" || dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(stderr, "bench profile:", err)
		return func() {}
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err == nil {
		err = pprof.StartCPUProfile(cpu)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench profile:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		f, err := os.Create(filepath.Join(dir, "allocs.pprof"))
		if err != nil {
			fmt.Fprintln(stderr, "bench profile:", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fmt.Fprintln(stderr, "bench profile:", err)
		}
	}
}

func (s *benchServer) stop() {
	stopChild(s.cmd, 20*time.Second)
}

// --- seeding ---

// benchSeed is what the bench put into Redis through the store: teams,
// responder accounts with a session each, and cases with an enrolled app
// device each.
type benchSeed struct {
	// used is one more than the highest case index raised since the last
	// cancel.
	used       atomic.Int64
	responders []staff.Principal
	cases      []benchCase
	caseIndex  map[string]int
}

type benchCase struct {
	id    string
	team  int
	token string
}

// benchPINs are the seeded cases' PINs (real, duress).
const benchPIN, benchDuressPIN = "4826", "9371"

func (b *bench) seed(ctx context.Context, rates []float64) (*benchSeed, error) {
	a, f := b.a, b.f
	start := time.Now()
	teams := make([]string, f.teams)
	for k := range teams {
		teams[k] = benchTeam(k)
		if _, err := a.staff.AddTeam(ctx, staff.Team{ID: teams[k], Name: "Bench team " + teams[k]}); err != nil && !errors.Is(err, staff.ErrConflict) {
			return nil, fmt.Errorf("waymark bench: add team: %w", err)
		}
	}
	s := &benchSeed{responders: make([]staff.Principal, f.responders), caseIndex: map[string]int{}}
	tag := randid.New("", 6)
	err := parallel(ctx, f.responders, 32, func(ctx context.Context, r int) error {
		acc, _, err := a.staff.Add(ctx, staff.NewAccount{Username: "bench-" + tag + "-" + letters(r), Roles: []staff.Role{staff.RoleResponder}, Teams: []string{teams[r%f.teams]}})
		if err != nil {
			return err
		}
		sessTag := a.store.Staff.SessionTag(staff.Secret(randid.Token(32)))
		now := a.now()
		if err := a.store.Staff.CreateSession(ctx, staff.Session{Tag: sessTag, StaffID: acc.ID, Created: now, Seen: now, AuthAt: now}, 12*time.Hour); err != nil {
			return err
		}
		s.responders[r] = staff.Principal{StaffID: acc.ID, SessionTag: sessTag, Roles: acc.Roles, Teams: acc.Teams}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed responders: %w", err)
	}

	// Cases: one per request of the largest step (a case has at most one
	// open alert; further signals would join it), rounded up to whole
	// rounds of teams. Ramps cancel between steps and reuse them.
	need := 0
	for _, r := range rates {
		d := f.duration
		if f.ramp {
			d = f.rampStep
		}
		need = max(need, int(r*d.Seconds()+0.5))
	}
	if need > benchPhones() {
		return nil, usageError("waymark bench: a step needs %d cases; the bench has fictional phone numbers for %d (lower --rate or --duration)", need, benchPhones())
	}
	need = min((need+f.teams-1)/f.teams*f.teams, benchPhones()/f.teams*f.teams)
	cw, _, err := a.staff.Add(ctx, staff.NewAccount{Username: "bench-" + tag + "-caseworker", Roles: []staff.Role{staff.RoleCaseworker}, Teams: teams})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed caseworker: %w", err)
	}
	p := &staff.Principal{StaffID: cw.ID, Roles: cw.Roles, Teams: cw.Teams, Username: cw.Username}
	s.cases = make([]benchCase, need)
	alias, risk, pin, duress := "Bench case", "standard", benchPIN, benchDuressPIN
	err = parallel(ctx, need, 16, func(ctx context.Context, i int) error {
		team, phone := teams[i%f.teams], benchPhone(i)
		c, err := a.cases.Create(ctx, p, casework.CaseInput{Phone: &phone, Alias: &alias, Team: &team, RiskLevel: &risk,
			CodeWords: []string{"bluebell"}, PIN: &pin, DuressPIN: &duress})
		if err != nil {
			return fmt.Errorf("case %d: %w", i, err)
		}
		e, err := a.cases.IssueEnrolment(ctx, p, c.ID, casework.TechSafetyInput{})
		if err != nil {
			return fmt.Errorf("enrolment %d: %w", i, err)
		}
		token, _, err := a.cases.Enrol(ctx, e.Code)
		if err != nil {
			return fmt.Errorf("enrol %d: %w", i, err)
		}
		s.cases[i] = benchCase{id: c.ID, team: i % f.teams, token: token}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed cases: %w", err)
	}
	for i, c := range s.cases {
		s.caseIndex[c.id] = i
	}
	fmt.Fprintf(b.c.stdout, "# seeded %d teams, %d responders, %d cases with app devices in %.1fs\n",
		f.teams, f.responders, len(s.cases), time.Since(start).Seconds())
	return s, nil
}

// target drives Waymark at base: tickets through the staff service,
// alerts through POST /v1/app/signal, alert → case through the store.
func (s *benchSeed) target(b *bench, base string, pid int) *benchTarget {
	a := b.a
	ws := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	t := &benchTarget{
		name:   "waymark",
		origin: base,
		base:   base,
		pid:    pid,
		wsURL:  func(int) string { return ws },
		ticket: func(ctx context.Context, r int) (string, error) {
			tk, _, err := a.staff.IssueTicket(ctx, &s.responders[r])
			return tk.Reveal(), err
		},
		raise: func(ctx context.Context, hc *http.Client, i int) error {
			for u := s.used.Load(); int64(i+1) > u && !s.used.CompareAndSwap(u, int64(i+1)); u = s.used.Load() {
			}
			c := s.cases[i%len(s.cases)]
			body := `{"request_id":"` + randid.Token(18) + `","kind":"panic"}`
			return post(ctx, hc, base+"/v1/app/signal", c.token, body)
		},
	}
	t.resolve = func(ctx context.Context, ids []string) (map[string]int, error) {
		out := make(map[string]int, len(ids))
		var omu sync.Mutex
		err := parallel(ctx, len(ids), 16, func(ctx context.Context, k int) error {
			al, err := a.store.Alerts.Alert(ctx, ids[k])
			if err != nil {
				return err
			}
			if ci, ok := s.caseIndex[al.CaseID]; ok {
				omu.Lock()
				out[ids[k]] = ci
				omu.Unlock()
			}
			return nil
		})
		return out, err
	}
	t.prepare = func(ctx context.Context, hc *http.Client) error {
		// Every step uses cases from the first: cancel their open alerts
		// (real PIN, inside the cancel window) so they raise anew.
		return s.cancelAll(ctx, hc, base)
	}
	return t
}

// cancelAll cancels the open alerts of the cases the last step used
// through the app, as a survivor would with the real PIN, so the cases
// can raise new alerts.
func (s *benchSeed) cancelAll(ctx context.Context, hc *http.Client, base string) error {
	body := `{"request_id":"%s","kind":"cancel","pin":"` + benchPIN + `"}`
	n := min(int(s.used.Swap(0)), len(s.cases))
	return parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		err := post(ctx, hc, base+"/v1/app/signal", s.cases[i].token, fmt.Sprintf(body, randid.Token(18)))
		if err != nil {
			return fmt.Errorf("waymark bench: cancel between steps: %w", err)
		}
		return nil
	})
}

// benchPhoneRanges are Ofcom's UK number ranges reserved for drama (never
// assigned to anyone), 1000 numbers each: the bench's cases use them.
var benchPhoneRanges = []string{"07700900", "01134960", "02079460", "01914980", "02890496", "02920180", "01214960",
	"08081570", "03069990", "01314960", "01414960", "01514960", "01614960", "01164960", "01174960", "01184960", "01144960"}

// benchPhones is how many fictional numbers there are.
func benchPhones() int { return 1000 * len(benchPhoneRanges) }

// benchPhone is the i-th fictional number.
func benchPhone(i int) string { return benchPhoneRanges[i/1000] + fmt.Sprintf("%03d", i%1000) }

// diskFsync measures the disk under dir as Redis's append-only file meets
// it: 500 appends of 600 bytes, each followed by an fsync, 2 ms apart (about
// a second). It returns p50 and p99 in ms, or zeros when it cannot write.
// With appendfsync always one such fsync is in every alert's path, so it
// bounds what any latency figure can be.
func diskFsync(dir string) [2]float64 {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return [2]float64{}
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 600)
	lat := make([]float64, 0, 500)
	for range 500 {
		start := time.Now()
		if _, err := f.Write(buf); err != nil {
			return [2]float64{}
		}
		if err := f.Sync(); err != nil {
			return [2]float64{}
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		time.Sleep(2 * time.Millisecond) // paced like alerts, not a burst
	}
	slices.Sort(lat)
	return [2]float64{round2(lat[len(lat)/2]), round2(lat[len(lat)*99/100])}
}
