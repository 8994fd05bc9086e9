package main

import (
	"strings"
	"testing"
	"time"

	"waymark/records"
	"waymark/wallclock"
)

// TestReportHTMLShowsTheNewSections: practice and drill lines, rota gaps,
// unmet searches and the "~" legend reach the HTML page.
func TestReportHTMLShowsTheNewSections(t *testing.T) {
	counters := map[string]int64{
		"m|2026-07-01|south|drill":                            6,
		"m|2026-07-01|south|practice":                         2,
		records.GapField("2026-07-01", "south"):               5400,
		records.GapAlertsField("2026-07-01", "south"):         1,
		records.UnmetField("2026-07-01", "south", "refuge"):   9,
		records.UnmetField("2026-07-01", "", "male-victims"):  2,
		records.UnmetField("2026-07-01", "south", "<script>"): 7,
	}
	q := records.ReportQuery{From: time.Date(2026, 7, 1, 0, 0, 0, 0, wallclock.London()), To: time.Date(2026, 8, 1, 0, 0, 0, 0, wallclock.London())}
	page, err := reportHTML(records.BuildReport(q, counters))
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		"<td>practice alerts</td><td class=\"n\">&lt;5</td>",
		"<td>drill alerts</td><td class=\"n\">6</td>",
		"<td>2026-Q3</td><td>south</td><td class=\"n\">1.5</td><td class=\"n\">&lt;5</td>",
		"Unmet directory searches (no service in reach): 18",
		"<td>refuge</td><td class=\"n\">9</td>",
		"<td>&lt;script&gt;</td><td class=\"n\">~</td>",
		"~ marks a count withheld",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(s, "<script>") {
		t.Error("a category name is not escaped")
	}
}
