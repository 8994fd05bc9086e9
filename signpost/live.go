package signpost

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"waymark/postcode"
)

// DirectoryStore is where a Live directory reads services from. Every
// change to the stored directory bumps its version, so an instance learns
// of a change made anywhere by reading one number.
type DirectoryStore interface {
	// LoadDirectory returns every stored service and the version they
	// were read at, as one snapshot.
	LoadDirectory(ctx context.Context) ([]Service, int64, error)
	// DirectoryVersion returns the current version (0 for a directory
	// never written).
	DirectoryVersion(ctx context.Context) (int64, error)
}

// Live keeps the current Index of a stored directory. Readers call Index,
// which never blocks; Refresh (or Run, on a ticker) rebuilds the index when
// the stored version has moved and swaps it in atomically, so searches in
// flight finish on the index they started with.
type Live struct {
	src DirectoryStore
	pc  *postcode.Directory
	hol Holidays

	mu  sync.Mutex // one rebuild at a time
	cur atomic.Pointer[liveIndex]
}

type liveIndex struct {
	ix      *Index
	version int64
}

// NewLive returns a Live directory with no index yet; call Refresh before
// serving.
func NewLive(src DirectoryStore, pc *postcode.Directory, hol Holidays) *Live {
	return &Live{src: src, pc: pc, hol: hol}
}

// Index returns the current index, or nil before the first Refresh
// succeeded.
func (l *Live) Index() *Index {
	if c := l.cur.Load(); c != nil {
		return c.ix
	}
	return nil
}

// Version returns the stored version the current index was built from.
func (l *Live) Version() int64 {
	if c := l.cur.Load(); c != nil {
		return c.version
	}
	return 0
}

// Refresh rebuilds the index if the stored directory has changed since it
// was built (or was never built). On error the current index stays.
func (l *Live) Refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, err := l.src.DirectoryVersion(ctx)
	if err != nil {
		return fmt.Errorf("signpost: directory version: %w", err)
	}
	if c := l.cur.Load(); c != nil && c.version == v {
		return nil
	}
	services, v, err := l.src.LoadDirectory(ctx)
	if err != nil {
		return fmt.Errorf("signpost: load directory: %w", err)
	}
	l.cur.Store(&liveIndex{ix: NewIndex(services, l.pc, l.hol), version: v})
	return nil
}

// Run calls Refresh on every tick until ctx ends, passing failures to
// onError (which may be nil); Redis being away for a while only delays the
// next rebuild. Callers pass a time.Ticker's channel (every few seconds);
// tests pass their own.
func (l *Live) Run(ctx context.Context, ticks <-chan time.Time, onError func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			if err := l.Refresh(ctx); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}
