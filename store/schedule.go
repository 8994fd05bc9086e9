package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/store/internal/kv"
)

// The one scheduler. keys.schedule() is a sorted set of entry ids scored by
// due time in ms; keys.scheduleEntry(id) holds each entry's kind, target,
// fence token, due time and claim count. Entries are written and removed
// only by commitScript, atomically with the records they fence; claiming
// one moves its score to the end of a lease, so exactly one instance's loop
// takes it, and if that instance dies the entry falls due again when the
// lease ends. Nothing timed lives only in memory.

// claimScript claims the candidate ids still due: KEYS[1] the schedule,
// KEYS[i] (i ≥ 2) the entry hash of ARGV[i+1]; ARGV[1] now, ARGV[2] the
// lease end (both ms). Another instance that claimed an id first has moved
// its score past now, so here it is skipped.
var claimScript = redis.NewScript(`
local out = {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    local e = redis.call('HMGET', KEYS[i], 'kind', 'target', 'fence', 'due')
    if e[1] then
      redis.call('ZADD', KEYS[1], ARGV[2], id)
      local n = redis.call('HINCRBY', KEYS[i], 'claims', 1)
      out[#out + 1] = {e[1], e[2], e[3] or '', e[4] or '', tostring(n)}
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return out
`)

// finishScript removes a claimed entry only if it still carries the fence
// it was claimed with: one re-armed meanwhile stays.
var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], 'fence') == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`)

// ClaimTimers claims up to limit timers due at now, leasing each until
// now+lease.
func (s *Alerts) ClaimTimers(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]alert.Timer, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	nowMS := strconv.FormatInt(now.UnixMilli(), 10)
	ids, err := s.RDB.ZRangeByScore(ctx, s.k.Schedule(), &redis.ZRangeBy{Min: "-inf", Max: nowMS, Count: int64(limit)}).Result()
	if err != nil {
		return nil, s.Wrap("due timers", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(ids)+1)
	keys = append(keys, s.k.Schedule())
	args := make([]any, 0, len(ids)+2)
	args = append(args, nowMS, now.Add(lease).UnixMilli())
	for _, id := range ids {
		keys = append(keys, s.k.ScheduleEntry(id))
		args = append(args, id)
	}
	res, err := claimScript.Run(ctx, s.RDB, keys, args...).Slice()
	if err != nil {
		return nil, s.Wrap("claim timers", err)
	}
	out := make([]alert.Timer, 0, len(res))
	for _, r := range res {
		f, ok := r.([]any)
		if !ok || len(f) != 5 {
			return nil, fmt.Errorf("store: claim timers: unexpected reply")
		}
		str := func(i int) string { v, _ := f[i].(string); return v }
		claim, _ := strconv.ParseInt(str(4), 10, 64)
		t := alert.Timer{Kind: alert.TimerKind(str(0)), Target: str(1), Fence: str(2), Due: kv.FromMS(str(3)), Claim: claim}
		out = append(out, t)
	}
	return out, nil
}

// FinishTimer removes a claimed timer if it still carries t's fence.
func (s *Alerts) FinishTimer(ctx context.Context, t alert.Timer) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	id := t.ID()
	err := finishScript.Run(ctx, s.RDB, []string{s.k.Schedule(), s.k.ScheduleEntry(id)}, id, t.Fence).Err()
	return s.Wrap("finish timer", err)
}
