package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/seal"
)

// BenchmarkRaise measures a raise end to end through the alert service on
// a real redis-server with appendonly yes and appendfsync always, as
// production runs: for an app panic, the case's state read (two pipelined
// round trips) and the one commit script. It reports p50 and p99 per raise.
//
//	go test -run '^$' -bench Raise ./store/
func BenchmarkRaise(b *testing.B) {
	for _, bc := range []struct {
		name string
		join bool
	}{
		{"app-new-alert", false},
		{"app-join-open-alert", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newBenchEnv(b)
			ctx := context.Background()
			joinCase := e.newCase()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				caseID := joinCase
				if !bc.join {
					b.StopTimer()
					caseID = e.newCase()
					b.StartTimer()
				}
				start := time.Now()
				err := e.svc.App(ctx, caseID, alert.AppSignal{RequestID: randid.Token(16), Kind: alert.KindPanic})
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}

func newBenchEnv(b *testing.B) *alertEnv {
	b.Helper()
	r := testenv.StartRedis(b, testenv.RedisOptions{AOF: true})
	kr, err := seal.NewKeyring([]seal.Key{{ID: "k1", Secret: seal.NewRandomKey()}})
	if err != nil {
		b.Fatal(err)
	}
	ix, err := seal.NewIndex(seal.NewRandomKey(), 8)
	if err != nil {
		b.Fatal(err)
	}
	clk := testclock.New(time.Now())
	s, err := testOpen(Options{Tenant: "bench", URL: r.URL(), Now: clk.Now,
		Crypto: Crypto{Keyring: kr, Index: ix, TagKey: seal.NewRandomKey()}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	e := &alertEnv{t: b, s: s, r: r, clk: clk}
	e.svc = e.service(s)
	return e
}
