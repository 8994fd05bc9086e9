package alert

import (
	"strings"
	"testing"
	"time"
)

func TestCountOf(t *testing.T) {
	for n, want := range map[int64]Count{0: "0", 1: "<5", 4: "<5", 5: "5", 1234: "1234"} {
		if got := CountOf(n); got != want {
			t.Errorf("CountOf(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOutOfHours(t *testing.T) {
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-11-23T09:00:00Z", false}, // Monday 09:00 GMT
		{"2026-11-23T08:59:59Z", true},
		{"2026-11-23T17:00:00Z", true},
		{"2026-07-06T08:30:00Z", false}, // Monday 09:30 BST
		{"2026-07-06T16:30:00Z", true},  // 17:30 BST
		{"2026-11-21T12:00:00Z", true},  // Saturday
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := OutOfHours(at); got != tc.want {
			t.Errorf("OutOfHours(%s) = %t, want %t", tc.at, got, tc.want)
		}
	}
}

func TestLatencyBuckets(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 40 * time.Second, 3 * time.Minute, 2 * time.Hour, 30 * time.Hour} {
		got := bucketSeconds(latencyBucket(d))
		if ratio := got / d.Seconds(); ratio < 0.85 || ratio > 1.15 {
			t.Errorf("%v reads back as %.1f s", d, got)
		}
	}
	if latencyBucket(300*time.Millisecond) != 0 {
		t.Error("sub-second latency not in bucket 0")
	}
}

func TestParseReportQuery(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to, area string
		wantFrom       string
		wantTo         string // exclusive
		bad            string
	}{
		{"", "", "", "2025-11-23", "2026-11-23", ""},
		{"2026-07-01", "2026-09-30", "south", "2026-07-01", "2026-10-01", ""},
		{"2026-10-01", "2026-09-30", "", "", "", "from"},
		{"01/10/2026", "", "", "", "", "from"},
		{"", "tomorrow", "", "", "", "to"},
		{"", "", "a|b", "", "", "area"},
		{"2000-01-01", "2026-01-01", "", "", "", "from"},
	} {
		q, err := ParseReportQuery(tc.from, tc.to, tc.area, now)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ParseReportQuery(%q, %q, %q) = %v, want a problem with %s", tc.from, tc.to, tc.area, err, tc.bad)
			}
			continue
		}
		if err != nil || q.From.Format(time.DateOnly) != tc.wantFrom || q.To.Format(time.DateOnly) != tc.wantTo {
			t.Errorf("ParseReportQuery(%q, %q) = %v..%v, %v", tc.from, tc.to, q.From, q.To, err)
		}
	}
}

func TestBuildReportWithholdsWhatWouldGiveSmallCountsAway(t *testing.T) {
	counters := map[string]int64{}
	add := func(day, team, outcome string, ooh bool, n int64, claim time.Duration) {
		s := Summary{Day: day, Team: team, Source: "app", Kind: "panic", Risk: "high", Outcome: outcome,
			OutOfHours: ooh, Receipt: -1, Claim: claim, Contact: -1}
		for _, f := range CountFields(s) {
			counters[f] += n
		}
	}
	add("2026-07-01", "south", "safe", false, 20, time.Minute)
	add("2026-07-02", "south", "police-attended", true, 3, 2*time.Minute)
	add("2026-10-05", "north", "safe", false, 2, time.Minute)
	counters["junk|field"] = 9
	counters["n|not-a-date|x|y|z|w|v|0|0"] = 9
	q := ReportQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, London()), To: time.Date(2027, 1, 1, 0, 0, 0, 0, London())}
	r := BuildReport(q, counters)
	want := []QuarterArea{{"2026-Q3", "south", "23"}, {"2026-Q4", "north", "<5"}}
	if len(r.ByQuarterArea) != 2 || r.ByQuarterArea[0] != want[0] || r.ByQuarterArea[1] != want[1] {
		t.Errorf("by quarter and area = %+v", r.ByQuarterArea)
	}
	if r.Alerts != "25" || r.OutOfHours.Count != "<5" || r.OutOfHours.Percent != "" {
		t.Errorf("total %q, out of hours %+v", r.Alerts, r.OutOfHours)
	}
	if r.TimeToClaim.P50Seconds == nil || *r.TimeToClaim.P50Seconds < 50 || *r.TimeToClaim.P50Seconds > 70 {
		t.Errorf("median claim %v", r.TimeToClaim.P50Seconds)
	}
	for _, tl := range r.ByOutcome {
		if tl.Name == "police-attended" && tl.Count != "<5" {
			t.Errorf("police-attended = %q", tl.Count)
		}
	}
	svg := ChartSVG(r)
	if !strings.HasPrefix(svg, "<svg") || strings.Contains(svg, "<script") || !strings.Contains(svg, "polyline") && !strings.Contains(svg, "circle") {
		t.Errorf("chart: %.200s", svg)
	}
}
