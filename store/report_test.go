package store

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"waymark/internal/testenv"
	"waymark/records"
	"waymark/staff"
)

func TestReportShowsSmallCountsAsUnderFive(t *testing.T) {
	e := newAlertEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	recs := newRecords(t, e, nil, 24*time.Hour)
	admin := &staff.Principal{StaffID: "s_admin", Roles: []staff.Role{staff.RoleAdmin}}
	report := func() (*records.Report, []byte) {
		t.Helper()
		if _, err := recs.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		q, err := records.ParseReportQuery("2026-10-01", "2026-12-31", "south", e.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		r, err := recs.Report(ctx, admin, q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r)
		return r, b
	}
	for range 3 {
		e.resolvedAlert(t)
	}
	r, b := report()
	if r.Alerts != "<5" || len(r.ByQuarterArea) != 1 || r.ByQuarterArea[0] != (records.QuarterArea{Quarter: "2026-Q4", Area: "south", Alerts: "<5"}) {
		t.Fatalf("three alerts in an area: total %q, by quarter and area %+v", r.Alerts, r.ByQuarterArea)
	}
	if r.TimeToClaim.P50Seconds != nil || r.OutOfHours.Percent != "" && r.OutOfHours.Count == "<5" {
		t.Errorf("figures that give a small count away: %s", b)
	}
	for _, bad := range []string{`"3"`, "CAD-", "Canary"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("report holds %q: %s", bad, b)
		}
	}
	if id := regexp.MustCompile(`\b[ac]_[A-Za-z0-9]{10,}`).FindString(string(b)); id != "" {
		t.Errorf("report holds an id %q: %s", id, b)
	}
	svg := records.ChartSVG(r)
	if !strings.Contains(svg, "&lt;5 alerts</title>") {
		t.Error("chart shows the small week's count")
	}
	if err := wellFormed(svg); err != nil {
		t.Errorf("chart is not well-formed XML: %v", err)
	}

	// Six: shown as such, with percentiles.
	for range 3 {
		e.resolvedAlert(t)
	}
	r, _ = report()
	if r.Alerts != "6" || r.TimeToClaim.P50Seconds == nil || r.TimeToClaim.Measured != "6" {
		t.Errorf("six alerts: %q, claim %+v", r.Alerts, r.TimeToClaim)
	}
	// resolvedAlert claims 40 s after the raise: the bucket around it.
	if p := *r.TimeToClaim.P50Seconds; p < 34 || p > 46 {
		t.Errorf("median time to claim %v s, want about 40", p)
	}
	// Another area sees none of them.
	q, _ := records.ParseReportQuery("2026-10-01", "2026-12-31", "north", e.clk.Now())
	if other, _ := recs.Report(ctx, admin, q); other.Alerts != "0" {
		t.Errorf("north = %q", other.Alerts)
	}
	if _, err := recs.Report(ctx, &staff.Principal{StaffID: "s_r", Roles: []staff.Role{staff.RoleResponder}}, q); err == nil {
		t.Error("a responder read the commissioners' report")
	}
}

func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
