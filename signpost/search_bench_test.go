package signpost_test

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"waymark/signpost"
	"waymark/signpost/oruk"
)

type benchFixture struct {
	ix      *signpost.Index
	queries map[string][]signpost.Query
}

var benchOnce sync.Once
var bench benchFixture

func benchSetup(b *testing.B) benchFixture {
	benchOnce.Do(func() {
		pc := testPostcodes(b)
		national, err := oruk.Seed()
		if err != nil {
			b.Fatal(err)
		}
		svcs := append(signpost.GenerateDirectory(pc, 50_000), national...)
		start := time.Now()
		bench.ix = signpost.NewIndex(svcs, pc, mustHolidays(b))
		b.Logf("NewIndex over %d services: %v", bench.ix.Len(), time.Since(start))

		rng := rand.New(rand.NewPCG(7, 8))
		categories := signpost.Categories()
		sectors := signpost.ValidSectors(pc)
		q := map[string][]signpost.Query{}
		for range 2000 {
			sec := sectors[rng.IntN(len(sectors))]
			pt, _ := pc.Sector(sec)
			cat := categories[rng.IntN(len(categories))]
			q["postcode+category"] = append(q["postcode+category"], signpost.Query{Near: sec, Categories: []signpost.Category{cat}})
			q["postcode+open_now"] = append(q["postcode+open_now"], signpost.Query{Near: strings.Fields(sec)[0], OpenNow: true})
			lat, lon := pt.Lat+0.003, pt.Lon-0.004
			q["point+language"] = append(q["point+language"], signpost.Query{Lat: &lat, Lon: &lon, Language: "ur"})
			q["postcode+text"] = append(q["postcode+text"], signpost.Query{Near: sec, Text: []string{"refuge", "counselling support", "legal advice", "young"}[rng.IntN(4)]})
			q["text only"] = append(q["text only"], signpost.Query{Text: []string{"harbour refuge", "counselling", "wellbeing", "legal advice"}[rng.IntN(4)]})
			q["postcode+refuge 50km"] = append(q["postcode+refuge 50km"], signpost.Query{Near: sec, Categories: []signpost.Category{signpost.CategoryRefuge}, RadiusKm: 50})
		}
		for _, k := range []string{"postcode+category", "postcode+open_now", "point+language", "postcode+text", "text only", "postcode+refuge 50km"} {
			q["mixed"] = append(q["mixed"], q[k]...)
		}
		rand.New(rand.NewPCG(9, 10)).Shuffle(len(q["mixed"]), func(i, j int) { q["mixed"][i], q["mixed"][j] = q["mixed"][j], q["mixed"][i] })
		bench.queries = q
	})
	if bench.ix == nil {
		b.Fatal("bench setup failed")
	}
	return bench
}

// BenchmarkSearch measures typical queries over 50,000 generated services
// plus the national seed.
func BenchmarkSearch(b *testing.B) {
	fx := benchSetup(b)
	now := time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC)
	for _, kind := range []string{"postcode+category", "postcode+open_now", "point+language", "postcode+text", "text only", "postcode+refuge 50km", "mixed"} {
		qs := fx.queries[kind]
		b.Run(strings.ReplaceAll(kind, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := fx.ix.Search(qs[i%len(qs)], now); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkSearchLatency runs the mixed queries one at a time and reports
// the 50th and 99th percentiles of single searches, both in wall-clock time
// (p50-ns, p99-ns) and in the thread's CPU time (cpu-p50-ns, cpu-p99-ns),
// which a busy shared machine does not inflate. Run it with
// -benchtime=20000x for 20,000 queries.
func BenchmarkSearchLatency(b *testing.B) {
	fx := benchSetup(b)
	qs := fx.queries["mixed"]
	now := time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start, startCPU := time.Now(), threadCPU()
		if _, err := fx.ix.Search(qs[i%len(qs)], now); err != nil {
			b.Fatal(err)
		}
		cpu = append(cpu, threadCPU()-startCPU)
		wall = append(wall, time.Since(start))
		i++
	}
	report := func(ds []time.Duration, prefix string) {
		slices.Sort(ds)
		pct := func(p float64) float64 { return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Nanoseconds()) }
		b.ReportMetric(pct(0.50), prefix+"p50-ns")
		b.ReportMetric(pct(0.99), prefix+"p99-ns")
	}
	report(wall, "")
	report(cpu, "cpu-")
}
