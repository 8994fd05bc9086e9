package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"waymark/audit"
	"waymark/internal/testenv"
)

// TestAuditAppendWaitsOutLoading: an audit entry appended while Redis is
// still loading its AOF (as when an instance starts beside a restarting
// Redis and records config.loaded) waits until Redis can take it, as it
// waits out contention, instead of being lost.
func TestAuditAppendWaitsOutLoading(t *testing.T) {
	// 20,000 keys at 100 µs each: about two seconds of loading.
	s, r := newTestStore(t, testenv.RedisOptions{AOF: true, Args: []string{"--key-load-delay", "100"}})
	ctx := context.Background()
	pipe := s.RDB.Pipeline()
	for i := range 20000 {
		pipe.Set(ctx, s.k.p+"filler:"+fmt.Sprint(i), "x", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	r.StartLoading()
	if err := s.RDB.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "LOADING") {
		t.Fatalf("PING right after the restart = %v, want LOADING (loading was too quick to test)", err)
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.AppendAudit(actx, audit.AuditEntry{Actor: audit.ActorSystem, Action: "config.loaded", Outcome: "ok"}); err != nil {
		t.Fatalf("append while Redis loads: %v", err)
	}
	found := false
	err := s.AuditChain(ctx, func(_ *audit.Checkpoint, e *audit.ChainEntry, _ string) error {
		found = found || (e != nil && e.Action == "config.loaded")
		return nil
	})
	if err != nil || !found {
		t.Errorf("config.loaded in the chain: %t (%v)", found, err)
	}
	// A deadline still ends the wait.
	r.Stop()
	r.StartLoading()
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if err := s.AppendAudit(short, audit.AuditEntry{Actor: audit.ActorSystem, Action: "x", Outcome: "ok"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("append with a short deadline while loading = %v, want ErrUnavailable", err)
	}
}
