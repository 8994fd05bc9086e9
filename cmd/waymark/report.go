package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"

	"waymark/audit"
	"waymark/records"
	"waymark/staff"
)

// waymark report: the commissioners' report from the anonymous counters,
// as JSON or (--html) a page with the weekly chart as inline SVG.

type reportFlags struct {
	from, to, area, out string
	html                bool
}

func (f *reportFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", "first day, YYYY-MM-DD (London); default a year before --to")
	fs.StringVar(&f.to, "to", "", "last day, YYYY-MM-DD (London); default today")
	fs.StringVar(&f.area, "area", "", "one area (team id); default all")
	fs.BoolVar(&f.html, "html", false, "write an HTML page with the SVG chart instead of JSON")
	fs.StringVar(&f.out, "out", "-", "file to write (created, never overwritten); - for standard output")
}

func reportCmd(ctx context.Context, c *cli, args []string) error {
	var f reportFlags
	cmd := adminCommand{name: "report", usage: "report [--from D] [--to D] [--area T] [--html] [--out FILE] [flags]", flags: f.define}
	return helpOK(withAdmin(ctx, c, cmd, args, func(a *app, pos []string) error {
		if len(pos) != 0 {
			return usageError("usage: waymark %s", cmd.usage)
		}
		q, err := records.ParseReportQuery(f.from, f.to, f.area, a.now())
		if err != nil {
			return adminError("report", err)
		}
		// The command line is an administrator's: the report holds no
		// identities, so it needs no named account.
		admin := &staff.Principal{StaffID: "cli", Roles: []staff.Role{staff.RoleAdmin}}
		rep, err := a.records.Report(ctx, admin, q)
		if err != nil {
			return fmt.Errorf("waymark report: %w", err)
		}
		var out []byte
		if f.html {
			if out, err = reportHTML(rep); err != nil {
				return fmt.Errorf("waymark report: %w", err)
			}
		} else {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // "<5" reads as such
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return fmt.Errorf("waymark report: %w", err)
			}
			out = buf.Bytes()
		}
		a.records.Audit(ctx, audit.AuditEntry{Actor: "cli", Action: "report.export", Outcome: "ok: " + q.From.Format("2006-01-02") + " to " + rep.To})
		return writeExport(c, f.out, out)
	}))
}

// reportFuncs are the page's helpers.
func reportFuncs() template.FuncMap {
	return template.FuncMap{
		"secs": func(p *float64) string {
			if p == nil {
				return "withheld (<5 measured)"
			}
			s := *p
			switch {
			case s < 90:
				return fmt.Sprintf("%.0f s", s)
			case s < 5400:
				return fmt.Sprintf("%.1f min", s/60)
			default:
				return fmt.Sprintf("%.1f h", s/3600)
			}
		},
		"pct": func(s records.Share) string {
			if s.Percent == "" {
				return "withheld"
			}
			return s.Percent
		},
		"pair": func(title string, rows []records.Tally) tallyTable { return tallyTable{title, rows} },
	}
}

const reportPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Waymark commissioners' report {{.R.From}} to {{.R.To}}</title>
<style>
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:0 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.n{text-align:right}caption{text-align:left;font-weight:bold;margin:.5rem 0}
</style></head><body>
<h1>Commissioners' report</h1>
<p>{{.R.From}} to {{.R.To}}{{if .R.Area}}, area {{.R.Area}}{{else}}, all areas{{end}}. Closed alerts: <strong>{{.R.Alerts}}</strong>.</p>
<figure>{{.Chart}}</figure>
<table><caption>Alerts by quarter and area</caption><tr><th>quarter</th><th>area</th><th>alerts</th></tr>
{{range .R.ByQuarterArea}}<tr><td>{{.Quarter}}</td><td>{{.Area}}</td><td class="n">{{.Alerts}}</td></tr>
{{else}}<tr><td colspan="3">none</td></tr>{{end}}</table>
{{template "tally" (pair "By source" .R.BySource)}}
{{template "tally" (pair "By kind" .R.ByKind)}}
{{template "tally" (pair "By risk level" .R.ByRisk)}}
{{template "tally" (pair "By outcome" .R.ByOutcome)}}
<table><caption>Response</caption><tr><th></th><th>measured</th><th>median</th><th>90th percentile</th></tr>
<tr><td>time to first receipt</td><td class="n">{{.R.TimeToReceipt.Measured}}</td><td>{{secs .R.TimeToReceipt.P50Seconds}}</td><td>{{secs .R.TimeToReceipt.P90Seconds}}</td></tr>
<tr><td>time to claim</td><td class="n">{{.R.TimeToClaim.Measured}}</td><td>{{secs .R.TimeToClaim.P50Seconds}}</td><td>{{secs .R.TimeToClaim.P90Seconds}}</td></tr>
<tr><td>time to first contact</td><td class="n">{{.R.TimeToContact.Measured}}</td><td>{{secs .R.TimeToContact.P50Seconds}}</td><td>{{secs .R.TimeToContact.P90Seconds}}</td></tr>
</table>
<table><caption>Other</caption>
<tr><td>out of hours</td><td class="n">{{.R.OutOfHours.Count}}</td><td>{{pct .R.OutOfHours}}</td></tr>
<tr><td>repeat alerts</td><td class="n">{{.R.Repeats.Count}}</td><td>{{pct .R.Repeats}}</td></tr>
</table>
<table><caption>Practice and drills (not in any figure above)</caption>
<tr><td>practice alerts</td><td class="n">{{.R.PracticeAlerts}}</td></tr>
<tr><td>drill alerts</td><td class="n">{{.R.DrillAlerts}}</td></tr>
</table>
<table><caption>Rota gaps (nobody on call as primary, sampled)</caption><tr><th>quarter</th><th>area</th><th>hours</th><th>alerts raised in a gap</th></tr>
{{range .R.RotaGaps}}<tr><td>{{.Quarter}}</td><td>{{.Area}}</td><td class="n">{{printf "%.1f" .Hours}}</td><td class="n">{{.AlertsDuringGap}}</td></tr>
{{else}}<tr><td colspan="4">none sampled</td></tr>{{end}}</table>
<table><caption>Unmet directory searches (no service in reach): {{.R.UnmetSearches}}</caption>
{{range .R.UnmetByCategory}}<tr><td>{{.Name}}</td><td class="n">{{.Count}}</td></tr>
{{else}}<tr><td>none</td></tr>{{end}}</table>
<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>
</body></html>
{{define "tally"}}<table><caption>{{.Title}}</caption>{{range .Rows}}<tr><td>{{.Name}}</td><td class="n">{{.Count}}</td></tr>{{end}}</table>
{{end}}`

type tallyTable struct {
	Title string
	Rows  []records.Tally
}

// reportHTML renders the report page; the chart is the SVG ChartSVG makes
// (every label in it escaped there).
func reportHTML(r *records.Report) ([]byte, error) {
	t, err := template.New("report").Funcs(reportFuncs()).Parse(reportPage)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, struct {
		R     *records.Report
		Chart template.HTML
	}{r, template.HTML(records.ChartSVG(r))})
	return buf.Bytes(), err
}
