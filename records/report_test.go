package records

import (
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/wallclock"
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
	q := ReportQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, wallclock.London()), To: time.Date(2027, 1, 1, 0, 0, 0, 0, wallclock.London())}
	r := BuildReport(q, counters)
	// 23 is withheld: with the total 25 shown, it would give the 2 away.
	want := []QuarterArea{{"2026-Q3", "south", "~"}, {"2026-Q4", "north", "<5"}}
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

func TestProtect(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals []int64
		want []Count
	}{
		{"nothing small", []int64{5, 9, 0}, []Count{"5", "9", "0"}},
		{"one small: the next smallest is withheld", []int64{20, 3, 7, 0}, []Count{"20", "<5", "~", "0"}},
		{"two small: their sum is not one value", []int64{20, 3, 2}, []Count{"20", "<5", "<5"}},
		{"one small, all else zero: the total is small too", []int64{0, 3, 0}, []Count{"0", "<5", "0"}},
		{"ties take the first", []int64{6, 1, 6}, []Count{"~", "<5", "6"}},
		{"empty", nil, []Count{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := protect(tc.vals)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestComplement(t *testing.T) {
	for _, tc := range []struct {
		part, total int64
		want        Count
	}{
		{20, 23, "~"}, // 3 not out of hours would follow
		{20, 20, "20"},
		{20, 30, "20"},
		{3, 23, "<5"},
		{0, 3, "0"},
	} {
		if got := complement(tc.part, tc.total); got != tc.want {
			t.Errorf("complement(%d, %d) = %q, want %q", tc.part, tc.total, got, tc.want)
		}
	}
}

// TestReportBreakdownsCannotBeSubtracted: in every breakdown with a total,
// a single "<5" cell comes with a withheld one.
func TestReportBreakdownsCannotBeSubtracted(t *testing.T) {
	counters := map[string]int64{}
	add := func(day, source, kind, outcome string, ooh bool, n int64) {
		s := Summary{Day: day, Team: "south", Source: source, Kind: kind, Risk: "high", Outcome: outcome,
			OutOfHours: ooh, Receipt: time.Second, Claim: time.Minute, Contact: -1}
		for _, f := range CountFields(s) {
			counters[f] += n
		}
	}
	add("2026-07-01", "app", "panic", "safe", true, 12)
	add("2026-07-08", "sms", "panic", "safe", true, 9)
	add("2026-07-15", "app", "duress", "safe", false, 2)
	q := ReportQuery{From: time.Date(2026, 7, 1, 0, 0, 0, 0, wallclock.London()), To: time.Date(2026, 8, 1, 0, 0, 0, 0, wallclock.London())}
	r := BuildReport(q, counters)
	if r.Alerts != "23" {
		t.Fatalf("total %q", r.Alerts)
	}
	for name, ts := range map[string][]Tally{"source": r.BySource, "kind": r.ByKind, "outcome": r.ByOutcome} {
		small, withheld := 0, 0
		for _, tl := range ts {
			switch tl.Count {
			case "<5":
				small++
			case Suppressed:
				withheld++
			}
		}
		if small == 1 && withheld == 0 {
			t.Errorf("by %s: one <5 cell and nothing withheld: %+v", name, ts)
		}
	}
	// Kind: duress 2, panic 21: panic is withheld.
	if got := tallyOf(r.ByKind, "panic"); got != Suppressed {
		t.Errorf("panic = %q, want ~", got)
	}
	// Out of hours 21 of 23: 2 in hours would follow.
	if r.OutOfHours.Count != Suppressed || r.OutOfHours.Percent != "" {
		t.Errorf("out of hours %+v", r.OutOfHours)
	}
	var small, withheld int
	for _, w := range r.Weeks {
		switch w.Alerts {
		case "<5":
			small++
		case Suppressed:
			withheld++
		}
	}
	if small != 1 || withheld != 1 {
		t.Errorf("weeks: %d small, %d withheld; want 1 and 1: %+v", small, withheld, r.Weeks)
	}
	svg := ChartSVG(r)
	if !strings.Contains(svg, "withheld (~)") || strings.Contains(svg, ": 9 alerts") {
		t.Errorf("chart shows the withheld week: %s", svg)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, "~ marks") }) {
		t.Error("no legend for ~")
	}
}

func tallyOf(ts []Tally, name string) Count {
	for _, t := range ts {
		if t.Name == name {
			return t.Count
		}
	}
	return ""
}

func TestPracticeAndDrillAreCountedApart(t *testing.T) {
	raised := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	counters := map[string]int64{}
	for i, m := range []alert.Mode{alert.ModeReal, alert.ModeReal, alert.ModePractice, alert.ModeDrill, alert.ModeDrill, alert.ModeDrill, alert.ModeDrill, alert.ModeDrill, alert.ModeDrill} {
		a := &alert.Alert{ID: "a", Team: "south", Mode: m, Source: alert.SourceApp, Class: alert.ClassPanic, Risk: casework.RiskHigh, State: alert.StateResolved,
			Outcome: alert.Outcomes()[0], RaisedAt: raised.Add(time.Duration(i) * time.Minute), AckedAt: raised.Add(time.Duration(i)*time.Minute + 30*time.Second)}
		s := Summarize(a, time.Time{}, false)
		if s.Mode != m {
			t.Fatalf("summary mode %q, want %q", s.Mode, m)
		}
		fields := CountFields(s)
		if m != alert.ModeReal && (len(fields) != 1 || fields[0] != "m|2026-07-01|south|"+string(m)) {
			t.Fatalf("%s counts %v", m, fields)
		}
		for _, f := range fields {
			counters[f]++
		}
	}
	q := ReportQuery{From: time.Date(2026, 7, 1, 0, 0, 0, 0, wallclock.London()), To: time.Date(2026, 7, 2, 0, 0, 0, 0, wallclock.London())}
	r := BuildReport(q, counters)
	if r.Alerts != "<5" || r.PracticeAlerts != "<5" || r.DrillAlerts != "6" || r.TimeToClaim.Measured != "<5" {
		t.Errorf("real %q practice %q drill %q claims %q", r.Alerts, r.PracticeAlerts, r.DrillAlerts, r.TimeToClaim.Measured)
	}
	// Another area sees none of them.
	q.Area = "north"
	if r := BuildReport(q, counters); r.DrillAlerts != "0" || r.PracticeAlerts != "0" {
		t.Errorf("north: practice %q drill %q", r.PracticeAlerts, r.DrillAlerts)
	}
}

func TestReportRotaGapsAndUnmetSearches(t *testing.T) {
	counters := map[string]int64{
		GapField("2026-07-01", "south"):                   3 * 3600,
		GapField("2026-07-02", "south"):                   1800,
		GapAlertsField("2026-07-01", "south"):             2,
		GapField("2026-10-01", "south"):                   600,
		GapField("2026-07-01", "north"):                   7200,
		GapAlertsField("2026-07-01", "north"):             6,
		UnmetField("2026-07-01", "south", "refuge"):       7,
		UnmetField("2026-07-03", "", "refuge"):            1,
		UnmetField("2026-07-03", "south", "male-victims"): 2,
		UnmetField("2026-07-04", "south", "lgbt"):         9,
	}
	q := ReportQuery{From: time.Date(2026, 7, 1, 0, 0, 0, 0, wallclock.London()), To: time.Date(2027, 1, 1, 0, 0, 0, 0, wallclock.London())}
	r := BuildReport(q, counters)
	wantGaps := []RotaGap{
		{Quarter: "2026-Q3", Area: "north", Hours: 2, AlertsDuringGap: "6"},
		{Quarter: "2026-Q3", Area: "south", Hours: 3.5, AlertsDuringGap: "<5"},
		{Quarter: "2026-Q4", Area: "south", Hours: 0.2, AlertsDuringGap: "0"},
	}
	if !slices.Equal(r.RotaGaps, wantGaps) {
		t.Errorf("rota gaps = %+v, want %+v", r.RotaGaps, wantGaps)
	}
	// 19 unmet: refuge 8, lgbt 9, male-victims 2 (<5) so lgbt... the
	// smallest other, refuge, is withheld.
	wantUnmet := []Tally{{"lgbt", "9"}, {"male-victims", "<5"}, {"refuge", "~"}}
	if r.UnmetSearches != "19" || !slices.Equal(r.UnmetByCategory, wantUnmet) {
		t.Errorf("unmet %q %+v, want 19 %+v", r.UnmetSearches, r.UnmetByCategory, wantUnmet)
	}
	q.Area = "south"
	if r := BuildReport(q, counters); r.UnmetSearches != "18" || len(r.RotaGaps) != 2 {
		t.Errorf("south: unmet %q, gaps %+v", r.UnmetSearches, r.RotaGaps)
	}
}
