package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"waymark/internal/testenv"
)

// TestBenchCases runs `waymark bench --cases` small (200 cases, a 2 s
// window) against a private redis-server and a child server, and checks
// that the report is complete and consistent; no timing is asserted. It
// then draws the chart from that output with --cases-from.
func TestBenchCases(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	out, errOut, err := staffRun(t, map[string]string{}, "", "bench",
		"--cases", "200", "--teams", "3", "--cases-window", "2s", "--cases-signals", "20", "--rate", "50")
	if err != nil {
		t.Fatalf("bench --cases: %v\n%s\n%s", err, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"cases_n", "redis_bytes_per_case", "enrol_per_s", "signal_p50_ms", "signal_p99_ms",
		"checkin_due", "checkin_raised", "checkin_late_p50_ms", "checkin_late_p99_ms", "checkin_late_max_ms",
		"checkin_alerts_per_s", "checkin_server_cpu_ms_per_alert", "signal_server_cpu_ms_per_alert"} {
		if _, ok := r[k]; !ok {
			t.Errorf("report lacks %s: %s", k, lines[len(lines)-1])
		}
	}
	num := func(k string) float64 { f, _ := r[k].(float64); return f }
	if num("cases_n") != 200 || num("checkin_due") != 20 || num("checkin_raised") != 20 {
		t.Errorf("cases %v due %v raised %v, want 200, 20 (every tenth), 20", r["cases_n"], r["checkin_due"], r["checkin_raised"])
	}
	if num("signal_count") != 20 || num("signal_errors") != 0 || num("signal_p50_ms") <= 0 || num("signal_p99_ms") < num("signal_p50_ms") {
		t.Errorf("signals: count %v errors %v p50 %v p99 %v", r["signal_count"], r["signal_errors"], r["signal_p50_ms"], r["signal_p99_ms"])
	}
	if p50, p99, mx := num("checkin_late_p50_ms"), num("checkin_late_p99_ms"), num("checkin_late_max_ms"); p50 < 0 || p99 < p50 || mx < p99 {
		t.Errorf("lateness p50 %v p99 %v max %v: never early, and ordered", p50, p99, mx)
	}
	// One responder per team is on duty on the dashboard and gets every
	// raised alert of its team: the signals and the missed check-ins.
	if num("responders_on_duty") != 3 || num("dashboard_raised_events") < num("signal_count")+num("checkin_raised") {
		t.Errorf("on duty %v, raised events on the dashboard %v: want 3, and at least %v", r["responders_on_duty"], r["dashboard_raised_events"], num("signal_count")+num("checkin_raised"))
	}
	before, after := num("redis_used_memory_before_bytes"), num("redis_used_memory_after_bytes")
	if after <= before || num("redis_bytes_per_case") <= 0 || num("enrol_per_s") <= 0 {
		t.Errorf("memory %v → %v, %v per case; enrolment %v/s", before, after, r["redis_bytes_per_case"], r["enrol_per_s"])
	}
	dir := t.TempDir()
	res, svg := filepath.Join(dir, "run.json"), filepath.Join(dir, "cases.svg")
	if err := os.WriteFile(res, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := staffRun(t, map[string]string{}, "", "bench", "--cases-from", res, "--svg", svg); err != nil {
		t.Fatalf("--cases-from: %v\n%s\n%s", err, out, errOut)
	}
	b, err := os.ReadFile(svg)
	if err != nil || !strings.HasPrefix(string(b), "<svg") || !strings.Contains(string(b), "200") {
		t.Errorf("chart: %v\n%.300s", err, b)
	}
	// Refusals: a size out of range, --cases-from without --svg.
	for _, args := range [][]string{{"--cases", "5"}, {"--cases", "x"}, {"--cases-from", res}} {
		if _, _, err := staffRun(t, map[string]string{}, "", append([]string{"bench"}, args...)...); err == nil {
			t.Errorf("bench %v: no error", args)
		}
	}
}
