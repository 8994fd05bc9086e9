package benchlab

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"time"
)

// The ramp chart (--ramp --svg FILE): p99 (solid) and p50 (dashed)
// latency against the alert rate, one series per target of the run
// (Waymark, the store-nothing floor, the durable floor), on a log scale
// of milliseconds with the ramp's p99 limit drawn across. Plain SVG
// written here, no dependency; each series is a <g class="series"
// data-target="NAME"> so tests and tools can find it.

// chartSeries is one target's steps.
type chartSeries struct {
	name, label, colour string
	steps               []stepResult
}

// rampSeries lists the run's targets that have steps, in a fixed order.
func rampSeries(wm, fl, dfl *benchReport) []chartSeries {
	var out []chartSeries
	for _, s := range []struct {
		r             *benchReport
		label, colour string
	}{
		{wm, "Waymark", "#c0392b"},
		{dfl, "durable floor (one XADD, fsync always)", "#2471a3"},
		{fl, "store-nothing floor", "#7f8c8d"},
	} {
		if s.r != nil && len(s.r.Steps) > 0 {
			out = append(out, chartSeries{name: s.r.Target, label: s.label, colour: s.colour, steps: s.r.Steps})
		}
	}
	return out
}

// writeRampSVG writes the chart of a ramp run to path.
func writeRampSVG(path string, wm, fl, dfl *benchReport, limit time.Duration) error {
	b := rampSVG(rampSeries(wm, fl, dfl), float64(limit)/float64(time.Millisecond))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("waymark bench: --svg: %w", err)
	}
	return nil
}

// Chart geometry, in SVG user units.
const (
	svgW, svgH                   = 760.0, 460.0
	plotL, plotR, plotT, plotB   = 70.0, 730.0, 50.0, 330.0
	legendY                      = 390.0
	svgMinMs, svgDecadesFallback = 0.1, 4
)

// rampSVG draws series with the p99 limit (ms) as a line across.
func rampSVG(series []chartSeries, limitMs float64) []byte {
	maxRate, maxMs := 0.0, limitMs
	for _, s := range series {
		for _, st := range s.steps {
			maxRate = max(maxRate, st.Rate)
			maxMs = max(maxMs, st.P99)
		}
	}
	if maxRate == 0 {
		maxRate = 1
	}
	topMs := math.Pow(10, math.Ceil(math.Log10(max(maxMs, svgMinMs*10))))
	decades := math.Log10(topMs / svgMinMs)
	if decades <= 0 {
		decades = svgDecadesFallback
	}
	x := func(rate float64) float64 { return plotL + rate/maxRate*(plotR-plotL) }
	y := func(ms float64) float64 {
		ms = max(ms, svgMinMs)
		return plotB - math.Log10(ms/svgMinMs)/decades*(plotB-plotT)
	}
	var w bytes.Buffer
	fmt.Fprintf(&w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&w, `<text x="%g" y="24" font-size="15">%s</text>`+"\n", plotL, esc("waymark bench --ramp: app call → responder receipt, latency against rate"))
	// Axes, grid and ticks.
	fmt.Fprintf(&w, `<g class="axes" stroke="#333" fill="none"><line x1="%g" y1="%g" x2="%g" y2="%g"/><line x1="%g" y1="%g" x2="%g" y2="%g"/></g>`+"\n",
		plotL, plotB, plotR, plotB, plotL, plotB, plotL, plotT)
	for ms := svgMinMs; ms <= topMs*1.0001; ms *= 10 {
		fmt.Fprintf(&w, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n",
			plotL, y(ms), plotR, y(ms), plotL-6, y(ms)+4, esc(fmtMs(ms)))
	}
	for _, r := range rateTicks(maxRate) {
		fmt.Fprintf(&w, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/><text x="%.1f" y="%g" text-anchor="middle">%g</text>`+"\n",
			x(r), plotT, x(r), plotB, x(r), plotB+16, r)
	}
	fmt.Fprintf(&w, `<text x="%g" y="%g" text-anchor="middle">alerts per second (open loop)</text>`+"\n", (plotL+plotR)/2, plotB+36)
	fmt.Fprintf(&w, `<text transform="translate(18 %g) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`+"\n", (plotT+plotB)/2)
	// The limit a ramp step's p99 must hold.
	fmt.Fprintf(&w, `<g class="limit"><line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#000" stroke-dasharray="2 4"/><text x="%g" y="%.1f" text-anchor="end">p99 limit %s</text></g>`+"\n",
		plotL, y(limitMs), plotR, y(limitMs), plotR, y(limitMs)-4, esc(fmtMs(limitMs)))
	for k, s := range series {
		fmt.Fprintf(&w, `<g class="series" data-target="%s" stroke="%s" fill="%s">`+"\n", esc(s.name), s.colour, s.colour)
		for _, q := range []struct {
			class, dash string
			v           func(stepResult) float64
		}{
			{"p99", "", func(st stepResult) float64 { return st.P99 }},
			{"p50", ` stroke-dasharray="6 4"`, func(st stepResult) float64 { return st.P50 }},
		} {
			var pts bytes.Buffer
			for i, st := range s.steps {
				if i > 0 {
					pts.WriteByte(' ')
				}
				fmt.Fprintf(&pts, "%.1f,%.1f", x(st.Rate), y(q.v(st)))
			}
			fmt.Fprintf(&w, `<polyline class="%s" points="%s" fill="none" stroke-width="2"%s/>`+"\n", q.class, pts.String(), q.dash)
			for _, st := range s.steps {
				// A failed step (error or loss) is a hollow mark.
				fill := s.colour
				if st.Errors > 0 || st.Lost > 0 {
					fill = "white"
				}
				fmt.Fprintf(&w, `<circle class="%s" cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s at %g/s: %s</title></circle>`+"\n",
					q.class, x(st.Rate), y(q.v(st)), fill, esc(s.name), q.class, st.Rate, esc(fmtMs(q.v(st))))
			}
		}
		ly := legendY + float64(k)*18
		fmt.Fprintf(&w, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke-width="2"/><text x="%g" y="%g" stroke="none" fill="#000">%s</text>`+"\n",
			plotL, ly, plotL+30, ly, plotL+38, ly+4, esc(s.label))
		fmt.Fprintf(&w, "</g>\n")
	}
	fmt.Fprintf(&w, `<text x="%g" y="%g" fill="#555">solid: p99; dashed: p50; hollow mark: a step with an error or a loss</text>`+"\n", plotL+330, legendY+4)
	fmt.Fprintf(&w, "</svg>\n")
	return w.Bytes()
}

// rateTicks are about five round rates from 0 to max.
func rateTicks(maxRate float64) []float64 {
	step := math.Pow(10, math.Floor(math.Log10(maxRate)))
	for maxRate/step < 4 {
		step /= 2
	}
	var out []float64
	for r := 0.0; r <= maxRate*1.0001; r += step {
		out = append(out, r)
	}
	return out
}

func fmtMs(ms float64) string {
	if ms < 1 {
		return fmt.Sprintf("%g ms", math.Round(ms*100)/100)
	}
	return fmt.Sprintf("%g ms", math.Round(ms*10)/10)
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
