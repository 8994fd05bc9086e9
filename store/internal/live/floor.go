package live

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/store/internal/kv"
)

// The durable floor of `waymark bench --floor durable`: the least any
// durable hub must do, measured beside Waymark on the same Redis. Each
// alert is one XADD to a stream (with appendfsync always, one fsync)
// before its answer, and events are delivered from that stream. It is a
// benchmark's yardstick, never part of serving.

// floorTrim bounds the floor's stream: its lifetime rule.
const floorTrim = 10000

// FloorAppend appends one benchmark alert to the floor's stream.
func (s *Store) FloorAppend(ctx context.Context, team, alertID string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	err := s.RDB.XAdd(ctx, &redis.XAddArgs{Stream: s.k.benchFloor(), MaxLen: floorTrim, Approx: true,
		Values: []any{"team", team, "alert", alertID}}).Err()
	return s.Wrap("floor append", err)
}

// FloorFollow calls fn for every entry appended to the floor's stream from
// now on, in order, until ctx ends.
func (s *Store) FloorFollow(ctx context.Context, fn func(team, alertID string)) error {
	last, err := s.floorEnd(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return s.Wrap("floor follow", err)
	}
	for ctx.Err() == nil {
		res, err := s.RDB.XRead(ctx, &redis.XReadArgs{Streams: []string{s.k.benchFloor(), last}, Count: 1000, Block: 2 * time.Second}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return s.Wrap("floor follow", err)
		}
		for _, st := range res {
			for _, m := range st.Messages {
				last = m.ID
				team, _ := m.Values["team"].(string)
				id, _ := m.Values["alert"].(string)
				fn(team, id)
			}
		}
	}
	return nil
}

// floorEnd is the id of the stream's last entry ("0-0" for an empty
// stream): FloorFollow reads on from a named id, never from "$", which
// after each blocking read that timed out would restart at the stream's
// new end and skip whatever was appended in between.
func (s *Store) floorEnd(ctx context.Context) (string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := s.RDB.XRevRangeN(ctx, s.k.benchFloor(), "+", "-", 1).Result()
	if err != nil || len(res) == 0 {
		return "0-0", err
	}
	return res[0].ID, nil
}
