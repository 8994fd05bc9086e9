// Package benchlab is `waymark bench`, the benchmark lab: it seeds a
// Waymark, starts it as a child (`waymark bench serve`) beside the floors
// (`waymark bench floor [durable]`, push/floor), drives app alerts at it
// open-loop and measures each responder's receipt. Nothing that serves
// imports it: the bench's child hooks live here and in the bench-only
// subcommands, never in serve.
package benchlab

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/config"
	"waymark/internal/randid"
	"waymark/staff"
)

// Flags are waymark bench's own flags.
type Flags struct {
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
	twilio     bool
	// --cases (cases.go)
	cases       string
	casesFrom   string
	casesWindow time.Duration
	signals     int
	svg         string
}

// Define defines the flags on fs.
func (b *Flags) Define(fs *flag.FlagSet) {
	fs.IntVar(&b.responders, "responders", 1, "responders connected over WebSocket, on duty, receipts on (--cases: at least one per team)")
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
	fs.StringVar(&b.cases, "cases", "", "instead of alerts: enrol N cases (each with an app device and a check-in schedule) into the private Redis, sized for N (WAYMARK_EXPECTED_CASES), with a responder of every team on duty on the dashboard, and report Redis memory per case, the enrolment rate, app-signal latency (--cases-signals at --rate) and the scheduler raising the missed check-ins of 10% of them due in one --cases-window; several sizes are several runs (--cases-from draws them together)")
	fs.StringVar(&b.casesFrom, "cases-from", "", "with --svg: draw from the JSON lines of earlier --cases runs in these comma-separated files (medians per size) instead of running")
	fs.DurationVar(&b.casesWindow, "cases-window", time.Minute, "--cases: the window the due tenth's check-in alarms fall in")
	fs.IntVar(&b.signals, "cases-signals", 2000, "--cases: app signals (panic, then cancelled) sent at --rate to measure their latency at that size")
	fs.StringVar(&b.serverProf, "server-profile", "", "directory for the child server's CPU profile (cpu.pprof) and allocation profile (allocs.pprof), written when it stops")
	fs.BoolVar(&b.twilio, "twilio", false, "the Twilio inbound-SMS scenario: each alert is a text to POST /sms/inbound, signed as Twilio signs it, from a case's phone with its code word; a trivial handler (reads the form, answers empty TwiML) and the webhook's durable floor (checks the signature, one XADD to the same Redis, then answers) take the same texts in the same run; summary adds twilio_answer_p50_ms, twilio_answer_p99_ms, twilio_trivial_p50_ms, twilio_trivial_p99_ms, twilio_p99_ratio, twilio_durable_p50_ms, twilio_durable_p99_ms, twilio_durable_p99_ratio (use --rate 500)")
	fs.StringVar(&b.svg, "svg", "", "with --ramp: write an SVG chart of p50 and p99 latency against rate, Waymark beside the floors run, to this file; with --cases or --cases-from: memory per case and check-in lateness against the number of cases")
}

// Usage is the synopsis after "waymark " for -h.
const Usage = "bench [--responders N] [--teams T] [--rate R] [--duration D] [--floor [durable]] [--ramp [--svg FILE]] [--twilio] [--target URL] [flags]\n       waymark bench --cases N [--teams T] [--svg FILE] [flags]\n       waymark bench --cases-from FILE[,FILE...] --svg FILE"

// floorFlag is --floor: "" (none), "nothing" (bare --floor: the hub that
// stores nothing) or "durable" (both floors). It is a boolean flag, so
// `--floor durable` is joined into `--floor=durable` first (FloorArgs).
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

// FloorArgs joins "--floor durable" into "--floor=durable", before the
// flags are parsed.
func FloorArgs(args []string) []string {
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

// Deps is what a bench run needs of the Waymark it seeds: the
// configuration it was opened with and the services that add teams,
// responders and enrolled cases to its Redis.
type Deps struct {
	Config   *config.Config
	Staff    Staff
	Sessions Sessions
	Cases    Cases
	Alerts   Alerts
	// Schedules sets check-in schedules through the alert service with
	// the given clock, and CheckinState reads them back (--cases).
	Schedules    func(now func() time.Time) Scheduler
	CheckinState CheckinReader
	// UsedMemory is the Redis's INFO memory used_memory (--cases).
	UsedMemory func(ctx context.Context) (int64, error)
	Now        func() time.Time
	// Getenv is the caller's own environment (the children get its PATH
	// and nothing else of it).
	Getenv func(string) string
	// Stdout takes the bench's lines; the last is one JSON object.
	Stdout io.Writer
}

// Staff adds the bench's teams and accounts and issues the responders'
// WebSocket tickets.
type Staff interface {
	AddTeam(ctx context.Context, t staff.Team) (staff.Team, error)
	Add(ctx context.Context, n staff.NewAccount) (*staff.Account, staff.Secret, error)
	IssueTicket(ctx context.Context, p *staff.Principal) (staff.Secret, time.Time, error)
}

// Sessions makes the responders' sessions directly: the bench measures
// alerts, not sign-ins.
type Sessions interface {
	SessionTag(token staff.Secret) string
	CreateSession(ctx context.Context, sess staff.Session, keep time.Duration) error
}

// Cases seeds cases, each with an enrolled app device.
type Cases interface {
	Create(ctx context.Context, p *staff.Principal, in casework.CaseInput) (*casework.Case, error)
	IssueEnrolment(ctx context.Context, p *staff.Principal, id string, in casework.TechSafetyInput) (casework.Enrolment, error)
	Enrol(ctx context.Context, code string) (token, deviceID string, err error)
}

// Alerts finds a delivered alert's case, to match it to its request.
type Alerts interface {
	Alert(ctx context.Context, id string) (*alert.Alert, error)
}

// UsageError is a bench error the caller's own (bad flags, nothing to
// run against): the command exits 2.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageError(format string, a ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, a...)}
}

// Run is `waymark bench` once its flags are parsed and its Waymark is
// open: it measures app call → responder receipt on this machine,
// against a child `waymark bench serve` (or --target) on the configured
// Redis, or on env's private redis-server with appendfsync always when
// none is configured. Loopback only; every process it starts it stops,
// by PID. The last line of output is one JSON object.
func Run(ctx context.Context, d Deps, bf Flags, env *Env) error {
	if bf.casesFrom != "" || bf.cases != "" {
		return runCasesFlags(ctx, d, bf, env)
	}
	if bf.responders < 0 || bf.teams < 1 || bf.rate < 0 || bf.conns < 1 || bf.duration <= 0 {
		return usageError("waymark bench: --responders ≥ 0, --teams ≥ 1, --rate ≥ 0, --conns ≥ 1 and --duration > 0")
	}
	if d.Config.RedisURL == "" {
		return usageError("waymark bench: needs WAYMARK_REDIS_URL (Sentinel and Cluster are not supported by the bench)")
	}
	if bf.twilio && (bf.ramp || bf.target != "") {
		return usageError("waymark bench: --twilio runs at one --rate against its own child server (not with --ramp or --target)")
	}
	if bf.svg != "" && !bf.ramp {
		return usageError("waymark bench: --svg draws a --ramp, --cases or --cases-from")
	}
	rates, err := bf.rates()
	if err != nil {
		return err
	}
	nofile := raiseNoFile()
	fmt.Fprintf(d.Stdout, "# open-file limit %s; tenant %s; redis %s\n", nofile, d.Config.Tenant, env.redisNote)
	if env.fsync[1] > 0 {
		fmt.Fprintf(d.Stdout, "# redis's disk: one fsync of a 600-byte append p50 %.2f p99 %.2f ms; with appendfsync always every alert waits for one\n", env.fsync[0], env.fsync[1])
	}

	stopProfile, err := startCPUProfile(bf.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	b := &bench{d: d, f: bf, env: env, epoch: time.Now()}
	return b.run(ctx, rates)
}

func (b *Flags) rates() ([]float64, error) {
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

// bench is one run of waymark bench.
type bench struct {
	d     Deps
	f     Flags
	env   *Env
	epoch time.Time
	// childEnv is added to the server child's environment.
	childEnv []string
	// The --twilio scenario's account, signed texts and trivial handler.
	twilioToken, twilioSID string
	shots                  []twilioShot
	trivial, durableHook   *benchReport
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
	if b.f.twilio {
		b.twilioSetup()
	}
	wm, err := b.waymark(ctx, rates)
	if err != nil {
		return err
	}
	if b.f.twilio {
		if b.trivial, err = b.webhookRun(ctx, rates, false); err != nil {
			return err
		}
		if b.durableHook, err = b.webhookRun(ctx, rates, true); err != nil {
			return err
		}
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
	if b.f.svg != "" {
		if err := writeRampSVG(b.f.svg, wm, fl, dfl, b.f.rampLimit); err != nil {
			return err
		}
		fmt.Fprintf(b.d.Stdout, "# ramp chart written to %s\n", b.f.svg)
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
	if b.f.twilio {
		if err := b.twilioTarget(t, seed); err != nil {
			return nil, err
		}
	}
	return b.drive(ctx, t, rates)
}

// redisEnv is what a durable floor's child needs to reach the bench's
// Redis, in the bench's tenant.
func (b *bench) redisEnv() []string {
	env := []string{"WAYMARK_REDIS_URL=" + b.d.Config.RedisURL, "WAYMARK_TENANT=" + b.d.Config.Tenant}
	for _, k := range []string{"WAYMARK_REDIS_USERNAME", "WAYMARK_REDIS_PASSWORD", "WAYMARK_REDIS_TLS", "WAYMARK_REDIS_TLS_CA_FILE"} {
		if v := b.env.Get(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// floorRun measures a trivial hub, in a child process of its own like
// Waymark, with the same client, rates and responders: one that stores
// nothing, or (durable) one that appends each alert to Waymark's Redis
// before answering and delivers from there.
func (b *bench) floorRun(ctx context.Context, rates []float64, durable bool) (*benchReport, error) {
	args, env, name := []string{"bench", "floor"}, []string{"PATH=" + b.d.Getenv("PATH")}, "floor"
	if durable {
		args, name = append(args, "durable"), "durable"
		env = append(env, b.redisEnv()...)
	}
	child, err := b.startChild(ctx, args, strings.Join(args, " "), env)
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
		fmt.Fprintf(b.d.Stdout, "%-8s %d idle connections: server RSS %.1f → %.1f MiB, %.1f KiB per connection\n",
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
		if e := run.ended(); e != "" {
			fmt.Fprintf(b.d.Stdout, "# %s: %s\n", t.name, e)
		}
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
	fmt.Fprintf(b.d.Stdout, "%-8s %d responders/%d teams, %g alerts/s for %s: p50 %.2f p90 %.2f p99 %.2f max %.2f ms; "+
		"fan-out p50 %.2f p99 %.2f ms; app answer p50 %.2f p99 %.2f ms; delivered %d/%d lost %d out-of-order %d duplicates %d resumed %d errors %d",
		name, b.f.responders, b.f.teams, r.Rate, d, r.P50, r.P90, r.P99, r.Max, r.FanoutP50, r.FanoutP99, r.AnswerP50, r.AnswerP99,
		r.Delivered, r.Expected, r.Lost, r.OutOfOrder, r.Duplicates, r.Resumed, r.Errors)
	if r.RSSMiB > 0 {
		fmt.Fprintf(b.d.Stdout, "; server cpu %.0f%% rss %.1f MiB", r.CPU, r.RSSMiB)
	}
	if r.RedisCPU > 0 {
		fmt.Fprintf(b.d.Stdout, "; redis cpu %.0f%%", r.RedisCPU)
	}
	fmt.Fprintln(b.d.Stdout)
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
	if b.f.twilio {
		twilioSummary(out, wm, b.trivial, b.durableHook)
	}
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintln(b.d.Stdout, string(line))
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

// startCPUProfile writes the bench process's own CPU profile (the load
// generator's) to path until stop; with no path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
