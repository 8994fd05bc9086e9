package store

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/push"
	"waymark/staff"
)

// benchAuth takes any well-formed ticket as a responder of team north.
type benchAuth struct{}

func (benchAuth) Redeem(ctx context.Context, ticket string) (*staff.Principal, time.Time, error) {
	return &staff.Principal{StaffID: "s_" + strings.ToLower(ticket[:8]), Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"north"}, SessionTag: ticket}, time.Time{}, nil
}

func (benchAuth) Check(ctx context.Context, p *staff.Principal) (time.Time, error) {
	return time.Time{}, nil
}

type benchReceipts struct{ s *testStore }

func (r benchReceipts) SaveReceipts(ctx context.Context, rs []push.Receipt) error {
	out := make([]Receipt, len(rs))
	for i, x := range rs {
		out[i] = Receipt{Alert: x.Alert, Staff: x.Staff, Teams: x.Teams, At: x.At, Sent: x.Sent}
	}
	return r.s.SaveReceipts(ctx, out)
}

// BenchmarkHubXAddToReceipt measures, on a real redis-server with
// appendfsync always, the time from appending an event to the stream (as
// the alert commit script does) to each responder's client reading it,
// through the real hub and client with receipts on. One event at a time;
// p50/p99 over b.N events are reported in ms.
func BenchmarkHubXAddToReceipt(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("responders=%d", n), func(b *testing.B) { benchHub(b, n) })
	}
}

func benchHub(b *testing.B, responders int) {
	r := testenv.StartRedis(b, testenv.RedisOptions{AOF: true})
	s, err := testOpen(Options{Tenant: "bench", URL: r.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	h, err := push.New(push.Options{Stream: s, Auth: benchAuth{}, Receipts: benchReceipts{s}})
	if err != nil {
		b.Fatal(err)
	}
	var allowed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Accept(w, r, allowed, nil) }))
	defer srv.Close()
	allowed = []string{srv.URL}
	hctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { h.Run(hctx); close(done) }()
	defer func() { stop(); <-done }()

	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws"
	clients := make([]*push.Client, responders)
	for i := range clients {
		var c *push.Client
		for {
			// The hub may not be running yet for the first dial.
			c, err = push.Dial(ctx, url, randid.Token(18), push.ClientOptions{Origin: srv.URL, Receipts: true})
			if err == nil {
				break
			}
			<-time.After(10 * time.Millisecond)
		}
		for {
			m, err := c.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if m.Type == push.TypeReady {
				break
			}
		}
		clients[i] = c
		defer c.Close()
	}
	alertID := randid.New("a_", 20)
	s.RDB.HSet(ctx, s.k.AlertRecord(alertID), "team", "north", "raised_at", time.Now().UnixMilli())

	got := make(chan time.Time, responders)
	var wg sync.WaitGroup
	rctx, rstop := context.WithCancel(ctx)
	for _, c := range clients {
		wg.Go(func() {
			for {
				m, err := c.Next(rctx)
				if err != nil {
					return
				}
				if m.Type == push.TypeEvent {
					got <- time.Now()
				}
			}
		})
	}
	lat := make([]time.Duration, 0, b.N*responders)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := s.RDB.XAdd(ctx, &redis.XAddArgs{Stream: s.k.Events(), Values: []any{
			"type", "raised", "alert", alertID, "team", "north", "case", "", "priority", 3, "at", start.UnixMilli(),
		}}).Err(); err != nil {
			b.Fatal(err)
		}
		for range responders {
			select {
			case at := <-got:
				lat = append(lat, at.Sub(start))
			case <-time.After(10 * time.Second):
				b.Fatal("event not delivered within 10s")
			}
		}
	}
	b.StopTimer()
	rstop()
	for _, c := range clients {
		c.Close()
	}
	wg.Wait()
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50_ms")
	b.ReportMetric(at(0.99), "p99_ms")
	b.ReportMetric(at(1)-1e-9, "max_ms")
}
