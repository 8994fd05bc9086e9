package directory

import (
	"context"
	"fmt"
	"sort"

	"github.com/redis/go-redis/v9"

	"waymark/problem"
	"waymark/store/internal/kv"
)

// hideServiceScript: KEYS directory, hidden, version; ARGV id, "1" to hide
// or "0" to show. Returns -1 when no such service is stored (showing is
// allowed anyway, so a retired id can be cleaned up), 1 when the set
// changed (and the version was bumped), 0 when it did not.
var hideServiceScript = redis.NewScript(`
local n
if ARGV[2] == '1' then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
  n = redis.call('SADD', KEYS[2], ARGV[1])
else
  n = redis.call('SREM', KEYS[2], ARGV[1])
end
if n == 1 then redis.call('INCR', KEYS[3]) end
return n`)

// SetServiceHidden hides a stored service (or shows it again), bumping the
// directory version when that changes anything so every instance rebuilds
// its index. Hiding an id that is not stored is problem.ErrNotFound.
func (s *Store) SetServiceHidden(ctx context.Context, id string, hidden bool) (changed bool, err error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	flag := "0"
	if hidden {
		flag = "1"
	}
	n, err := hideServiceScript.Run(ctx, s.RDB, []string{s.k.directory(), s.k.directoryHidden(), s.k.directoryVersion()}, id, flag).Int()
	if err != nil {
		return false, s.Wrap("hide service "+id, err)
	}
	if n < 0 {
		return false, fmt.Errorf("store: hide service %s: %w", id, problem.ErrNotFound)
	}
	return n == 1, nil
}

// HiddenServices lists the hidden service ids, sorted.
func (s *Store) HiddenServices(ctx context.Context) ([]string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.SMembers(ctx, s.k.directoryHidden()).Result()
	if err != nil {
		return nil, s.Wrap("hidden services", err)
	}
	sort.Strings(ids)
	return ids, nil
}
