package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/records"
	"waymark/staff"
	"waymark/store/internal/kv"
	"waymark/wallclock"
)

// gapSampler is one instance's sampler on st: team south, on call as
// primary only when onCall says so.
func gapSampler(t *testing.T, st *testStore, clk *testclock.Clock, onCall func(time.Time) bool) *records.GapSampler {
	t.Helper()
	g, err := records.NewGapSampler(records.GapSamplerOptions{
		Store:   st,
		Teams:   func(context.Context) ([]string, error) { return []string{"south"}, nil },
		Primary: func(_ context.Context, _ string, at time.Time) (bool, error) { return onCall(at), nil },
		Every:   5 * time.Minute,
		Now:     clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func counters(t *testing.T, s *testStore) map[string]int64 {
	t.Helper()
	m, err := s.ReportCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sampleEvery runs the samplers (at once, as instances would) at each
// five-minute step in [from, to).
func sampleEvery(t *testing.T, clk *testclock.Clock, from, to time.Time, gs ...*records.GapSampler) {
	t.Helper()
	clk.Set(from)
	for clk.Now().Before(to) {
		var wg sync.WaitGroup
		for _, g := range gs {
			wg.Go(func() {
				if _, err := g.Sample(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		clk.Advance(5 * time.Minute)
	}
}

func TestGapSamplerCountsEachSlotOnce(t *testing.T) {
	london := wallclock.London()
	nobody := func(time.Time) bool { return false }
	officeHours := func(at time.Time) bool { h := at.In(london).Hour(); return h >= 9 && h < 17 }
	for _, tc := range []struct {
		name     string
		onCall   func(time.Time) bool
		from, to time.Time
		want     map[string]int64 // gap seconds by London day
	}{
		{"an hour with nobody on call", nobody,
			time.Date(2026, 7, 1, 10, 2, 0, 0, london), time.Date(2026, 7, 1, 11, 2, 0, 0, london),
			map[string]int64{"2026-07-01": 3600}},
		{"the clocks go back: a 25-hour day", nobody,
			time.Date(2026, 10, 24, 23, 0, 30, 0, london), time.Date(2026, 10, 26, 1, 0, 30, 0, london),
			map[string]int64{"2026-10-24": 3600, "2026-10-25": 25 * 3600, "2026-10-26": 3600}},
		{"the clocks go back, on call 09:00-17:00", officeHours,
			time.Date(2026, 10, 25, 0, 0, 30, 0, london), time.Date(2026, 10, 26, 0, 0, 30, 0, london),
			map[string]int64{"2026-10-25": 17 * 3600}},
		{"the clocks go forward: a 23-hour day", nobody,
			time.Date(2026, 3, 29, 0, 0, 30, 0, london), time.Date(2026, 3, 30, 0, 0, 30, 0, london),
			map[string]int64{"2026-03-29": 23 * 3600}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAlertEnv(t, testenv.RedisOptions{})
			s2 := e.secondStore()
			// Two instances sample every slot, and a third is a restart
			// of the first, sampling the same slots again.
			a, b := gapSampler(t, e.s, e.clk, tc.onCall), gapSampler(t, s2, e.clk, tc.onCall)
			sampleEvery(t, e.clk, tc.from, tc.to, a, b)
			sampleEvery(t, e.clk, tc.from, tc.to, gapSampler(t, e.s, e.clk, tc.onCall))
			got := map[string]int64{}
			for k, v := range counters(t, e.s) {
				if p := strings.Split(k, "|"); p[0] == "g" {
					got[p[1]] += v
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("gap seconds = %v, want %v", got, tc.want)
			}
			for day, want := range tc.want {
				if got[day] != want {
					t.Errorf("gap seconds on %s = %d (%.2f h), want %d", day, got[day], float64(got[day])/3600, want)
				}
			}
		})
	}
}

func TestGapSamplerCountsRealAlertsRaisedInAGap(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	london := wallclock.London()
	start := time.Date(2026, 7, 1, 10, 0, 30, 0, london)
	// Nobody on call 10:00-10:15; covered after.
	onCall := func(at time.Time) bool { return !at.Before(time.Date(2026, 7, 1, 10, 15, 0, 0, london)) }
	put := func(id string, at time.Time, mode alert.Mode) {
		if err := e.s.RDB.HSet(ctx, e.s.k.AlertRecord(id), afRaisedAt, kv.MS(at), afMode, string(mode)).Err(); err != nil {
			t.Fatal(err)
		}
		if err := e.s.RDB.ZAdd(ctx, e.s.k.teamAlerts("south"), redisZ(at, id)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	put("a_gapreal1xxxxxxxxxxx", start.Add(time.Minute), alert.ModeReal)
	put("a_gapreal2xxxxxxxxxxx", start.Add(7*time.Minute), alert.ModeReal)
	put("a_gapdrillxxxxxxxxxxx", start.Add(8*time.Minute), alert.ModeDrill)
	put("a_gappractxxxxxxxxxxx", start.Add(9*time.Minute), alert.ModePractice)
	put("a_coveredxxxxxxxxxxxx", start.Add(20*time.Minute), alert.ModeReal)
	a, b := gapSampler(t, e.s, e.clk, onCall), gapSampler(t, e.secondStore(), e.clk, onCall)
	sampleEvery(t, e.clk, start, start.Add(time.Hour), a, b)
	m := counters(t, e.s)
	if got := m[records.GapField("2026-07-01", "south")]; got != 900 {
		t.Errorf("gap seconds = %d, want 900", got)
	}
	if got := m[records.GapAlertsField("2026-07-01", "south")]; got != 2 {
		t.Errorf("real alerts during the gap = %d, want 2", got)
	}
	q, _ := records.ParseReportQuery("2026-07-01", "2026-07-31", "", e.clk.Now())
	r := records.BuildReport(q, m)
	if len(r.RotaGaps) != 1 || r.RotaGaps[0] != (records.RotaGap{Quarter: "2026-Q3", Area: "south", Hours: 0.3, AlertsDuringGap: "<5"}) {
		t.Errorf("report rota gaps = %+v", r.RotaGaps)
	}
}

func TestUnmetSearchesAreCountedWithoutThePostcode(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	recs := newRecords(t, e, nil, 24*time.Hour)
	at := time.Date(2026, 7, 1, 23, 30, 0, 0, time.UTC) // 00:30 on 2 July in London
	for range 2 {
		if err := recs.CountUnmetSearch(ctx, at, "south", []string{"refuge", "lgbt", "refuge"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := recs.CountUnmetSearch(ctx, at, "", []string{"refuge"}); err != nil {
		t.Fatal(err)
	}
	m := counters(t, e.s)
	want := map[string]int64{"u|2026-07-02|south|refuge": 2, "u|2026-07-02|south|lgbt": 2, "u|2026-07-02||refuge": 1}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, m[k], v, m)
		}
	}
	admin := &staff.Principal{StaffID: "s_admin", Roles: []staff.Role{staff.RoleAdmin}}
	q, _ := records.ParseReportQuery("2026-07-01", "2026-07-31", "", e.clk.Now())
	r, err := recs.Report(ctx, admin, q)
	if err != nil {
		t.Fatal(err)
	}
	if r.UnmetSearches != "5" || len(r.UnmetByCategory) != 2 {
		t.Errorf("unmet %q by category %+v", r.UnmetSearches, r.UnmetByCategory)
	}
}

func redisZ(at time.Time, member string) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: member}
}
