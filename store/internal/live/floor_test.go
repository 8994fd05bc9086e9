package live

import (
	"context"
	"fmt"
	"testing"
	"time"

	"waymark/internal/testenv"
)

// TestFloorFollowMissesNothingAfterItsEnd: the durable floor reads where
// its stream ends before it answers anything, and follows from there.
// Alerts stored between that read and the follower's first read (the
// follower runs in the background and may start late) are delivered, in
// order; so are those after a read that timed out.
func TestFloorFollowMissesNothingAfterItsEnd(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.FloorAppend(ctx, "north", "a_before"); err != nil {
		t.Fatal(err)
	}
	from, err := s.FloorEnd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 3 {
		id := fmt.Sprintf("a_early_%d", i)
		if err := s.FloorAppend(ctx, "north", id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	got := make(chan string, 16)
	followCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.FloorFollow(followCtx, from, func(team, id string) { got <- team + "/" + id })
	}()
	read := func(n int) {
		t.Helper()
		for i := range n {
			select {
			case g := <-got:
				if g != "north/"+want[i] {
					t.Fatalf("delivered %s, want north/%s (in order, nothing before the end)", g, want[i])
				}
			case <-ctx.Done():
				t.Fatalf("delivered %d of %d", i, n)
			}
		}
	}
	read(3)
	// After a blocking read times out (2 s), what comes next still arrives.
	time.Sleep(2500 * time.Millisecond)
	want = []string{"a_late"}
	if err := s.FloorAppend(ctx, "north", "a_late"); err != nil {
		t.Fatal(err)
	}
	read(1)
	stop()
	if err := <-done; err != nil {
		t.Errorf("follow ended with %v", err)
	}
}
