package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/records"
	"waymark/store/internal/kv"
	"waymark/wallclock"
)

// Rota gaps and unmet searches (alert/gaps.go): counters in the report
// hash (keys.reportCounts) beside the alert counters, and per team the
// gap slots already counted (keys.rotaGaps), so each slot counts once
// whichever instance samples it, and again after a restart.

var (
	_ records.GapStore   = (*Gaps)(nil)
	_ records.UnmetStore = (*Gaps)(nil)
)

// gapSlotKeep is how long counted slots are remembered: longer than any
// sampler is away, so a slot cannot be counted twice.
const gapSlotKeep = 8 * 24 * time.Hour

// countOnceScript: KEYS[1] the team's slots, KEYS[2] the counters; ARGV[1]
// the slot's score, ARGV[2] its member, ARGV[3] the counter, ARGV[4] the
// amount, ARGV[5] the trim floor. It counts only if the member is new.
var countOnceScript = redis.NewScript(`
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
if added == 1 and tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[2], ARGV[3], ARGV[4]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[5])
return added
`)

func (s *conn) countOnce(ctx context.Context, team string, start time.Time, member, field string, n int64) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	floor := start.Add(-gapSlotKeep).Unix()
	added, err := countOnceScript.Run(ctx, s.RDB, []string{s.k.rotaGaps(team), s.k.reportCounts()},
		start.Unix(), member, field, n, floor).Int()
	if err != nil {
		return false, s.Wrap("count rota gap", err)
	}
	return added == 1, nil
}

// CountGapSlot adds the slot's seconds to the team's gap counter of the
// slot's London day once per (team, start).
func (s *Gaps) CountGapSlot(ctx context.Context, team string, slot records.GapSlot) (bool, error) {
	field := records.GapField(wallclock.Day(slot.Start), team)
	secs := int64(slot.Length / time.Second)
	member := "g:" + strconv.FormatInt(slot.Start.Unix(), 10) + ":" + strconv.FormatInt(secs, 10)
	return s.countOnce(ctx, team, slot.Start, member, field, secs)
}

// CountGapAlerts adds n to the team's counter of alerts during gaps on the
// slot's London day once per (team, slot start).
func (s *Gaps) CountGapAlerts(ctx context.Context, team string, slot records.GapSlot, n int64) (bool, error) {
	field := records.GapAlertsField(wallclock.Day(slot.Start), team)
	return s.countOnce(ctx, team, slot.Start, "a:"+strconv.FormatInt(slot.Start.Unix(), 10), field, n)
}

// PendingGapSlots lists the team's gap slots ended by now whose alerts are
// not yet counted.
func (s *Gaps) PendingGapSlots(ctx context.Context, team string, now time.Time) ([]records.GapSlot, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	members, err := s.RDB.ZRangeByScore(ctx, s.k.rotaGaps(team), &redis.ZRangeBy{
		Min: strconv.FormatInt(now.Add(-gapSlotKeep).Unix(), 10), Max: strconv.FormatInt(now.Unix(), 10),
	}).Result()
	if err != nil {
		return nil, s.Wrap("rota gaps", err)
	}
	done := map[string]bool{}
	for _, m := range members {
		if start, ok := strings.CutPrefix(m, "a:"); ok {
			done[start] = true
		}
	}
	var out []records.GapSlot
	for _, m := range members {
		p := strings.Split(m, ":")
		if len(p) != 3 || p[0] != "g" || done[p[1]] {
			continue
		}
		start, err1 := strconv.ParseInt(p[1], 10, 64)
		secs, err2 := strconv.ParseInt(p[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		slot := records.GapSlot{Start: time.Unix(start, 0), Length: time.Duration(secs) * time.Second}
		if !slot.Start.Add(slot.Length).After(now) {
			out = append(out, slot)
		}
	}
	return out, nil
}

// RealAlertsRaised counts the team's alerts raised in [from, to) that are
// neither practice nor drill, from the team's alert index (kept until
// retention erases an alert, long after any sampler asks).
func (s *Gaps) RealAlertsRaised(ctx context.Context, team string, from, to time.Time) (int64, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRangeByScore(ctx, s.k.teamAlerts(team), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "(" + strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil || len(ids) == 0 {
		return 0, s.Wrap("alerts in gap", err)
	}
	pipe := s.RDB.Pipeline()
	modes := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		modes[i] = pipe.HMGet(ctx, s.k.AlertRecord(id), afRaisedAt, afMode)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, s.Wrap("alerts in gap", err)
	}
	var n int64
	for _, c := range modes {
		v := c.Val()
		if len(v) == 2 && v[0] != nil && (v[1] == nil || v[1] == "") {
			n++
		}
	}
	return n, nil
}

// CountUnmet is Gaps.CountUnmet for the records service, which counts the
// unmet directory searches (records.RecordStore).
func (s *Records) CountUnmet(ctx context.Context, at time.Time, area string, categories []string) error {
	return (&Gaps{s.conn}).CountUnmet(ctx, at, area, categories)
}

// CountUnmet adds one to the unmet-search counter of each category in
// area on at's London day, in one round trip.
func (s *Gaps) CountUnmet(ctx context.Context, at time.Time, area string, categories []string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	day := wallclock.Day(at)
	_, err := s.RDB.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, c := range categories {
			pipe.HIncrBy(ctx, s.k.reportCounts(), records.UnmetField(day, area, c), 1)
		}
		return nil
	})
	return s.Wrap("count unmet search", err)
}
