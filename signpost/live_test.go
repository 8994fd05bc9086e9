package signpost_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"waymark/signpost"
)

// fakeDirectory is an in-memory DirectoryStore.
type fakeDirectory struct {
	mu       sync.Mutex
	services []signpost.Service
	version  int64
	loads    int
	fail     error
}

func (f *fakeDirectory) LoadDirectory(context.Context) ([]signpost.Service, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	return append([]signpost.Service(nil), f.services...), f.version, f.fail
}

func (f *fakeDirectory) DirectoryVersion(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, f.fail
}

func (f *fakeDirectory) set(services []signpost.Service) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services = services
	f.version++
}

func TestLive(t *testing.T) {
	seed := allSeeds(t)
	src := &fakeDirectory{}
	live := signpost.NewLive(src, testPostcodes(t), mustHolidays(t))
	if live.Index() != nil {
		t.Fatal("index before Refresh")
	}
	ctx := context.Background()
	if err := live.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if live.Index() == nil || live.Index().Len() != 0 {
		t.Fatalf("empty directory: %v", live.Index())
	}
	src.set(seed)
	if err := live.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := live.Index().Len(); got != len(seed) || live.Version() != 1 {
		t.Fatalf("after change: %d services at version %d", got, live.Version())
	}
	// No change, no reload.
	loads := src.loads
	if err := live.Refresh(ctx); err != nil || src.loads != loads {
		t.Errorf("unchanged directory reloaded (%d → %d): %v", loads, src.loads, err)
	}
	// A failing store keeps the index it had.
	old := live.Index()
	src.fail = errors.New("redis away")
	src.version++
	if err := live.Refresh(ctx); err == nil || live.Index() != old {
		t.Errorf("failed refresh: err %v, index swapped %v", err, live.Index() != old)
	}
	src.fail = nil

	// Run rebuilds on each tick and stops with its context.
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		live.Run(ctx, ticks, func(err error) { t.Errorf("Run: %v", err) })
		close(done)
	}()
	src.set(seed[:3])
	ticks <- time.Time{}
	ticks <- time.Time{} // the first tick has been handled once the second is taken
	if got := live.Index().Len(); got != 3 {
		t.Errorf("after Run tick: %d services, want 3", got)
	}
	cancel()
	<-done
}
