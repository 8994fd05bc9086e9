package benchlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/staff"
)

// `waymark bench --cases N`: how Waymark scales with the number of enrolled
// survivors. It enrols N cases through the same services the API uses
// (case, enrolment code, app device, check-in schedule: real keys, real
// sealing) into the bench's private Redis, then measures Redis memory per
// case, the enrolment rate, the app-signal latency at that size against a
// `waymark bench serve` child, and the child's own scheduler raising the
// missed-check-in alerts of 10% of the cases falling due in one minute.

// Scheduler sets a case's check-in schedule as PUT /v1/app/checkins does
// (alert.Service.App with KindSchedule).
type Scheduler interface {
	App(ctx context.Context, caseID string, in alert.AppSignal) error
}

// CheckinReader reads a case's check-in state.
type CheckinReader interface {
	Checkins(ctx context.Context, caseID string) (*casework.Checkins, []alert.Entry, error)
}

// The schedules --cases gives: the due tenth checks in hourly with ten
// minutes' grace, the rest daily with half an hour's.
const (
	casesDueEvery, casesDueGrace   = time.Hour, 10 * time.Minute
	casesRestEvery, casesRestGrace = 24 * time.Hour, 30 * time.Minute
	// casesSlots are the steps the due tenth's alarms are spread over in
	// the window.
	casesSlots = 600
	// casesMaxN is the most cases the bench has distinct numbers for.
	casesMax = 1_000_000 + 17_000
)

// casesReport is one size's figures (the summary's fields, all new).
type casesReport struct {
	N     int `json:"cases_n"`
	Teams int `json:"cases_teams"`
	// OnDuty responders (one per team at least) are on the dashboard, on
	// duty, with receipts on, through the run; DashboardEvents counts the
	// raised alerts they received.
	OnDuty            int     `json:"responders_on_duty"`
	DashboardEvents   int     `json:"dashboard_raised_events"`
	MemBefore         int64   `json:"redis_used_memory_before_bytes"`
	MemAfter          int64   `json:"redis_used_memory_after_bytes"`
	BytesPerCase      float64 `json:"redis_bytes_per_case"`
	EnrolSeconds      float64 `json:"enrol_s"`
	EnrolPerS         float64 `json:"enrol_per_s"`
	SignalCount       int     `json:"signal_count"`
	SignalErrors      int     `json:"signal_errors"`
	SignalP50         float64 `json:"signal_p50_ms"`
	SignalP99         float64 `json:"signal_p99_ms"`
	SignalCPUPerAlert float64 `json:"signal_server_cpu_ms_per_alert"`
	CheckinDue        int     `json:"checkin_due"`
	CheckinWindow     float64 `json:"checkin_window_s"`
	CheckinGrace      float64 `json:"checkin_grace_s"`
	CheckinRaised     int     `json:"checkin_raised"`
	CheckinLateP50    float64 `json:"checkin_late_p50_ms"`
	CheckinLateP99    float64 `json:"checkin_late_p99_ms"`
	CheckinLateMax    float64 `json:"checkin_late_max_ms"`
	CheckinPerS       float64 `json:"checkin_alerts_per_s"`
	CheckinServerCPU  float64 `json:"checkin_server_cpu_ms_per_alert"`
	// CheckinRedisCPU includes the bench reading each due case's state once.
	CheckinRedisCPU    float64 `json:"checkin_redis_cpu_ms_per_alert"`
	CheckinServerLate  bool    `json:"checkin_window_before_server,omitempty"`
	DiskFsyncP50       float64 `json:"disk_fsync_p50_ms,omitempty"`
	DiskFsyncP99       float64 `json:"disk_fsync_p99_ms,omitempty"`
	ServerRSSMiBAtSize float64 `json:"server_rss_mib,omitempty"`
}

// caseSize parses --cases: one size (several sizes are several runs, each
// on its own fresh Redis; --cases-from draws them together).
func (b *Flags) caseSize() (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(b.cases))
	if err != nil || n < 10 || n > casesMax {
		return 0, usageError("waymark bench: --cases: %q is not a number of cases from 10 to %d", b.cases, casesMax)
	}
	return n, nil
}

// runCases is --cases: one size on the private Redis, one JSON line;
// --svg draws it.
func (b *bench) runCases(ctx context.Context) error {
	n, err := b.f.caseSize()
	if err != nil {
		return err
	}
	if b.f.casesWindow < time.Second || b.f.signals < 0 || b.f.rate <= 0 {
		return usageError("waymark bench: --cases-window ≥ 1s, --cases-signals ≥ 0 and --rate > 0")
	}
	if b.env.redisPID == 0 {
		return usageError("waymark bench: --cases enrols up to a million synthetic cases: it runs only on the bench's own private redis-server (leave WAYMARK_REDIS_URL unset)")
	}
	r, err := b.casesSize(ctx, n)
	if err != nil {
		return err
	}
	if b.f.svg != "" {
		if err := writeCasesSVG(b.f.svg, []*casesReport{r}); err != nil {
			return err
		}
		fmt.Fprintf(b.d.Stdout, "# wrote %s\n", b.f.svg)
	}
	line, _ := json.Marshal(r)
	fmt.Fprintln(b.d.Stdout, string(line))
	if r.CheckinRaised != r.CheckinDue || r.SignalErrors > 0 {
		return fmt.Errorf("waymark bench: %d cases: %d of %d missed check-ins raised, %d signal errors",
			r.N, r.CheckinRaised, r.CheckinDue, r.SignalErrors)
	}
	return nil
}

// casePhone is the i-th case's number: the fictional ranges first, then
// numbers of the form 07300 NNNNNN. Those are valid UK mobile numbers
// that may be someone's: they are sealed into the bench's private Redis,
// which is deleted when it ends, and nothing in the bench texts or calls.
func casePhone(i int) string {
	if i < benchPhones() {
		return benchPhone(i)
	}
	return fmt.Sprintf("07300%06d", i-benchPhones())
}

// casesSize enrols n cases and measures them.
func (b *bench) casesSize(ctx context.Context, n int) (*casesReport, error) {
	d, f := b.d, b.f
	rep := &casesReport{N: n, Teams: f.teams, CheckinWindow: f.casesWindow.Seconds(), CheckinGrace: casesDueGrace.Seconds(),
		DiskFsyncP50: b.env.fsync[0], DiskFsyncP99: b.env.fsync[1]}
	var err error
	if rep.MemBefore, err = d.UsedMemory(ctx); err != nil {
		return nil, err
	}
	teams := make([]string, f.teams)
	for k := range teams {
		teams[k] = benchTeam(k)
		if _, err := d.Staff.AddTeam(ctx, staff.Team{ID: teams[k], Name: "Bench team " + teams[k]}); err != nil && !errors.Is(err, staff.ErrConflict) {
			return nil, fmt.Errorf("waymark bench: add team: %w", err)
		}
	}
	cw, _, err := d.Staff.Add(ctx, staff.NewAccount{Username: "bench-" + randid.New("", 6) + "-caseworker", Roles: []staff.Role{staff.RoleCaseworker}, Teams: teams})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed caseworker: %w", err)
	}
	p := &staff.Principal{StaffID: cw.ID, Roles: cw.Roles, Teams: cw.Teams, Username: cw.Username}
	// Every team has someone on duty on the dashboard, as a deployment
	// has: with nobody, each alert would walk its policy's steps to the
	// fallback at once, which no staffed service does.
	onDuty, err := b.seedResponders(ctx, randid.New("", 6), teams, max(f.responders, f.teams))
	if err != nil {
		return nil, err
	}
	rep.OnDuty = len(onDuty)

	// Enrol: every case with its device; all but the due tenth (every
	// tenth case) with their daily schedule, on the real clock.
	ids, tokens := make([]string, n), make([]string, n)
	realSched := d.Schedules(time.Now)
	start := time.Now()
	var done atomic.Int64
	stopProgress := b.progress("enrolled", n, &done)
	err = parallel(ctx, n, 64, func(ctx context.Context, i int) error {
		id, token, err := enrolCase(ctx, d.Cases, p, i, teams[i%f.teams], casePhone(i))
		if err != nil {
			return err
		}
		ids[i], tokens[i] = id, token
		if i%10 != 0 {
			if err := setSchedule(ctx, realSched, id, casesRestEvery, casesRestGrace); err != nil {
				return fmt.Errorf("schedule %d: %w", i, err)
			}
		}
		done.Add(1)
		return nil
	})
	stopProgress()
	if err != nil {
		return nil, fmt.Errorf("waymark bench: enrol: %w", err)
	}
	phase1 := time.Since(start)

	// The due tenth: their schedules are set now, with the service's clock
	// set back so that their alarms (due plus grace) fall evenly over the
	// window, which opens once the server is up and the signals are done.
	due := make([]int, 0, n/10+1)
	for i := 0; i < n; i += 10 {
		due = append(due, i)
	}
	rep.CheckinDue = len(due)
	perCase := phase1 / time.Duration(n)
	signalTime := time.Duration(float64(f.signals)/f.rate*float64(time.Second)) * 2
	open := time.Now().Add(perCase*time.Duration(len(due)) + 15*time.Second + signalTime + 5*time.Second).Truncate(time.Second)
	var clock atomic.Int64
	dueSched := d.Schedules(func() time.Time { return time.Unix(0, clock.Load()) })
	slot := f.casesWindow / casesSlots
	per := (len(due) + casesSlots - 1) / casesSlots
	for s := 0; s*per < len(due); s++ {
		part := due[s*per : min((s+1)*per, len(due))]
		alarm := open.Add(time.Duration(s) * slot)
		clock.Store(alarm.Add(-casesDueEvery - casesDueGrace).UnixNano())
		err := parallel(ctx, len(part), 64, func(ctx context.Context, k int) error {
			return setSchedule(ctx, dueSched, ids[part[k]], casesDueEvery, casesDueGrace)
		})
		if err != nil {
			return nil, fmt.Errorf("waymark bench: due schedules: %w", err)
		}
	}
	rep.EnrolSeconds = round2(time.Since(start).Seconds())
	rep.EnrolPerS = round1(float64(n) / time.Since(start).Seconds())
	if rep.MemAfter, err = d.UsedMemory(ctx); err != nil {
		return nil, err
	}
	rep.BytesPerCase = round1(float64(rep.MemAfter-rep.MemBefore) / float64(n))
	fmt.Fprintf(d.Stdout, "# %d cases enrolled (device, schedule) in %.1fs, %.0f/s; redis used_memory %.1f → %.1f MiB, %.0f bytes per case\n",
		n, rep.EnrolSeconds, rep.EnrolPerS, float64(rep.MemBefore)/(1<<20), float64(rep.MemAfter)/(1<<20), rep.BytesPerCase)

	child, err := b.startServer(ctx)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	pid := child.cmd.Process.Pid
	run, err := connect(ctx, (&benchSeed{responders: onDuty}).target(b, child.base, pid), len(onDuty), f.teams, b.epoch)
	if err != nil {
		return nil, fmt.Errorf("waymark bench: connect the responders on duty: %w", err)
	}
	fmt.Fprintf(d.Stdout, "# %d responders on duty on the dashboard, %d teams\n", len(onDuty), f.teams)
	defer func() {
		run.close()
		rep.DashboardEvents = int(run.received.Load())
	}()
	if err := b.casesSignals(ctx, rep, child.base, pid, ids, tokens); err != nil {
		return nil, err
	}
	if time.Now().After(open) {
		rep.CheckinServerLate = true
		fmt.Fprintf(d.Stdout, "# warning: the check-in window opened %.1fs before the server was ready; lateness includes that wait\n", time.Since(open).Seconds())
	}
	if err := b.casesCheckins(ctx, rep, pid, open, due, ids); err != nil {
		return nil, err
	}
	rep.ServerRSSMiBAtSize = round1(float64(procRSS(pid)) / (1 << 20))
	return rep, nil
}

func setSchedule(ctx context.Context, s Scheduler, caseID string, every, grace time.Duration) error {
	return s.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(18), Kind: alert.KindSchedule, PIN: benchPIN,
		Schedule: &casework.Schedule{Every: every, Grace: grace}})
}

// progress prints how far a long phase is every 10 s until stopped.
func (b *bench) progress(what string, n int, done *atomic.Int64) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				k := done.Load()
				fmt.Fprintf(b.d.Stdout, "# %s %d/%d (%.0f/s)\n", what, k, n, float64(k)/time.Since(start).Seconds())
			}
		}
	})
	return func() { close(stop); wg.Wait() }
}

// casesSignals measures POST /v1/app/signal (panic) at this size: --cases-
// signals requests at --rate, open loop, each on a different case outside
// the due tenth; then cancels them with the real PIN, as a survivor would.
func (b *bench) casesSignals(ctx context.Context, rep *casesReport, base string, pid int, ids, tokens []string) error {
	var pick []int
	for i := 0; i < len(ids) && len(pick) < b.f.signals; i++ {
		if i%10 != 0 {
			pick = append(pick, i)
		}
	}
	rep.SignalCount = len(pick)
	if len(pick) == 0 {
		return nil
	}
	hc := newBenchHTTP(b.f.conns)
	defer hc.CloseIdleConnections()
	lat := make([]time.Duration, len(pick))
	var errs atomic.Int64
	var wg sync.WaitGroup
	cpu0 := procCPU(pid)
	start := time.Now()
	gap := time.Duration(float64(time.Second) / b.f.rate)
	deadline := start.Add(time.Duration(len(pick))*gap + 30*time.Second)
	for k, i := range pick {
		time.Sleep(time.Until(start.Add(time.Duration(k) * gap)))
		if ctx.Err() != nil || time.Now().After(deadline) {
			return errors.New("waymark bench: app signals did not finish in time")
		}
		wg.Go(func() {
			t0 := time.Now()
			body := `{"request_id":"` + randid.Token(18) + `","kind":"panic"}`
			if err := post(ctx, hc, base+"/v1/app/signal", tokens[i], body); err != nil {
				errs.Add(1)
			}
			lat[k] = time.Since(t0)
		})
	}
	wg.Wait()
	rep.SignalCPUPerAlert = round2(float64(procCPU(pid)-cpu0) / float64(time.Millisecond) / float64(len(pick)))
	rep.SignalErrors = int(errs.Load())
	rep.SignalP50, rep.SignalP99 = pct(lat, 50), pct(lat, 99)
	fmt.Fprintf(b.d.Stdout, "# %d app signals at %g/s on %d cases: answer p50 %.2f p99 %.2f ms, %d errors; server CPU %.2f ms per alert\n",
		len(pick), b.f.rate, rep.N, rep.SignalP50, rep.SignalP99, rep.SignalErrors, rep.SignalCPUPerAlert)
	body := `{"request_id":"%s","kind":"cancel","pin":"` + benchPIN + `"}`
	return parallel(ctx, len(pick), 32, func(ctx context.Context, k int) error {
		if err := post(ctx, hc, base+"/v1/app/signal", tokens[pick[k]], fmt.Sprintf(body, randid.Token(18))); err != nil {
			return fmt.Errorf("waymark bench: cancel after the signals: %w", err)
		}
		return nil
	})
}

// casesCheckins waits out the window while the server's own scheduler
// raises the due tenth's missed check-ins, then reads each case's
// check-in state: raised (paused) and when (its update time, written in
// the same commit as the alert), against its alarm (due plus grace).
func (b *bench) casesCheckins(ctx context.Context, rep *casesReport, pid int, open time.Time, due []int, ids []string) error {
	time.Sleep(time.Until(open.Add(-time.Second)))
	cpu0, rcpu0 := procCPU(pid), procCPU(b.env.redisPID)
	end := open.Add(b.f.casesWindow)
	deadline := end.Add(2*time.Minute + b.f.casesWindow)
	time.Sleep(time.Until(end.Add(5 * time.Second)))
	late := make([]time.Duration, len(due))
	raised := make([]bool, len(due))
	var last atomic.Int64
	pending := make([]int, len(due))
	for k := range pending {
		pending[k] = k
	}
	for {
		var mu sync.Mutex
		var still []int
		err := parallel(ctx, len(pending), 16, func(ctx context.Context, j int) error {
			k := pending[j]
			ci, _, err := b.d.CheckinState.Checkins(ctx, ids[due[k]])
			if err != nil {
				return err
			}
			if ci == nil || !ci.Paused {
				mu.Lock()
				still = append(still, k)
				mu.Unlock()
				return nil
			}
			raised[k] = true
			late[k] = ci.UpdatedAt.Sub(ci.NextDue.Add(ci.Schedule.Grace))
			for u := last.Load(); ci.UpdatedAt.UnixNano() > u && !last.CompareAndSwap(u, ci.UpdatedAt.UnixNano()); u = last.Load() {
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("waymark bench: read check-ins: %w", err)
		}
		pending = still
		if len(pending) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(2 * time.Second) // the stragglers: look again
	}
	cpu, rcpu := procCPU(pid)-cpu0, procCPU(b.env.redisPID)-rcpu0
	got := late[:0:0]
	for k, ok := range raised {
		if ok {
			rep.CheckinRaised++
			got = append(got, late[k])
		}
	}
	if rep.CheckinRaised > 0 {
		rep.CheckinLateP50, rep.CheckinLateP99, rep.CheckinLateMax = pct(got, 50), pct(got, 99), pct(got, 100)
		rep.CheckinPerS = round1(float64(rep.CheckinRaised) / max(time.Unix(0, last.Load()).Sub(open).Seconds(), b.f.casesWindow.Seconds()))
		rep.CheckinServerCPU = round2(float64(cpu) / float64(time.Millisecond) / float64(rep.CheckinRaised))
		rep.CheckinRedisCPU = round2(float64(rcpu) / float64(time.Millisecond) / float64(rep.CheckinRaised))
	}
	fmt.Fprintf(b.d.Stdout, "# %d of %d missed check-ins due in %s raised: lateness past due+grace p50 %.0f p99 %.0f max %.0f ms; %.0f alerts/s; CPU per alert server %.2f ms, redis %.2f ms\n",
		rep.CheckinRaised, rep.CheckinDue, b.f.casesWindow, rep.CheckinLateP50, rep.CheckinLateP99, rep.CheckinLateMax,
		rep.CheckinPerS, rep.CheckinServerCPU, rep.CheckinRedisCPU)
	return nil
}

// runCasesFlags is Run for --cases and --cases-from.
func runCasesFlags(ctx context.Context, d Deps, bf Flags, env *Env) error {
	if bf.casesFrom != "" {
		if bf.svg == "" || bf.cases != "" {
			return usageError("waymark bench: --cases-from needs --svg, and no --cases")
		}
		reps, err := readCasesRuns(strings.Split(bf.casesFrom, ","))
		if err != nil {
			return err
		}
		if err := writeCasesSVG(bf.svg, reps); err != nil {
			return err
		}
		fmt.Fprintf(d.Stdout, "# wrote %s from %d runs\n", bf.svg, len(reps))
		return nil
	}
	if bf.teams < 1 || bf.conns < 1 {
		return usageError("waymark bench: --teams ≥ 1 and --conns ≥ 1")
	}
	raiseNoFile()
	fmt.Fprintf(d.Stdout, "# tenant %s; redis %s; blind index sized for %d cases (WAYMARK_EXPECTED_CASES)\n", d.Config.Tenant, env.redisNote, d.Config.ExpectedCases)
	if env.fsync[1] > 0 {
		fmt.Fprintf(d.Stdout, "# redis's disk: one fsync of a 600-byte append p50 %.2f p99 %.2f ms\n", env.fsync[0], env.fsync[1])
	}
	stopProfile, err := startCPUProfile(bf.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	b := &bench{d: d, f: bf, env: env, epoch: time.Now()}
	return b.runCases(ctx)
}
