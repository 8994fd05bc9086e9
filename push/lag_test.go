package push

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/alert"
)

// closedCount reads waymark_ws_closed_total{reason} of th's hub.
func closedCount(t *testing.T, th *testHub, reason string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(th.h.metrics.closed)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestHeartbeatFrames(t *testing.T) {
	th := newTestHub(t, Limits{Heartbeat: time.Second}, nil)
	c, _ := th.dial(t, responder("s_alice", "north"), "")
	// Two heartbeats in a row, with nothing else happening: the page can
	// tell a quiet hub from a dead one.
	start := time.Now()
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m, err := c.next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("heartbeat %d: %v", i+1, err)
		}
		if m.Type != TypeHeartbeat {
			t.Fatalf("frame %d is %q, want a heartbeat", i+1, m.Type)
		}
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("two heartbeats took %v with a 1 s period", el)
	}
}

// TestLaggingSocketClosed: a client that stops reading is let go within
// the lag limit (plus a heartbeat period to notice), however much the
// kernel's buffers could still absorb, and the close is counted; a client
// that reads stays.
func TestLaggingSocketClosed(t *testing.T) {
	lim := Limits{Heartbeat: time.Second, LagLimit: 2 * time.Second}
	th := newTestHub(t, lim, nil)
	stuck, _ := th.dial(t, responder("s_stuck", "north"), "")
	live, _ := th.dial(t, responder("s_live", "north"), "")
	// The live client reads (and so answers pings) in the background.
	got := make(chan string, 4096)
	go func() {
		for {
			m, err := live.Next(context.Background())
			if err != nil {
				close(got)
				return
			}
			if m.Event != nil {
				got <- m.Event.ID
			}
		}
	}()

	// Events flow at 200 a second, far less than the kernel buffers
	// hold: only the unanswered pings show that the stuck client is
	// behind.
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	// Noticing takes up to one heartbeat and one sweep tick; the close
	// handshake waits up to a second for the client's answer.
	bound := lim.LagLimit + lim.Heartbeat + 2*time.Second + 500*time.Millisecond
	deadline := start.Add(bound + 2*time.Second)
	for th.h.Connected() == 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the stuck socket was still connected %v after it stopped reading (%d events behind)", time.Since(start), sent)
		}
		<-tick.C
		th.stream.add(alert.EventRaised, "north", "", "a_flow")
		sent++
	}
	took := time.Since(start)
	t.Logf("stuck socket dropped %v after it stopped reading, %d events behind", took, sent)
	if took > bound {
		t.Errorf("dropped after %v; want within %v (lag limit %v, heartbeat %v, sweep tick and close wait 2 s, 0.5 s slack)", took, bound, lim.LagLimit, lim.Heartbeat)
	}
	if n := closedCount(t, th, "lag"); n != 1 {
		t.Errorf("waymark_ws_closed_total{reason=lag} = %v, want 1", n)
	}
	// Its buffers were not full: the close frame reached it, behind
	// everything queued before, with the code that says "resume with
	// since". (Its pongs would go to a closed socket now: not sent.)
	stuck.ws.SetPingHandler(func(string) error { return nil })
	if code := closeCode(t, stuck); code != CloseTryAgain {
		t.Errorf("stuck client's close code = %d, want %d", code, CloseTryAgain)
	}
	// The live one is still served.
	ev := th.stream.add(alert.EventRaised, "north", "", "a_after")
	timeout := time.After(5 * time.Second)
	for {
		select {
		case id, ok := <-got:
			if !ok {
				t.Fatal("the live client was disconnected")
			}
			if id == ev.ID {
				return
			}
		case <-timeout:
			t.Fatal("the live client did not get the next event")
		}
	}
}
