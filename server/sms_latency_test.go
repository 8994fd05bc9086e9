package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/sms"
)

// Load tests of the Twilio webhook over loopback, open loop (request i is
// sent at start + i/rate whether or not earlier ones have answered), on the
// real handler, services and redis-server. TestWebhookLoad and
// TestWebhookFlood check only correctness, in every run; the latency
// targets are judged in sms_latency_timing_test.go, under the timing build
// tag, which scripts/test runs without the race detector.

// loadClient is an HTTP client for load: keep-alive, enough idle
// connections for the open loop's concurrency.
func loadClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 512
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// shot is one prepared request.
type shot struct {
	url, body, sig string
}

// fire sends s and returns how long the full answer took and its status.
func fire(c *http.Client, s shot) (time.Duration, int) {
	req, _ := http.NewRequest("POST", s.url, strings.NewReader(s.body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if s.sig != "" {
		req.Header.Set(sms.SignatureHeader, s.sig)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return time.Since(start), 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode
}

// openLoop calls send(i) for i in [0, n) at rate per second, each in its
// own goroutine, and waits for all. The pacing sleeps are the schedule,
// not a wait for something to happen.
func openLoop(rate float64, n int, send func(i int)) {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		if d := time.Until(start.Add(time.Duration(float64(i) * float64(time.Second) / rate))); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() { send(i) })
	}
	wg.Wait()
}

// result collects latencies and statuses of one kind of request.
type result struct {
	mu       sync.Mutex
	d        []time.Duration
	statuses map[int]int
}

func newResult() *result { return &result{statuses: map[int]int{}} }

func (r *result) add(d time.Duration, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.d = append(r.d, d)
	r.statuses[status]++
}

// pct is the p-th percentile (0 < p ≤ 100) in milliseconds.
func (r *result) pct(p float64) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.d) == 0 {
		return 0
	}
	s := slices.Clone(r.d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}

func (r *result) only(status int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.statuses) == 1 && r.statuses[status] > 0
}

// smsLoadEnv serves the real handler and a trivial one over plain HTTP.
type smsLoadEnv struct {
	*smsEnv
	webhook, trivial *httptest.Server
	client           *http.Client
}

func newSMSLoadEnv(t *testing.T) *smsLoadEnv {
	e := newSMSEnv(t, withSMSLogLevel(slog.LevelInfo))
	l := &smsLoadEnv{smsEnv: e, client: loadClient()}
	l.webhook = httptest.NewServer(e.Handler)
	t.Cleanup(l.webhook.Close)
	reply := sms.Reply("")
	// The trivial handler answers what the webhook answers, reading the
	// body as any form handler must, and does nothing else.
	l.trivial = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(reply)
	}))
	t.Cleanup(l.trivial.Close)
	return l
}

// signedShot is a signed inbound text: a deployment code word from a
// stranger, with a fresh SID, so each is a new triage alert (a stored,
// sealed alert, an event and a scheduled step: the full intake). Texts
// from one enrolled survivor would all join her one open alert, and
// hundreds a second from one phone is not a load anyone sends.
func (l *smsLoadEnv) signedShot(i int) shot {
	form := smsForm(newSID(), strangerNumber(i), smsDeployWord+" SO14 7DZ")
	l.mu.Lock()
	l.bodies[form["Body"]] = true
	l.mu.Unlock()
	return shot{url: l.webhook.URL + "/sms/inbound", body: sms.EncodeForm(form), sig: sms.Sign(smsToken, smsPublicURL+"/sms/inbound", form)}
}

// strangerNumber is the i-th of a thousand numbers on no case (Ofcom's
// drama range, skipping the numbers the SMS tests enrol): texts from one
// unknown number within 30 minutes join one triage alert, so a test that
// wants a new alert per text sends each from its own number.
func strangerNumber(i int) string {
	for {
		n := fmt.Sprintf("+447700900%03d", i%1000)
		if n != smsSurvivor && n != smsLinked && n != smsResponder && n != smsStranger {
			return n
		}
		i++
	}
}

// forgedShot is a well-formed inbound text from the enrolled survivor with
// her duress word, under a random signature: it would raise the most
// urgent alert if it were ever believed.
func (l *smsLoadEnv) forgedShot() shot {
	b := make([]byte, 20)
	rand.Read(b)
	form := smsForm(newSID(), smsSurvivor, smsDuressWord+" SO15 2AB")
	l.mu.Lock()
	l.bodies[form["Body"]] = true
	l.mu.Unlock()
	return shot{url: l.webhook.URL + "/sms/inbound", body: sms.EncodeForm(form), sig: base64.StdEncoding.EncodeToString(b)}
}

// warm sends a few requests of each kind so connections, pools and
// scripts are ready before anything is measured.
func (l *smsLoadEnv) warm(tb testing.TB, n int) {
	for i := range n {
		if _, st := fire(l.client, l.signedShot(i)); st != 200 {
			tb.Fatalf("warm-up webhook answered %d", st)
		}
		fire(l.client, shot{url: l.trivial.URL})
	}
}

// latencyRun measures the webhook and the trivial handler at rate each,
// interleaved in one open loop (so both see the same machine, the same
// moment), n requests each.
func (l *smsLoadEnv) latencyRun(rate float64, n int) (webhook, trivial *result) {
	webhook, trivial = newResult(), newResult()
	shots := make([]shot, 2*n)
	for i := range shots {
		if i%2 == 0 {
			shots[i] = l.signedShot(i / 2)
		} else {
			shots[i] = shot{url: l.trivial.URL, body: shots[i-1].body}
		}
	}
	openLoop(2*rate, 2*n, func(i int) {
		d, st := fire(l.client, shots[i])
		if i%2 == 0 {
			webhook.add(d, st)
		} else {
			trivial.add(d, st)
		}
	})
	return webhook, trivial
}

// webhookLatency runs the webhook beside a trivial handler, open loop,
// and checks that every answer is 200. full: 5,000 requests at 500/s (10 s);
// else 300 at 100/s, a size the race detector's slowdown keeps meaningful.
func webhookLatency(t *testing.T, full bool) (webhook, trivial *result, rate float64, n int) {
	l := newSMSLoadEnv(t)
	rate, n = 500.0, 5000 // 10 s at 500/s
	if !full {
		// The race detector slows the handler several times over: a
		// lower rate keeps the check of statuses meaningful.
		rate, n = 100, 300
	}
	l.warm(t, 100)
	webhook, trivial = l.latencyRun(rate, n)
	if !webhook.only(200) || !trivial.only(200) {
		t.Fatalf("statuses: webhook %v, trivial %v; want only 200", webhook.statuses, trivial.statuses)
	}
	wp50, wp99, tp50, tp99 := webhook.pct(50), webhook.pct(99), trivial.pct(50), trivial.pct(99)
	t.Logf("webhook at %.0f/s, %d requests: p50 %.2f ms, p99 %.2f ms; trivial handler in the same run: p50 %.2f ms, p99 %.2f ms; p99 ratio %.2f (target ≤ 2)",
		rate, n, wp50, wp99, tp50, tp99, wp99/tp99)
	return webhook, trivial, rate, n
}

// TestWebhookLoad: under load every webhook and every trivial request is
// answered 200. Latency is judged only by TestWebhookLatencyTiming, under
// the timing build tag: a ratio of latencies flakes in the race run.
func TestWebhookLoad(t *testing.T) {
	webhookLatency(t, false)
}

// webhookFlood sends forged webhooks (10,000 at 500/s when full) in
// alternating 1 s windows beside signed ones at 100/s, checks that every
// forged one got 403 and raised nothing and every signed one got 200, and
// returns the signed webhooks' p99 without and during the flood.
func webhookFlood(t *testing.T, full bool) (q99, f99 float64) {
	l := newSMSLoadEnv(t)
	// Short windows, alternating, so bursts of machine noise fall on both
	// conditions alike: 20 × 1 s with the flood (10,000 forged at 500/s)
	// and 20 × 1 s without, signed webhooks at 100/s throughout.
	windows, forgedPerWindow, signedRate := 20, 500, 100.0
	if !full {
		windows, forgedPerWindow, signedRate = 2, 500, 25
	}
	const window = time.Second
	l.warm(t, 50)
	ctx := context.Background()
	before, err := l.Alerts.List(ctx, smsWatcher(), "recent")
	if err != nil {
		t.Fatal(err)
	}

	quiet, flooded, forged := newResult(), newResult(), newResult()
	signedPerWindow := int(signedRate * window.Seconds())
	signed := 0
	for w := range 2 * windows {
		flood := w%2 == 1
		res := quiet
		if flood {
			res = flooded
		}
		shots := make([]shot, signedPerWindow)
		for i := range shots {
			// Numbers from 500 on: the warm-up's texts (from 0 on)
			// opened alerts that these would otherwise join.
			shots[i] = l.signedShot(500 + signed + i)
		}
		signed += signedPerWindow
		var wg sync.WaitGroup
		if flood {
			fshots := make([]shot, forgedPerWindow)
			for i := range fshots {
				fshots[i] = l.forgedShot()
			}
			wg.Go(func() {
				openLoop(float64(forgedPerWindow)/window.Seconds(), forgedPerWindow, func(i int) {
					forged.add(fire(l.client, fshots[i]))
				})
			})
		}
		openLoop(signedRate, signedPerWindow, func(i int) { res.add(fire(l.client, shots[i])) })
		wg.Wait()
	}

	if n := len(forged.d); n != windows*forgedPerWindow || !forged.only(403) {
		t.Errorf("forged: %d sent, statuses %v; want %d, all 403", n, forged.statuses, windows*forgedPerWindow)
	}
	if !quiet.only(200) || !flooded.only(200) {
		t.Errorf("signed statuses %v / %v, want only 200", quiet.statuses, flooded.statuses)
	}
	// Forged texts (the
	// survivor's duress word) must have added nothing: no duress anywhere.
	after, err := l.Alerts.List(ctx, smsWatcher(), "recent")
	if err != nil {
		t.Fatal(err)
	}
	// Texts from one number within 30 minutes are one alert: one new
	// alert per number the measured texts came from that the warm-up's
	// did not already use.
	warmed, numbers := map[string]bool{}, map[string]bool{}
	for i := range 50 {
		warmed[strangerNumber(i)] = true
	}
	for i := range signed {
		if n := strangerNumber(500 + i); !warmed[n] {
			numbers[n] = true
		}
	}
	if got := len(after) - len(before); got != len(numbers) {
		t.Errorf("%d new alerts, want %d (one per number of the %d signed texts)", got, len(numbers), signed)
	}
	for _, a := range after {
		if a.Duress() {
			t.Errorf("alert %s is duress: a forged webhook was believed", a.ID)
		}
	}

	q99, f99 = quiet.pct(99), flooded.pct(99)
	t.Logf("forged: %d at %d/s, all 403: %v (p50 %.2f ms, p99 %.2f ms)", len(forged.d), int(float64(forgedPerWindow)/window.Seconds()), forged.only(403), forged.pct(50), forged.pct(99))
	t.Logf("signed webhook at %.0f/s: without flood p50 %.2f ms p99 %.2f ms (%d); during flood p50 %.2f ms p99 %.2f ms (%d); p99 ratio %.2f (target ≤ 1.5)",
		signedRate, quiet.pct(50), q99, len(quiet.d), flooded.pct(50), f99, len(flooded.d), f99/q99)
	return q99, f99
}

// TestWebhookFlood: forged webhooks are all refused with 403 and raise
// nothing, and signed ones are all answered, during a flood. The latency
// during the flood is judged only by TestWebhookFloodTiming (timing tag).
func TestWebhookFlood(t *testing.T) {
	webhookFlood(t, false)
}
