package records

import (
	"fmt"
	"html"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/problem"
	"waymark/wallclock"
)

// The commissioners' report. When an alert closes, the records service
// turns it into a handful of anonymous counters (Summarize, CountFields):
// the London day it was raised, its team (the area it was routed to),
// source, kind, risk level, outcome, whether it was out of hours and a
// repeat, and which latency bucket its first receipt, claim and contact fell
// in. No id, no free text, nothing sealed. Those counters are all that
// outlives an alert's retention. The report is built from them alone and
// shows every count from 1 to 4 as "<5".
//
// Practice and drill alerts are counted apart, by day, team and mode only,
// so they never inflate the real figures. Beside the alert counters the
// same hash holds rota-gap time and the alerts raised in it (sampled, see
// gaps.go) and unmet directory searches by day, area and category. Where a
// breakdown's total is shown and exactly one of its cells is under 5, the
// next-smallest cell is withheld too ("~"), so no small count can be
// worked out by subtraction.

// Summary is one closed alert reduced to what the report counts.
type Summary struct {
	Day  string // YYYY-MM-DD, Europe/London, of the raise
	Team string
	// Mode is real, practice or drill: only real alerts enter the
	// breakdowns.
	Mode       alert.Mode
	Source     string
	Kind       string
	Risk       string
	Outcome    string
	OutOfHours bool
	Repeat     bool
	// Receipt, Claim and Contact are measured from the raise; negative
	// when it never happened.
	Receipt, Claim, Contact time.Duration
}

// Latency metrics.
const (
	MetricReceipt = "receipt" // the first responder's dashboard showed it
	MetricClaim   = "claim"   // first acknowledged (or marked working)
	MetricContact = "contact" // first marked working: the responder is acting
)

// OutOfHours reports whether t is outside Monday–Friday 09:00–17:00 in
// London. (Bank holidays are not known to Waymark and count as in hours.)
func OutOfHours(t time.Time) bool {
	l := t.In(wallclock.London())
	if l.Weekday() == time.Saturday || l.Weekday() == time.Sunday {
		return true
	}
	return l.Hour() < 9 || l.Hour() >= 17
}

// Summarize reduces a closed alert (with its timeline) to its counts.
// firstReceipt is the earliest responder receipt (zero if none).
func Summarize(a *alert.Alert, firstReceipt time.Time, repeat bool) Summary {
	s := Summary{
		Day: a.RaisedAt.In(wallclock.London()).Format(time.DateOnly), Team: a.Team, Mode: a.Mode, Source: string(a.Source),
		Kind: a.Class.String(), Risk: string(a.Risk), Outcome: string(a.Outcome),
		OutOfHours: OutOfHours(a.RaisedAt), Repeat: repeat, Receipt: -1, Claim: -1, Contact: -1,
	}
	if s.Outcome == "" {
		s.Outcome = string(a.State) // cancelled or expired
	}
	if !firstReceipt.IsZero() {
		s.Receipt = max(firstReceipt.Sub(a.RaisedAt), 0)
	}
	for _, e := range a.Timeline {
		switch e.Type {
		case alert.EntryAcknowledged, alert.EntryWorking:
			if s.Claim < 0 {
				s.Claim = max(e.At.Sub(a.RaisedAt), 0)
			}
			if e.Type == alert.EntryWorking && s.Contact < 0 {
				s.Contact = max(e.At.Sub(a.RaisedAt), 0)
			}
		}
	}
	if s.Claim < 0 && !a.AckedAt.IsZero() {
		s.Claim = max(a.AckedAt.Sub(a.RaisedAt), 0)
	}
	return s
}

// latencyBucket puts d in a bucket a quarter of a power of two wide (about
// 19 %): 0 is under a second, b ≥ 1 covers [2^((b-1)/4), 2^(b/4)) seconds.
func latencyBucket(d time.Duration) int {
	sec := d.Seconds()
	if sec < 1 {
		return 0
	}
	return min(int(math.Floor(4*math.Log2(sec)))+1, 99)
}

// bucketSeconds is a bucket's representative value: its geometric middle.
func bucketSeconds(b int) float64 {
	if b <= 0 {
		return 0.5
	}
	return math.Pow(2, (float64(b)-0.5)/4)
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// CountFields are the counter names an alert's summary increments by one.
// A practice or drill alert increments only its day, team and mode
// ("m|day|team|mode"); a real one keeps the counter names it always had.
func CountFields(s Summary) []string {
	if s.Mode != alert.ModeReal {
		mode := string(s.Mode)
		if !s.Mode.Valid() {
			mode = "other"
		}
		return []string{strings.Join([]string{"m", s.Day, s.Team, mode}, "|")}
	}
	f := []string{strings.Join([]string{"n", s.Day, s.Team, s.Source, s.Kind, s.Risk, s.Outcome, bit(s.OutOfHours), bit(s.Repeat)}, "|")}
	for _, m := range []struct {
		name string
		d    time.Duration
	}{{MetricReceipt, s.Receipt}, {MetricClaim, s.Claim}, {MetricContact, s.Contact}} {
		if m.d >= 0 {
			f = append(f, strings.Join([]string{"t", s.Day, s.Team, m.name, strconv.Itoa(latencyBucket(m.d))}, "|"))
		}
	}
	return f
}

// countRow and latencyRow are parsed counters.
type countRow struct {
	day                               time.Time
	team, source, kind, risk, outcome string
	ooh, repeat                       bool
	n                                 int64
}

type latencyRow struct {
	day          time.Time
	team, metric string
	bucket       int
	n            int64
}

// otherRow is a practice or drill count (name is the mode), rota-gap
// seconds or alerts during a gap (name ""), or an unmet search (team is
// the area, name the category).
type otherRow struct {
	kind       string // "m", "g", "ga" or "u"
	day        time.Time
	team, name string
	n          int64
}

func parseCounters(m map[string]int64) ([]countRow, []latencyRow, []otherRow) {
	var cs []countRow
	var ls []latencyRow
	var os []otherRow
	for k, n := range m {
		p := strings.Split(k, "|")
		if len(p) < 2 || n <= 0 {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, p[1], wallclock.London())
		if err != nil {
			continue
		}
		switch {
		case p[0] == "n" && len(p) == 9:
			cs = append(cs, countRow{day: day, team: p[2], source: p[3], kind: p[4], risk: p[5], outcome: p[6],
				ooh: p[7] == "1", repeat: p[8] == "1", n: n})
		case p[0] == "t" && len(p) == 5:
			b, err := strconv.Atoi(p[4])
			if err != nil {
				continue
			}
			ls = append(ls, latencyRow{day: day, team: p[2], metric: p[3], bucket: b, n: n})
		case (p[0] == "m" || p[0] == "u") && len(p) == 4:
			os = append(os, otherRow{kind: p[0], day: day, team: p[2], name: p[3], n: n})
		case (p[0] == "g" || p[0] == "ga") && len(p) == 3:
			os = append(os, otherRow{kind: p[0], day: day, team: p[2], n: n})
		}
	}
	return cs, ls, os
}

// --- query -------------------------------------------------------------------

// ReportQuery selects the alerts a report covers: raised on London days
// From ≤ day < To, in one area (team) or all.
type ReportQuery struct {
	From, To time.Time // midnight, London
	Area     string
}

// maxReportSpan bounds a report's range.
const maxReportSpan = 10 * 366 * 24 * time.Hour

// ParseReportQuery reads from= and to= (YYYY-MM-DD, London; to is
// inclusive) and area= (a team id). Empty from is a year before to; empty
// to is today.
func ParseReportQuery(from, to, area string, now time.Time) (ReportQuery, error) {
	inv := &problem.Invalid{}
	today := londonMidnight(now)
	q := ReportQuery{To: today.AddDate(0, 0, 1), Area: area}
	if to != "" {
		t, err := time.ParseInLocation(time.DateOnly, to, wallclock.London())
		if err != nil {
			inv.Add("to", "must be a date, YYYY-MM-DD")
		} else {
			q.To = t.AddDate(0, 0, 1)
		}
	}
	q.From = q.To.AddDate(-1, 0, 0)
	if from != "" {
		f, err := time.ParseInLocation(time.DateOnly, from, wallclock.London())
		if err != nil {
			inv.Add("from", "must be a date, YYYY-MM-DD")
		} else {
			q.From = f
		}
	}
	if len(area) > 64 || strings.ContainsAny(area, "|\x00") || casework.HasControl(area) {
		inv.Add("area", "must be a team id")
	}
	if inv.Err() == nil {
		switch {
		case !q.From.Before(q.To):
			inv.Add("from", "must not be after to")
		case q.To.Sub(q.From) > maxReportSpan:
			inv.Add("from", "the range may span at most ten years")
		}
	}
	if err := inv.Err(); err != nil {
		return ReportQuery{}, err
	}
	return q, nil
}

func londonMidnight(t time.Time) time.Time {
	l := t.In(wallclock.London())
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, wallclock.London())
}

func (q ReportQuery) covers(day time.Time, team string) bool {
	return !day.Before(q.From) && day.Before(q.To) && (q.Area == "" || q.Area == team)
}

// --- the report ----------------------------------------------------------------

// SmallCount is the threshold below which a count is shown as "<5".
const SmallCount = 5

// Count is a count as the report shows it: "0", "<5" for 1 to 4,
// Suppressed where it would give a small count away, else the number.
// Every count in the report is this type, so none escapes.
type Count string

// Suppressed is a count withheld so that a count under 5 in the same
// breakdown cannot be worked out from the total by subtraction.
const Suppressed Count = "~"

// protect shows a breakdown's cells whose total (their sum) is shown: when
// exactly one cell is under 5 and the total is exact (5 or more), the
// smallest other non-zero cell is withheld too.
func protect(vals []int64) []Count {
	out := make([]Count, len(vals))
	var total int64
	small, next := 0, -1
	for i, v := range vals {
		out[i] = CountOf(v)
		total += v
		if v > 0 && v < SmallCount {
			small++
		}
	}
	if small != 1 || total < SmallCount {
		return out
	}
	for i, v := range vals {
		if v >= SmallCount && (next < 0 || v < vals[next]) {
			next = i
		}
	}
	if next >= 0 {
		out[next] = Suppressed
	}
	return out
}

// complement shows part of a total whose remainder (total - part) the
// reader can work out: withheld when that remainder is under 5.
func complement(part, total int64) Count {
	if rest := total - part; total >= SmallCount && part >= SmallCount && rest > 0 && rest < SmallCount {
		return Suppressed
	}
	return CountOf(part)
}

// CountOf shows n.
func CountOf(n int64) Count {
	if n > 0 && n < SmallCount {
		return "<5"
	}
	return Count(strconv.FormatInt(n, 10))
}

// Tally is one line of a breakdown.
type Tally struct {
	Name  string `json:"name"`
	Count Count  `json:"count"`
}

// QuarterArea is one line of alerts by quarter and area.
type QuarterArea struct {
	Quarter string `json:"quarter"` // "2026-Q3" (calendar quarters)
	Area    string `json:"area"`
	Alerts  Count  `json:"alerts"`
}

// Share is a part of the total; Percent is withheld ("") when the part
// is under 5, since it would give the count away.
type Share struct {
	Count   Count  `json:"count"`
	Percent string `json:"percent,omitempty"`
}

// Latency is a time-to-something: how many alerts it was measured on and
// its percentiles in seconds, withheld when fewer than 5 were measured.
// Percentiles are read from buckets about 19 % wide.
type Latency struct {
	Measured   Count    `json:"measured"`
	P50Seconds *float64 `json:"p50_seconds,omitempty"`
	P90Seconds *float64 `json:"p90_seconds,omitempty"`
}

// Week is one week of the chart.
type Week struct {
	Week   string `json:"week"`  // ISO week, "2026-W47"
	Start  string `json:"start"` // its Monday
	Alerts Count  `json:"alerts"`
	// ClaimP50Seconds is the week's median time to claim, withheld for
	// weeks with fewer than 5 claims.
	ClaimP50Seconds *float64 `json:"claim_p50_seconds,omitempty"`
	n               int64
}

// RotaGap is one area's time with nobody on call as primary in a quarter,
// as sampled (gaps.go), and the real alerts raised during it.
type RotaGap struct {
	Quarter string  `json:"quarter"`
	Area    string  `json:"area"`
	Hours   float64 `json:"hours"` // to a tenth of an hour
	// AlertsDuringGap counts real alerts raised in a sampled gap.
	AlertsDuringGap Count `json:"alerts_during_gap"`
}

// Report is the commissioners' report: totals and breakdowns without
// identity or free text.
type Report struct {
	From          string        `json:"from"`
	To            string        `json:"to"` // inclusive
	Area          string        `json:"area,omitempty"`
	Alerts        Count         `json:"alerts"`
	ByQuarterArea []QuarterArea `json:"by_quarter_and_area"`
	BySource      []Tally       `json:"by_source"`
	ByKind        []Tally       `json:"by_kind"`
	ByRisk        []Tally       `json:"by_risk_level"`
	ByOutcome     []Tally       `json:"by_outcome"`
	OutOfHours    Share         `json:"out_of_hours"`
	Repeats       Share         `json:"repeat_alerts"`
	TimeToReceipt Latency       `json:"time_to_first_receipt"`
	TimeToClaim   Latency       `json:"time_to_claim"`
	TimeToContact Latency       `json:"time_to_first_contact"`
	Weeks         []Week        `json:"weeks"`
	// PracticeAlerts and DrillAlerts are counted apart from the real
	// alerts above, which they never enter.
	PracticeAlerts Count     `json:"practice_alerts"`
	DrillAlerts    Count     `json:"drill_alerts"`
	RotaGaps       []RotaGap `json:"rota_gaps"`
	// UnmetSearches counts directory searches for a category that found
	// no service in reach, one per category named; UnmetByCategory splits
	// it.
	UnmetSearches   Count    `json:"unmet_searches"`
	UnmetByCategory []Tally  `json:"unmet_searches_by_category"`
	Notes           []string `json:"notes"`
}

var reportNotes = []string{
	"Counts from 1 to 4 are shown as <5; percentages and percentiles are withheld where they would reveal such a count.",
	"Only closed alerts are counted. Area is the team an alert was routed to. Out of hours is outside Monday to Friday 09:00-17:00 (London).",
	"A repeat alert is one on a case that had another alert in the 12 months before it.",
	"Time to first contact is time to the first 'working' mark by a responder; Waymark does not see calls themselves.",
	"Percentiles come from buckets about 19% wide.",
	"~ marks a count withheld because, with the total shown, it would let a count under 5 in the same table be worked out by subtraction.",
	"Practice and drill alerts are counted apart and are in none of the other figures.",
	"Rota gaps are sampled every few minutes: time in which a team had nobody on call as primary, and the real alerts raised in it (open or closed). Time no instance was running is not counted.",
	"Unmet searches are directory searches naming a category that found no local service in reach, by the area (team) covering the searched postcode district; 'other' where no team covers it. Nothing of the search itself is kept.",
}

// BuildReport computes the report for q from the stored counters.
func BuildReport(q ReportQuery, counters map[string]int64) *Report {
	cs, ls, others := parseCounters(counters)
	r := &Report{
		From: q.From.Format(time.DateOnly), To: q.To.AddDate(0, 0, -1).Format(time.DateOnly), Area: q.Area,
		Notes: slices.Clone(reportNotes),
	}
	var total, ooh, repeats int64
	qa := map[[2]string]int64{}
	src, kind, risk, outcome := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	weeks := weekRange(q.From, q.To)
	weekIdx := map[string]int{}
	for i, w := range weeks {
		weekIdx[w.Week] = i
	}
	for _, c := range cs {
		if !q.covers(c.day, c.team) {
			continue
		}
		total += c.n
		qa[[2]string{quarterOf(c.day), c.team}] += c.n
		src[c.source] += c.n
		kind[c.kind] += c.n
		risk[c.risk] += c.n
		outcome[c.outcome] += c.n
		if c.ooh {
			ooh += c.n
		}
		if c.repeat {
			repeats += c.n
		}
		if i, ok := weekIdx[isoWeek(c.day)]; ok {
			weeks[i].n += c.n
		}
	}
	hist := map[string]map[int]int64{}
	weekClaims := make([]map[int]int64, len(weeks))
	for _, l := range ls {
		if !q.covers(l.day, l.team) {
			continue
		}
		if hist[l.metric] == nil {
			hist[l.metric] = map[int]int64{}
		}
		hist[l.metric][l.bucket] += l.n
		if i, ok := weekIdx[isoWeek(l.day)]; ok && l.metric == MetricClaim {
			if weekClaims[i] == nil {
				weekClaims[i] = map[int]int64{}
			}
			weekClaims[i][l.bucket] += l.n
		}
	}
	r.Alerts = CountOf(total)
	keys := make([][2]string, 0, len(qa))
	for k := range qa {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	r.ByQuarterArea = []QuarterArea{}
	qaVals := make([]int64, len(keys))
	for i, k := range keys {
		qaVals[i] = qa[k]
	}
	for i, c := range protect(qaVals) {
		r.ByQuarterArea = append(r.ByQuarterArea, QuarterArea{Quarter: keys[i][0], Area: keys[i][1], Alerts: c})
	}
	r.BySource = tallies(src, []string{string(alert.SourceApp), string(alert.SourceSMS), string(alert.SourceCheckin)})
	r.ByKind = tallies(kind, []string{alert.ClassDuress.String(), alert.ClassPanic.String(), alert.ClassMissed.String(), alert.ClassMessage.String()})
	r.ByRisk = tallies(risk, []string{string(casework.RiskHigh), string(casework.RiskMedium), string(casework.RiskStandard)})
	outs := []string{}
	for _, o := range alert.Outcomes() {
		outs = append(outs, string(o))
	}
	r.ByOutcome = tallies(outcome, append(outs, string(alert.StateCancelled), string(alert.StateExpired)))
	r.OutOfHours = share(ooh, total)
	r.Repeats = share(repeats, total)
	r.TimeToReceipt = latency(hist[MetricReceipt], total)
	r.TimeToClaim = latency(hist[MetricClaim], total)
	r.TimeToContact = latency(hist[MetricContact], total)
	weekVals := make([]int64, len(weeks))
	for i := range weeks {
		weekVals[i] = weeks[i].n
	}
	for i, c := range protect(weekVals) {
		weeks[i].Alerts = c
		if p, n := percentile(weekClaims[i], 0.5); n >= SmallCount {
			weeks[i].ClaimP50Seconds = &p
		}
	}
	r.Weeks = weeks
	r.addOthers(q, others)
	return r
}

// addOthers adds the practice and drill lines, rota gaps and unmet
// searches.
func (r *Report) addOthers(q ReportQuery, rows []otherRow) {
	var practice, drill, unmet int64
	gaps := map[[2]string]*[2]int64{} // (quarter, area) → seconds, alerts
	byCat := map[string]int64{}
	for _, o := range rows {
		if !q.covers(o.day, o.team) {
			continue
		}
		switch o.kind {
		case "m":
			switch alert.Mode(o.name) {
			case alert.ModePractice:
				practice += o.n
			case alert.ModeDrill:
				drill += o.n
			}
		case "g", "ga":
			k := [2]string{quarterOf(o.day), o.team}
			if gaps[k] == nil {
				gaps[k] = &[2]int64{}
			}
			if o.kind == "g" {
				gaps[k][0] += o.n
			} else {
				gaps[k][1] += o.n
			}
		case "u":
			unmet += o.n
			byCat[o.name] += o.n
		}
	}
	r.PracticeAlerts, r.DrillAlerts = CountOf(practice), CountOf(drill)
	r.RotaGaps = []RotaGap{}
	for _, k := range slices.SortedFunc(maps.Keys(gaps), func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	}) {
		g := gaps[k]
		r.RotaGaps = append(r.RotaGaps, RotaGap{Quarter: k[0], Area: k[1],
			Hours: math.Round(float64(g[0])/360) / 10, AlertsDuringGap: CountOf(g[1])})
	}
	r.UnmetSearches = CountOf(unmet)
	cats := slices.Sorted(maps.Keys(byCat))
	vals := make([]int64, len(cats))
	for i, c := range cats {
		vals[i] = byCat[c]
	}
	r.UnmetByCategory = []Tally{}
	for i, c := range protect(vals) {
		r.UnmetByCategory = append(r.UnmetByCategory, Tally{Name: cats[i], Count: c})
	}
}

// tallies lists the known names in order (zero included), then any
// others; the cells are protected against subtraction from the total.
func tallies(m map[string]int64, known []string) []Tally {
	names := slices.Clone(known)
	var extra []string
	for k := range m {
		if !slices.Contains(known, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	names = append(names, extra...)
	vals := make([]int64, len(names))
	for i, k := range names {
		vals[i] = m[k]
	}
	out := make([]Tally, 0, len(names))
	for i, c := range protect(vals) {
		out = append(out, Tally{Name: names[i], Count: c})
	}
	return out
}

func share(part, total int64) Share {
	s := Share{Count: complement(part, total)}
	if total > 0 && (part == 0 || part >= SmallCount) && (total-part == 0 || total-part >= SmallCount) {
		s.Percent = strconv.FormatFloat(math.Round(1000*float64(part)/float64(total))/10, 'f', -1, 64) + "%"
	}
	return s
}

// latency summarises a histogram of some of total alerts; how many were
// measured is withheld when the alerts not measured are under 5.
func latency(h map[int]int64, total int64) Latency {
	var n int64
	for _, c := range h {
		n += c
	}
	l := Latency{Measured: complement(n, total)}
	if n >= SmallCount {
		p50, _ := percentile(h, 0.5)
		p90, _ := percentile(h, 0.9)
		l.P50Seconds, l.P90Seconds = &p50, &p90
	}
	return l
}

// percentile reads the p-th percentile from a bucket histogram (nearest
// rank), rounded to a tenth of a second, and how many values it holds.
func percentile(h map[int]int64, p float64) (float64, int64) {
	var n int64
	bs := make([]int, 0, len(h))
	for b, c := range h {
		n += c
		bs = append(bs, b)
	}
	if n == 0 {
		return 0, 0
	}
	slices.Sort(bs)
	rank := int64(math.Ceil(p * float64(n)))
	var cum int64
	for _, b := range bs {
		cum += h[b]
		if cum >= rank {
			return math.Round(bucketSeconds(b)*10) / 10, n
		}
	}
	return math.Round(bucketSeconds(bs[len(bs)-1])*10) / 10, n
}

func quarterOf(day time.Time) string {
	return fmt.Sprintf("%d-Q%d", day.Year(), (int(day.Month())-1)/3+1)
}

func isoWeek(day time.Time) string {
	y, w := day.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// weekRange lists the ISO weeks touching [from, to).
func weekRange(from, to time.Time) []Week {
	start := from
	for start.Weekday() != time.Monday {
		start = start.AddDate(0, 0, -1)
	}
	var out []Week
	for d := start; d.Before(to) && len(out) < 600; d = d.AddDate(0, 0, 7) {
		out = append(out, Week{Week: isoWeek(d), Start: d.Format(time.DateOnly)})
	}
	return out
}

// --- the chart -------------------------------------------------------------------

// ChartSVG draws alerts by week (bars) and the weekly median time to claim
// (line, right-hand axis, minutes), hand-written SVG with no script. Weeks
// with 1 to 4 alerts show a hatched bar at the "<5" line and no exact
// height; weeks with fewer than 5 claims have no time-to-claim point.
func ChartSVG(r *Report) string {
	const (
		w, h                 = 840, 360
		left, right, top, bo = 56.0, 64.0, 40.0, 64.0
	)
	pw, ph := w-left-right, h-top-bo
	var maxN int64 = SmallCount
	maxClaim := 1.0
	for _, wk := range r.Weeks {
		if wk.Alerts != Suppressed {
			// A withheld week must not set the axis either.
			maxN = max(maxN, wk.n)
		}
		if wk.ClaimP50Seconds != nil {
			maxClaim = max(maxClaim, *wk.ClaimP50Seconds/60)
		}
	}
	// Four grid steps of a round size, so the axes read in whole numbers.
	yMax := 4 * niceCeil(float64(maxN)/4)
	cMax := 4 * niceCeil(maxClaim/4)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="t d" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	title := "Alerts by week and median time to claim"
	if r.Area != "" {
		title += ", area " + r.Area
	}
	fmt.Fprintf(&b, "<title id=\"t\">%s</title>\n<desc id=\"d\">%s to %s. Bars: alerts per week (1 to 4 shown as &lt;5). Line: median minutes to claim.</desc>\n",
		html.EscapeString(title), r.From, r.To)
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#7a8fb3" stroke-width="2"/></pattern></defs>` + "\n")
	fmt.Fprintf(&b, "<text x=\"%g\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", left, html.EscapeString(title))
	// Axes and grid.
	for i := 0; i <= 4; i++ {
		y := top + ph - ph*float64(i)/4
		fmt.Fprintf(&b, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y, left+pw, y)
		fmt.Fprintf(&b, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left-6, y+4, trimFloat(yMax*float64(i)/4))
		fmt.Fprintf(&b, "<text x=\"%g\" y=\"%.1f\" fill=\"#b34700\">%s</text>\n", left+pw+6, y+4, trimFloat(cMax*float64(i)/4))
	}
	fmt.Fprintf(&b, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>\n", left, top+ph, left+pw, top+ph)
	fmt.Fprintf(&b, "<text x=\"14\" y=\"%g\" transform=\"rotate(-90 14 %g)\" text-anchor=\"middle\">alerts</text>\n", top+ph/2, top+ph/2)
	fmt.Fprintf(&b, "<text x=\"%g\" y=\"%g\" transform=\"rotate(90 %g %g)\" text-anchor=\"middle\" fill=\"#b34700\">median minutes to claim</text>\n", float64(w)-14, top+ph/2, float64(w)-14, top+ph/2)
	n := len(r.Weeks)
	if n == 0 {
		b.WriteString("</svg>\n")
		return b.String()
	}
	slot := pw / float64(n)
	bw := math.Max(1, slot*0.7)
	label := max(1, n/12)
	var pts []string
	for i, wk := range r.Weeks {
		x := left + slot*float64(i) + (slot-bw)/2
		switch {
		case wk.Alerts == Suppressed:
			fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"2 3\"><title>%s: withheld (~)</title></rect>\n",
				x, top, bw, ph, wk.Week)
		case wk.n >= SmallCount:
			bh := ph * float64(wk.n) / yMax
			fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3d5a99\"><title>%s: %s alerts</title></rect>\n",
				x, top+ph-bh, bw, bh, wk.Week, wk.Alerts)
		case wk.n > 0:
			bh := ph * float64(SmallCount) / yMax
			fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#hatch)\" stroke=\"#7a8fb3\" stroke-dasharray=\"3 2\"><title>%s: &lt;5 alerts</title></rect>\n",
				x, top+ph-bh, bw, bh, wk.Week)
		}
		if i%label == 0 {
			cx := left + slot*float64(i) + slot/2
			fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %g)\">%s</text>\n", cx, top+ph+14, cx, top+ph+14, wk.Week)
		}
		if wk.ClaimP50Seconds != nil {
			cx := left + slot*float64(i) + slot/2
			cy := top + ph - ph*(*wk.ClaimP50Seconds/60)/cMax
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", cx, cy))
			fmt.Fprintf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#b34700\"><title>%s: median %s min to claim</title></circle>\n",
				cx, cy, wk.Week, trimFloat(math.Round(*wk.ClaimP50Seconds/6)/10))
		}
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, "<polyline points=\"%s\" fill=\"none\" stroke=\"#b34700\" stroke-width=\"2\"/>\n", strings.Join(pts, " "))
	}
	// Legend.
	ly := float64(h) - 14
	fmt.Fprintf(&b, "<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"10\" fill=\"#3d5a99\"/><text x=\"%g\" y=\"%g\">alerts</text>\n", left, ly-9, left+16, ly)
	fmt.Fprintf(&b, "<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"10\" fill=\"url(#hatch)\" stroke=\"#7a8fb3\"/><text x=\"%g\" y=\"%g\">&lt;5 alerts</text>\n", left+70, ly-9, left+86, ly)
	fmt.Fprintf(&b, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#b34700\" stroke-width=\"2\"/><text x=\"%g\" y=\"%g\">median time to claim (weeks with 5+ claims)</text>\n", left+160, ly-4, left+176, ly-4, left+180, ly)
	b.WriteString("</svg>\n")
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
