package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
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
