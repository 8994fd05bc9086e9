package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"

	"waymark/problem"
	"waymark/signpost"
	"waymark/store/internal/kv"
)

// The directory is public data and is stored as plain JSON, one hash field
// per service (keys.go: directory), with a version counter
// (directoryVersion) bumped by every change. Every instance polls the
// counter (signpost.Live) and rebuilds its in-memory index when it moves.
//
// Confidential addresses are not kept at all, so there is nothing to seal:
// every service passes signpost.Validate on the way in, which strips a
// confidential service down to its postcode district. Waymark never needs
// the address (a refuge is reached through its gateway contact), and what
// is not stored cannot leak from Redis, a backup or a lost key.

var _ signpost.DirectoryStore = (*Store)(nil)

// PutOutcome is what PutServices did with one service.
type PutOutcome int

// Outcomes of storing one service.
const (
	PutRejected  PutOutcome = iota // invalid; see PutResult.Err
	PutCreated                     // a new service
	PutUpdated                     // replaced a different stored version
	PutUnchanged                   // identical to what was stored
)

// String names the outcome for reports.
func (o PutOutcome) String() string {
	switch o {
	case PutCreated:
		return "created"
	case PutUpdated:
		return "updated"
	case PutUnchanged:
		return "unchanged"
	}
	return "rejected"
}

// PutResult reports one service of a PutServices call.
type PutResult struct {
	ID      string
	Outcome PutOutcome
	Err     error // why it was rejected
}

// putServiceScript stores one service and bumps the version if it changed.
// KEYS directory, version; ARGV id, json. Returns 0 unchanged, 1 created,
// 2 updated.
var putServiceScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
if old then return 2 end
return 1`)

// deleteServiceScript: KEYS directory, version; ARGV id. Returns 1 when a
// service was removed.
var deleteServiceScript = redis.NewScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('INCR', KEYS[2])
  return 1
end
return 0`)

// putBatch bounds how many services go to Redis in one round trip.
const putBatch = 256

// PutServices validates and stores services, each atomically with its
// version bump; a service identical to the stored one changes nothing.
// Invalid services are reported in their PutResult and not stored; the
// error is for Redis failing, after which some services may be stored
// (each whole or not at all) and a retry is harmless.
func (s *Store) PutServices(ctx context.Context, services []signpost.Service) ([]PutResult, error) {
	results := make([]PutResult, len(services))
	type pending struct {
		i    int
		id   string
		json string
	}
	var todo []pending
	for i, svc := range services {
		results[i].ID = svc.ID
		// Validate a copy: it strips confidential addresses before anything
		// reaches Redis, whatever the caller passed.
		c := svc
		c.Locations = append([]signpost.Location(nil), svc.Locations...)
		if _, err := signpost.Validate(&c); err != nil {
			results[i].Err = err
			continue
		}
		b, err := json.Marshal(c)
		if err != nil {
			results[i].Err = fmt.Errorf("store: encode service %s: %w", c.ID, err)
			continue
		}
		todo = append(todo, pending{i: i, id: c.ID, json: string(b)})
	}
	keys := []string{s.k.directory(), s.k.directoryVersion()}
	for start := 0; start < len(todo); start += putBatch {
		batch := todo[start:min(start+putBatch, len(todo))]
		bctx, cancel := kv.Bounded(ctx)
		cmds := make([]*redis.Cmd, len(batch))
		_, err := s.RDB.Pipelined(bctx, func(pipe redis.Pipeliner) error {
			for j, p := range batch {
				cmds[j] = putServiceScript.Eval(bctx, pipe, keys, p.id, p.json)
			}
			return nil
		})
		cancel()
		if err != nil {
			return results, s.Wrap("put services", err)
		}
		for j, p := range batch {
			n, err := cmds[j].Int()
			if err != nil {
				return results, s.Wrap("put service "+p.id, err)
			}
			results[p.i].Outcome = [...]PutOutcome{PutUnchanged, PutCreated, PutUpdated}[n]
		}
	}
	return results, nil
}

// DeleteService removes a service; problem.ErrNotFound when there is none.
func (s *Store) DeleteService(ctx context.Context, id string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := deleteServiceScript.Run(ctx, s.RDB, []string{s.k.directory(), s.k.directoryVersion()}, id).Int()
	if err != nil {
		return s.Wrap("delete service "+id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete service %s: %w", id, problem.ErrNotFound)
	}
	return nil
}

// LoadDirectory returns every stored service that is not hidden
// (SetServiceHidden), sorted by id, and the version they were read at, in
// one transaction. A record that no longer decodes is skipped with a
// warning naming its id, so one bad record cannot empty the directory.
func (s *Store) LoadDirectory(ctx context.Context) ([]signpost.Service, int64, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	var all *redis.MapStringStringCmd
	var ver *redis.StringCmd
	var hidden *redis.StringSliceCmd
	if _, err := s.RDB.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		all = pipe.HGetAll(ctx, s.k.directory())
		ver = pipe.Get(ctx, s.k.directoryVersion())
		hidden = pipe.SMembers(ctx, s.k.directoryHidden())
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, s.Wrap("load directory", err)
	}
	version, err := parseVersion(ver)
	if err != nil {
		return nil, 0, s.Wrap("load directory", err)
	}
	out := make([]signpost.Service, 0, len(all.Val()))
	skip := make(map[string]bool, len(hidden.Val()))
	for _, id := range hidden.Val() {
		skip[id] = true
	}
	for id, raw := range all.Val() {
		if skip[id] {
			continue
		}
		var svc signpost.Service
		if err := json.Unmarshal([]byte(raw), &svc); err != nil || svc.ID != id {
			s.Log.Warn("directory: skipping a stored service that does not decode", "service_id", id)
			continue
		}
		out = append(out, svc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, version, nil
}

// DirectoryVersion returns the directory's change counter; 0 when the
// directory was never written.
func (s *Store) DirectoryVersion(ctx context.Context) (int64, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v, err := parseVersion(s.RDB.Get(ctx, s.k.directoryVersion()))
	if err != nil {
		return 0, s.Wrap("directory version", err)
	}
	return v, nil
}

func parseVersion(c *redis.StringCmd) (int64, error) {
	v, err := c.Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errors.New("directory version is not a number")
	}
	return n, nil
}
