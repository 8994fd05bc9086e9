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

// FloorEnd is the id of the floor stream's last entry ("0-0" when it is
// empty): where a follower that must miss nothing appended from now on
// starts. The floor reads it before it answers its first request, so no
// alert it stores can fall before it.
func (s *Store) FloorEnd(ctx context.Context) (string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := s.RDB.XRevRangeN(ctx, s.k.benchFloor(), "+", "-", 1).Result()
	if err != nil {
		return "", s.Wrap("floor end", err)
	}
	if len(res) == 0 {
		return "0-0", nil
	}
	return res[0].ID, nil
}

// FloorFollow calls fn for every entry appended to the floor's stream
// after the entry from (an id from FloorEnd), in order, until ctx ends. It
// reads on from the last id it delivered, never from "$", which after a
// blocking read that timed out would restart at the stream's new end and
// skip what was appended in between; and a failed read is tried again
// from there, so a fault delays entries but never skips them.
func (s *Store) FloorFollow(ctx context.Context, from string, fn func(team, alertID string)) error {
	last := from
	for ctx.Err() == nil {
		res, err := s.RDB.XRead(ctx, &redis.XReadArgs{Streams: []string{s.k.benchFloor(), last}, Count: 1000, Block: 2 * time.Second}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.Log.Warn("bench floor: read failed; reading again", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
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
