package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/testenv"
	"waymark/push"
)

// TestReceiptsSurviveRedisRestart (issue 16): Redis is killed the moment
// both responders' dashboards have received a new alert (within about
// 20 ms of its raise), while their receipts are on their way to Redis,
// and restarted 3 s later. Their receipts are kept and stored once Redis
// is back, nobody who saw the alert is paged, and no step beyond the
// policy's fires early: the next step is 20 minutes away. Three runs,
// each with its own Redis and instance, and a fourth with Redis away for
// 8 s, past the receipt check's due time.
func TestReceiptsSurviveRedisRestart(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	bin := faultBinary(t)
	policy := faultPolicyFile(`
  steps:
    - {whom: [oncall:primary, oncall:secondary], how: [dashboard, sms], wait: 20m}
    - {whom: [duty-manager], how: [sms], wait: 20m}
    - {whom: [fallback], how: [voice], wait: 20m}
`)
	for run, away := range []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second, 8 * time.Second} {
		t.Run(fmt.Sprintf("run %d, Redis away %v", run+1, away), func(t *testing.T) {
			e := newFaultEnv(t, bin, policy)
			p := e.start("a")
			var got []chan struct{}
			for _, who := range []string{"prim", "sec"} {
				got = append(got, e.dashboard(t, p, who))
			}
			waitFor(t, 5*time.Second, "both responders on duty", func() bool {
				on, err := presence{store: e.app.store.Hub}.OnDashboard(context.Background(), "north")
				return err == nil && on[e.ids["prim"]] && on[e.ids["sec"]]
			})
			t0 := time.Now()
			if _, code := e.raise(p); code != 200 {
				t.Fatalf("raise = %d", code)
			}
			for _, g := range got {
				select {
				case <-g:
				case <-time.After(5 * time.Second):
					t.Fatal("a dashboard never received the alert")
				}
			}
			e.redis.Kill()
			t.Logf("Redis killed %v after the raise", time.Since(t0).Round(time.Millisecond))
			time.Sleep(away)
			e.redis.Start()
			// Past the receipt wait, the late checks' settling and a few
			// scheduler ticks.
			time.Sleep(alert.ReceiptWait + alert.ReceiptSettle + 5*time.Second)
			open := e.openAlerts()
			if len(open) != 1 {
				t.Fatalf("%d open alerts after the restart; want the one raised", len(open))
			}
			a := open[0]
			for _, who := range []string{"prim", "sec"} {
				at, ok, err := e.app.store.Hub.SeenAt(context.Background(), a.ID, e.ids[who])
				if err != nil || !ok {
					t.Errorf("%s's receipt: stored %v, %v; want stored", who, ok, err)
				} else if at.Before(t0) || at.After(t0.Add(3*time.Second)) {
					t.Errorf("%s's receipt at %v, %v after the raise; want its arrival, before Redis came back", who, at, at.Sub(t0))
				}
			}
			for _, c := range e.rec.all() {
				t.Errorf("%s to %s %v after the raise: nobody should be paged (both saw it; the next step is 20 minutes away)", c.Kind, c.To, c.At.Sub(t0).Round(time.Millisecond))
			}
			if got := len(steps(a)); got != 1 {
				t.Errorf("%d escalation steps ran; want the first only", got)
			}
		})
	}
}

// dashboard signs who in on p and keeps a live socket that confirms every
// event it receives, as a dashboard does, until the test ends. The
// channel hears of each event once its receipt is sent.
func (e *faultEnv) dashboard(t *testing.T, p *faultProc, who string) chan struct{} {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	st, body := call(t, c, "POST", p.base+"/v1/auth/login", map[string]string{
		"username": who, "password": "a long enough password", "totp": mustCode(t, e.secrets[who])})
	if st != 200 {
		t.Fatalf("login %s = %d %s", who, st, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	ws, err := push.Dial(dctx, wsURL(&instance{base: p.base}), ticket(t, &instance{base: p.base}, c),
		push.ClientOptions{Origin: p.base, Duty: true, Receipts: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ready := make(chan struct{})
	got := make(chan struct{}, 100)
	go func() {
		once := false
		for {
			m, err := ws.Next(ctx)
			if err != nil {
				return
			}
			switch {
			case m.Type == push.TypeReady && !once:
				once = true
				close(ready)
			case m.Type == push.TypeEvent:
				got <- struct{}{}
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s's dashboard never became ready", who)
	}
	return got
}
