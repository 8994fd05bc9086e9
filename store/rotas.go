package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"waymark/casework"
	"waymark/oncall"
	"waymark/store/internal/kv"
)

// Rotas and policies. Each team's rota (keys.rota) and policy set
// (keys.policy) is a hash with the version in force as plain JSON in
// "current", the one it replaced in "previous" (for an administrator who
// needs to see what changed) and "version". They hold tiers, times,
// channels and staff ids: nothing personal, so nothing is sealed. They
// live until replaced. A new version commits only onto the version it was
// checked against, so two administrators cannot overwrite each other
// unseen, and a refused file never touches what is in force.

var (
	_ oncall.RotaSource   = (*OnCall)(nil)
	_ oncall.PolicySource = (*OnCall)(nil)
	_ oncall.OnCallStore  = (*OnCall)(nil)
)

// saveVersionedScript: KEYS hash; ARGV new JSON, the version it was
// checked against, the new version. 0 when the version moved on.
var saveVersionedScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'version') or '0'
if cur ~= ARGV[2] then return 0 end
local old = redis.call('HGET', KEYS[1], 'current')
if old then redis.call('HSET', KEYS[1], 'previous', old) end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'version', ARGV[3])
return 1
`)

func (s *conn) saveVersioned(ctx context.Context, op, key string, v any, version int64) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := saveVersionedScript.Run(ctx, s.RDB, []string{key}, b, strconv.FormatInt(version-1, 10), version).Int()
	if err != nil {
		return s.Wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: changed by someone else meanwhile: %w", op, casework.ErrConflict)
	}
	return nil
}

func (s *conn) loadVersioned(ctx context.Context, op, key string, v any) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	b, err := s.RDB.HGet(ctx, key, "current").Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, s.Wrap(op, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("store: %s: stored value unreadable: %w", op, err)
	}
	return true, nil
}

// Rota reads a team's rota in force; nil when it has none.
func (s *OnCall) Rota(ctx context.Context, team string) (*oncall.Rota, error) {
	var r oncall.Rota
	ok, err := s.loadVersioned(ctx, "rota of "+team, s.k.rota(team), &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// SaveRota puts r in force for its team if the team's rota is still at
// version r.Version-1; ErrConflict otherwise.
func (s *OnCall) SaveRota(ctx context.Context, r *oncall.Rota) error {
	return s.saveVersioned(ctx, "save rota of "+r.Team, s.k.rota(r.Team), r, r.Version)
}
