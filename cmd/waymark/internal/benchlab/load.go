package benchlab

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"waymark/alert"
	"waymark/push"
)

// benchTarget is a server the bench drives: Waymark (a child process) or
// the floor (a trivial in-process hub). Both speak the same WebSocket
// protocol to the same client.
type benchTarget struct {
	name   string
	origin string
	// wsURL is responder r's WebSocket address.
	wsURL func(r int) string
	// ticket returns a fresh ticket for responder r.
	ticket func(ctx context.Context, r int) (string, error)
	// raise makes request i of a load step (i counts from 0 in each step).
	raise func(ctx context.Context, hc *http.Client, i int) error
	// resolve maps the alert ids received in a step to request indexes.
	resolve func(ctx context.Context, alertIDs []string) (map[string]int, error)
	// prepare runs before every load step but the first (untimed).
	prepare func(ctx context.Context, hc *http.Client) error
	// pid is the server's process (0: in-process, no CPU/RSS of its own).
	pid int
	// redisPID is the bench's private redis-server, 0 if none.
	redisPID int
	// base is the server's HTTP base URL.
	base string
}

// benchRec is one event a responder received: which alert, its stream id
// and when (since the bench's epoch).
type benchRec struct {
	alert string
	id    string
	at    time.Duration
}

// benchClient is one connected responder.
type benchClient struct {
	c    *push.Client
	r    int
	team int
	// last is the id of the last event received, for a resume.
	last string
	mu   sync.Mutex
	recs []benchRec
	// err is how the socket ended, if it did while it should not have.
	err error
}

// benchRun holds the responders connected to one target.
type benchRun struct {
	t        *benchTarget
	teams    int
	epoch    time.Time
	clients  []*benchClient
	received atomic.Int64
	lost     atomic.Int64 // sockets lost during the run
	// resumed counts reconnections a hub asked for (too slow, or it
	// could not serve): the responder resumes since its last event, as
	// the dashboard does.
	resumed atomic.Int64
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// connect opens n responders in teams (responder r is in team r%teams)
// with receipts on, waiting for each one's ready.
func connect(ctx context.Context, t *benchTarget, n, teams int, epoch time.Time) (*benchRun, error) {
	run := &benchRun{t: t, teams: teams, epoch: epoch, clients: make([]*benchClient, n)}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run.stop = cancel
	err := parallel(ctx, n, 64, func(gctx context.Context, r int) error {
		ticket, err := t.ticket(gctx, r)
		if err != nil {
			return fmt.Errorf("ticket for responder %d: %w", r, err)
		}
		dctx, dcancel := context.WithTimeout(gctx, 20*time.Second)
		defer dcancel()
		c, err := push.Dial(dctx, t.wsURL(r), ticket, push.ClientOptions{Origin: t.origin, Receipts: true, Duty: true})
		if err != nil {
			return fmt.Errorf("responder %d: %w", r, err)
		}
		for {
			m, err := c.Next(dctx)
			if err != nil {
				c.Close()
				return fmt.Errorf("responder %d before ready: %w", r, err)
			}
			if m.Type == push.TypeReady {
				break
			}
		}
		run.clients[r] = &benchClient{c: c, r: r, team: r % teams}
		return nil
	})
	if err != nil {
		cancel()
		run.closeAll()
		return nil, err
	}
	for _, bc := range run.clients {
		run.wg.Go(func() { run.read(rctx, bc) })
	}
	return run, nil
}

// maxResumes bounds one responder's reconnections in a run.
const maxResumes = 200

// read records every raised event a responder gets until the run stops.
// A socket that ends (the hub closes a slow reader with "reconnect with
// since", or the connection breaks) is reopened with a fresh ticket from
// the last event received, as the dashboard does, at most maxResumes
// times; a refusal (close code 4000 and up) or running out of attempts
// counts as a lost socket.
func (run *benchRun) read(ctx context.Context, bc *benchClient) {
	resumes := 0
	for {
		m, err := bc.c.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Any end but the hub's refusal of the responder (codes
			// 4000 and up: session ended, forbidden) is resumed, as the
			// dashboard does: a slow reader may see its receipt's write
			// fail before it reads the hub's close frame.
			var ce *push.CloseError
			if !errors.As(err, &ce) || ce.Code < 4000 {
				// A failed attempt (a dial or a ticket under load) is
				// tried again after a pause; all count toward the bound.
				resumed := false
				for resumes < maxResumes && !resumed {
					resumes++
					c, rerr := run.resume(ctx, bc)
					if ctx.Err() != nil {
						if c != nil {
							c.Close()
						}
						return
					}
					if rerr != nil {
						err = fmt.Errorf("resume: %w", rerr)
						time.Sleep(100 * time.Millisecond) // pause before the next attempt
						continue
					}
					bc.c.Close()
					bc.mu.Lock()
					bc.c = c
					bc.mu.Unlock()
					run.resumed.Add(1)
					resumed = true
				}
				if resumed {
					continue
				}
			}
			bc.mu.Lock()
			bc.err = err
			bc.mu.Unlock()
			run.lost.Add(1)
			return
		}
		if m.Type == push.TypeEvent && m.Event != nil && m.Event.ID != "" {
			bc.last = m.Event.ID
		}
		if m.Type == push.TypeSnapshot {
			// A resume too far behind for a replay gets the open
			// alerts instead: each is now on the responder's screen.
			run.snapshot(bc, m)
			continue
		}
		if m.Type != push.TypeEvent || m.Event == nil || m.Event.Type != alert.EventRaised {
			continue
		}
		at := time.Since(run.epoch)
		bc.mu.Lock()
		bc.recs = append(bc.recs, benchRec{alert: m.Event.Alert, id: m.Event.ID, at: at})
		bc.mu.Unlock()
		run.received.Add(1)
	}
}

// snapshot records the open alerts of a snapshot a resume brought as
// received now, at the snapshot's stream position.
func (run *benchRun) snapshot(bc *benchClient, m push.Message) {
	var open []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(m.Alerts, &open) != nil {
		return
	}
	at := time.Since(run.epoch)
	bc.last = m.ID
	bc.mu.Lock()
	for _, a := range open {
		bc.recs = append(bc.recs, benchRec{alert: a.ID, id: m.ID, at: at})
	}
	bc.mu.Unlock()
	run.received.Add(int64(len(open)))
}

// ended says how many responders' sockets ended for good and why (the
// first reason seen, and how many share it), "" when none did.
func (run *benchRun) ended() string {
	n, first, same := 0, "", 0
	for _, bc := range run.clients {
		bc.mu.Lock()
		err := bc.err
		bc.mu.Unlock()
		if err == nil {
			continue
		}
		n++
		if first == "" {
			first = err.Error()
		}
		if err.Error() == first {
			same++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d responder sockets ended for good; %d of them: %s", n, same, first)
}

// resume reopens bc's socket since its last event.
func (run *benchRun) resume(ctx context.Context, bc *benchClient) (*push.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ticket, err := run.t.ticket(ctx, bc.r)
	if err != nil {
		return nil, err
	}
	return push.Dial(ctx, run.t.wsURL(bc.r), ticket, push.ClientOptions{Origin: run.t.origin, Since: bc.last, Receipts: true, Duty: true})
}

func (run *benchRun) closeAll() {
	for _, bc := range run.clients {
		if bc != nil {
			bc.mu.Lock()
			c := bc.c
			bc.mu.Unlock()
			c.Close()
		}
	}
}

// close ends every responder and waits for the readers.
func (run *benchRun) close() {
	run.stop()
	run.closeAll()
	run.wg.Wait()
}

// take removes and returns what every responder recorded so far.
func (run *benchRun) take() [][]benchRec {
	out := make([][]benchRec, len(run.clients))
	for i, bc := range run.clients {
		bc.mu.Lock()
		out[i], bc.recs = bc.recs, nil
		bc.mu.Unlock()
	}
	return out
}

// stepResult is what one load step measured.
type stepResult struct {
	Rate       float64 `json:"rate"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Expected   int     `json:"expected"`
	Delivered  int     `json:"delivered"`
	Lost       int     `json:"lost"`
	OutOfOrder int     `json:"out_of_order"`
	Duplicates int     `json:"duplicates"`
	Resumed    int     `json:"resumed"`
	P50        float64 `json:"p50_ms"`
	P90        float64 `json:"p90_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	FanoutP50  float64 `json:"fanout_p50_ms"`
	FanoutP99  float64 `json:"fanout_p99_ms"`
	AnswerP50  float64 `json:"answer_p50_ms"`
	AnswerP99  float64 `json:"answer_p99_ms"`
	CPU        float64 `json:"server_cpu_percent"`
	RSSMiB     float64 `json:"server_rss_mib"`
	RedisCPU   float64 `json:"redis_cpu_percent,omitempty"`
}

// load raises rate requests a second for d, open loop (each request at
// its scheduled time, whether or not earlier ones have answered), over a
// pool of keep-alive connections, then waits for the deliveries and
// measures them.
func (run *benchRun) load(ctx context.Context, hc *http.Client, rate float64, d time.Duration) (stepResult, error) {
	t := run.t
	n := int(math.Round(rate * d.Seconds()))
	res := stepResult{Rate: rate, Requests: n}
	if n == 0 {
		return res, nil
	}
	starts := make([]time.Duration, n)
	answers := make([]time.Duration, n)
	failed := make([]bool, n)
	var errCount atomic.Int64
	interval := time.Duration(float64(time.Second) / rate)
	cpu0, rcpu0 := procCPU(t.pid), procCPU(t.redisPID)
	wall0 := time.Now()
	begin := time.Now()
	deadline := begin.Add(d + 30*time.Second)
	inflight := make(chan struct{}, 8192)
	var wg sync.WaitGroup
	for i := range n {
		due := begin.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w) // pacing the open loop; not waiting for a condition
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return res, errors.New("bench: load step interrupted")
		}
		select {
		case inflight <- struct{}{}:
		default:
			failed[i] = true
			errCount.Add(1)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			starts[i] = time.Since(run.epoch)
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := t.raise(rctx, hc, i)
			cancel()
			answers[i] = time.Since(run.epoch) - starts[i]
			if err != nil {
				failed[i] = true
				errCount.Add(1)
			}
		}()
	}
	wg.Wait()
	res.Errors = int(errCount.Load())

	// Expected deliveries: every answered request reaches every responder
	// of its team (request i goes to team i%teams).
	perTeam := make([]int, run.teams)
	for _, bc := range run.clients {
		perTeam[bc.team]++
	}
	for i := range n {
		if !failed[i] {
			res.Expected += perTeam[i%run.teams]
		}
	}
	// Wait for the deliveries (bounded): 10 s after the last answer.
	drain := time.Now().Add(10 * time.Second)
	for run.received.Load() < int64(res.Expected) && time.Now().Before(drain) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond) // polling a counter the readers bump
	}
	run.received.Store(0)
	res.Resumed = int(run.resumed.Swap(0))
	wall := time.Since(wall0)
	if t.pid > 0 {
		res.CPU = round1((procCPU(t.pid) - cpu0).Seconds() / wall.Seconds() * 100)
		res.RSSMiB = round1(float64(procRSS(t.pid)) / (1 << 20))
	}
	if t.redisPID > 0 {
		res.RedisCPU = round1((procCPU(t.redisPID) - rcpu0).Seconds() / wall.Seconds() * 100)
	}

	recs := run.take()
	var ids []string
	seen := map[string]bool{}
	for _, rs := range recs {
		for _, r := range rs {
			if !seen[r.alert] {
				seen[r.alert] = true
				ids = append(ids, r.alert)
			}
		}
	}
	idx, err := t.resolve(ctx, ids)
	if err != nil {
		return res, fmt.Errorf("bench: match alerts to requests: %w", err)
	}
	var lat []time.Duration
	fanout := make([]time.Duration, n)
	for _, rs := range recs {
		got := map[int]bool{}
		var last streamPos
		for _, r := range rs {
			pos := parsePos(r.id)
			if pos.less(last) {
				res.OutOfOrder++
			}
			last = pos
			i, ok := idx[r.alert]
			if !ok || i < 0 || i >= n || failed[i] {
				continue
			}
			if got[i] {
				res.Duplicates++
				continue
			}
			got[i] = true
			l := r.at - starts[i]
			lat = append(lat, l)
			fanout[i] = max(fanout[i], l)
			res.Delivered++
		}
	}
	res.Lost = max(0, res.Expected-res.Delivered)
	var fan, ans []time.Duration
	for i := range n {
		if !failed[i] {
			ans = append(ans, answers[i])
			if fanout[i] > 0 {
				fan = append(fan, fanout[i])
			}
		}
	}
	res.P50, res.P90, res.P99, res.Max = pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100)
	res.FanoutP50, res.FanoutP99 = pct(fan, 50), pct(fan, 99)
	res.AnswerP50, res.AnswerP99 = pct(ans, 50), pct(ans, 99)
	return res, nil
}

// pct is the p-th percentile of ds in milliseconds (nearest rank).
func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	k := int(math.Ceil(p/100*float64(len(ds)))) - 1
	k = min(max(k, 0), len(ds)-1)
	return math.Round(float64(ds[k])/float64(time.Microsecond)) / 1000
}

// streamPos orders stream ids.
type streamPos struct{ ms, seq uint64 }

func parsePos(id string) streamPos {
	a, b, _ := strings.Cut(id, "-")
	ms, _ := strconv.ParseUint(a, 10, 64)
	seq, _ := strconv.ParseUint(b, 10, 64)
	return streamPos{ms, seq}
}

func (p streamPos) less(q streamPos) bool {
	return cmp.Or(cmp.Compare(p.ms, q.ms), cmp.Compare(p.seq, q.seq)) < 0
}

// newBenchHTTP is the app-API client: keep-alive connections, at most
// conns of them, never through a proxy.
func newBenchHTTP(conns int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat times.
const clockTick = 100

// procCPU is the user plus system CPU time the process has used.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) start after ")".
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTick
}

// procRSS is the process's resident set in bytes.
func procRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// parallel runs f(ctx, i) for i in [0, n) on at most workers goroutines
// and returns the first error (the others see ctx cancelled).
func parallel(ctx context.Context, n, workers int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next  atomic.Int64
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return first
}
