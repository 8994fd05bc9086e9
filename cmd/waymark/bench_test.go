package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"waymark/internal/testenv"
)

// TestMain lets the bench's children run from the test binary: the bench
// starts os.Executable() with "bench serve" or "bench floor", which under
// `go test` is this binary; marked as a bench child, it runs the command
// instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("WAYMARK_BENCH_CHILD") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchSummary runs a small bench against a private redis-server and
// a child server, with the floor, and checks the contract's last line.
func TestBenchSummary(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	start := time.Now()
	out, errOut, err := staffRun(t, map[string]string{}, "", "bench",
		"--responders", "3", "--teams", "2", "--rate", "20", "--duration", "1s", "--floor", "durable", "--settle", "0s")
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"p50_ms", "p99_ms", "lost", "errors", "floor_p50_ms", "floor_p99_ms",
		"durable_floor_p50_ms", "durable_floor_p99_ms", "durable_floor_ramp_per_s"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s: %s", k, lines[len(lines)-1])
		}
	}
	if sum["lost"] != 0.0 || sum["errors"] != 0.0 || sum["delivered"] != 30.0 {
		t.Errorf("lost %v errors %v delivered %v, want 0, 0, 30 (10 requests per team; teams of 2 and 1)", sum["lost"], sum["errors"], sum["delivered"])
	}
	if p, _ := sum["p50_ms"].(float64); p <= 0 {
		t.Errorf("p50_ms = %v, want a latency", sum["p50_ms"])
	}
	if p, _ := sum["floor_p50_ms"].(float64); p <= 0 {
		t.Errorf("floor_p50_ms = %v, want a latency", sum["floor_p50_ms"])
	}
	// The durable floor stored and delivered every alert, in order.
	if p, _ := sum["durable_floor_p50_ms"].(float64); p <= 0 {
		t.Errorf("durable_floor_p50_ms = %v, want a latency", sum["durable_floor_p50_ms"])
	}
	if d, _ := sum["durable_floor"].(map[string]any); d == nil {
		t.Errorf("summary lacks the durable floor's report")
	} else if steps, _ := d["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["lost"] != 0.0 {
		t.Errorf("durable floor steps: %v", d["steps"])
	}
	// The private Redis's disk is measured, since its fsync bounds every
	// figure under appendfsync always.
	if p50, _ := sum["disk_fsync_p50_ms"].(float64); p50 <= 0 || sum["disk_fsync_p99_ms"].(float64) < p50 {
		t.Errorf("disk fsync p50 %v p99 %v, want both, p99 ≥ p50", sum["disk_fsync_p50_ms"], sum["disk_fsync_p99_ms"])
	}
	if !strings.Contains(out, "# redis's disk: one fsync") {
		t.Errorf("no disk line in the output:\n%s", out)
	}
	t.Logf("bench took %v:\n%s", time.Since(start), out)
}

// lastJSON is a bench output's summary line.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not one JSON object: %v\n%s", err, out)
	}
	return sum
}

// TestBenchTwilio runs the Twilio scenario small: every signed text is
// answered 200 by Waymark (so its signature held) and by the trivial
// handler and the durable webhook, each raises a panic that reaches the
// team, and the summary
// has the scenario's fields.
func TestBenchTwilio(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	out, errOut, err := staffRun(t, map[string]string{}, "", "bench",
		"--twilio", "--responders", "2", "--rate", "20", "--duration", "1s", "--settle", "0s")
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, errOut)
	}
	sum := lastJSON(t, out)
	if sum["scenario"] != "twilio" || sum["lost"] != 0.0 || sum["errors"] != 0.0 || sum["delivered"] != 40.0 {
		t.Errorf("scenario %v lost %v errors %v delivered %v, want twilio, 0, 0, 40", sum["scenario"], sum["lost"], sum["errors"], sum["delivered"])
	}
	for _, k := range []string{"twilio_answer_p50_ms", "twilio_answer_p99_ms", "twilio_trivial_p50_ms", "twilio_trivial_p99_ms", "twilio_p99_ratio",
		"twilio_durable_p50_ms", "twilio_durable_p99_ms", "twilio_durable_p99_ratio"} {
		if v, _ := sum[k].(float64); v <= 0 {
			t.Errorf("%s = %v, want a positive figure", k, sum[k])
		}
	}
	tr, _ := sum["trivial"].(map[string]any)
	if steps, _ := tr["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["errors"] != 0.0 || steps[0].(map[string]any)["requests"] != 20.0 {
		t.Errorf("trivial handler steps: %v", tr["steps"])
	}
	// The durable webhook checks every signature: a refused one would be
	// an error here.
	du, _ := sum["durable_webhook"].(map[string]any)
	if steps, _ := du["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["errors"] != 0.0 || steps[0].(map[string]any)["requests"] != 20.0 {
		t.Errorf("durable webhook steps: %v", du["steps"])
	}
}

// TestBenchRampSVG runs a two-step ramp with both floors and --svg: the
// chart is written and holds the three series. The p99 limit is a
// minute: only an error or a loss fails a step here (no timing asserted).
func TestBenchRampSVG(t *testing.T) {
	testenv.RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	path := filepath.Join(t.TempDir(), "ramp.svg")
	out, errOut, err := staffRun(t, map[string]string{}, "", "bench",
		"--ramp", "--ramp-rates", "10,20", "--ramp-step", "1s", "--ramp-limit", "1m", "--floor", "durable", "--svg", path, "--settle", "0s")
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, errOut)
	}
	sum := lastJSON(t, out)
	if sum["max_rate"] != 20.0 || sum["durable_floor_ramp_per_s"] != 20.0 || sum["floor_max_rate"] != 20.0 {
		t.Errorf("max rates %v %v %v, want 20 each", sum["max_rate"], sum["durable_floor_ramp_per_s"], sum["floor_max_rate"])
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"waymark", "floor", "durable"} {
		if !strings.Contains(string(b), `data-target="`+name+`"`) {
			t.Errorf("chart lacks the %s series", name)
		}
	}
}

// TestBenchRefusals: flags that cannot go together exit 2 and run nothing.
func TestBenchRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"--twilio", "--ramp"},
		{"--svg", filepath.Join(t.TempDir(), "x.svg")},
	} {
		out, errOut, err := staffRun(t, map[string]string{}, "", append([]string{"bench"}, args...)...)
		if exitCode(err) != 2 || strings.Contains(out, "seeded") {
			t.Errorf("bench %v: exit %d (%v), want 2 before anything runs\n%s%s", args, exitCode(err), err, out, errOut)
		}
	}
}
