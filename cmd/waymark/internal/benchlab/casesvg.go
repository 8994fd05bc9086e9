package benchlab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// readCasesRuns reads the per-size JSON lines earlier `--cases` runs
// printed (lines holding "cases_n"), from each file.
func readCasesRuns(files []string) ([]*casesReport, error) {
	var out []*casesReport
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageError("waymark bench: --cases-from: %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"cases_n"`) {
				continue
			}
			var r casesReport
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				f.Close()
				return nil, usageError("waymark bench: --cases-from %s: %v", name, err)
			}
			out = append(out, &r)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, usageError("waymark bench: --cases-from: no --cases results in %s", strings.Join(files, ", "))
	}
	return out, nil
}

// casesPoint is one size's medians over its runs.
type casesPoint struct {
	n                   int
	runs                int
	bytes, p50, p99, mx float64
}

func median(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// casesMedians groups runs by size, medians of each figure, sizes in order.
func casesMedians(reps []*casesReport) []casesPoint {
	by := map[int][]*casesReport{}
	for _, r := range reps {
		by[r.N] = append(by[r.N], r)
	}
	var out []casesPoint
	for n, rs := range by {
		var b, p50, p99, mx []float64
		for _, r := range rs {
			b, p50, p99, mx = append(b, r.BytesPerCase), append(p50, r.CheckinLateP50), append(p99, r.CheckinLateP99), append(mx, r.CheckinLateMax)
		}
		out = append(out, casesPoint{n: n, runs: len(rs), bytes: median(b), p50: median(p50), p99: median(p99), mx: median(mx)})
	}
	slices.SortFunc(out, func(a, b casesPoint) int { return a.n - b.n })
	return out
}

// writeCasesSVG draws, against the number of cases (log scale), Redis
// memory per case beside the 2 KiB target, and the missed check-ins'
// lateness past due plus grace (p50, p99, max) beside the 5 s target;
// each point the median of the runs of that size.
func writeCasesSVG(name string, reps []*casesReport) error {
	pts := casesMedians(reps)
	var b strings.Builder
	const w, h, pw, ph, left, top = 960, 380, 340, 260, 70, 50
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15">waymark bench --cases: medians of %s</text>`+"\n", left, runsWord(pts))
	lo, hi := math.Log10(float64(pts[0].n)), math.Log10(float64(pts[len(pts)-1].n))
	if hi-lo < 1 {
		lo, hi = lo-0.5, hi+0.5
	} else {
		lo, hi = lo-0.15, hi+0.15
	}
	panel := func(x0 int, title, unit string, target float64, series []struct {
		name, color string
		v           func(casesPoint) float64
	}) {
		ymax := target * 1.25
		for _, p := range pts {
			for _, s := range series {
				ymax = max(ymax, s.v(p)*1.1)
			}
		}
		px := func(n int) float64 { return float64(x0) + (math.Log10(float64(n))-lo)/(hi-lo)*pw }
		py := func(v float64) float64 { return float64(top+ph) - v/ymax*ph }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13">%s</text>`+"\n", x0, top-10, title)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", x0, top, pw, ph)
		for k := 0; k <= 4; k++ {
			v := ymax * float64(k) / 4
			fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%.0f</text>`+"\n", x0-5, py(v)+4, v)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" transform="rotate(-90 %d %d)" text-anchor="middle">%s</text>`+"\n", x0-50, top+ph/2, x0-50, top+ph/2, unit)
		for _, p := range pts {
			fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%s</text>`+"\n", px(p.n), top+ph+16, thousands(p.n))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">enrolled cases (log scale)</text>`+"\n", x0+pw/2, top+ph+34)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c00" stroke-dasharray="5,4"/><text x="%d" y="%.1f" fill="#c00" text-anchor="end">target</text>`+"\n",
			x0, x0+pw, py(target), py(target), x0+pw-4, py(target)-4)
		for k, s := range series {
			var path []string
			for _, p := range pts {
				path = append(path, fmt.Sprintf("%.1f,%.1f", px(p.n), py(s.v(p))))
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(p.n), py(s.v(p)), s.color)
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(path, " "), s.color)
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", x0+8, top+16+14*k, s.color, s.name)
		}
	}
	type ser = struct {
		name, color string
		v           func(casesPoint) float64
	}
	panel(left, "Redis memory per case (target ≤ 2 KiB)", "bytes per case", 2048, []ser{
		{"used_memory delta / N", "#1f5fbf", func(p casesPoint) float64 { return p.bytes }}})
	panel(left+pw+120, "missed check-ins, 10% due in a minute: lateness (p99 ≤ 5 s)", "ms past due + grace", 5000, []ser{
		{"p50", "#2a8a2a", func(p casesPoint) float64 { return p.p50 }},
		{"p99", "#1f5fbf", func(p casesPoint) float64 { return p.p99 }},
		{"max", "#888", func(p casesPoint) float64 { return p.mx }}})
	b.WriteString("</svg>\n")
	return os.WriteFile(name, []byte(b.String()), 0o644)
}

func runsWord(pts []casesPoint) string {
	var s []string
	for _, p := range pts {
		s = append(s, fmt.Sprintf("%d run(s) at %s", p.runs, thousands(p.n)))
	}
	return strings.Join(s, ", ")
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
