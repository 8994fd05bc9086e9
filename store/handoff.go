package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/records"
	"waymark/store/internal/kv"
)

// Closing-record hand-off. When an alert closes, the alert commit script
// (store/alerts.go, addAlert) also marks it `handoff=pending`, bumps its
// record revision and puts it on keys.handoffs, due at once: the record
// cannot be lost between the close and its queueing. The records service's
// loop claims due entries (leased, like the scheduler's), delivers the
// record, and on acknowledgement marks it filed, which starts the retention
// clock (keys.retention, scored by filing time). A failure re-queues it
// with backoff; nothing ever removes a pending record except filing or
// export.

// Plain fields of the alert hash owned by the records side. The alert
// commit's own field list (alertFields) never names them, so a commit
// cannot overwrite a confirmation or a hold.
const (
	rfHandoff    = "handoff"
	rfRev        = "handoff_rev"
	rfTries      = "handoff_tries"
	rfErr        = "handoff_err"
	rfNext       = "handoff_next"
	rfFiledAt    = "filed_at"
	rfHold       = "hold"
	rfSummarized = "summarized"
)

// decodeRecord reads the records side of an alert hash.
func decodeRecord(h map[string]string) alert.RecordState {
	return alert.RecordState{
		Handoff:    alert.Handoff(h[rfHandoff]),
		Rev:        atoi(h[rfRev]),
		Tries:      atoi(h[rfTries]),
		LastError:  h[rfErr],
		NextTry:    kv.FromMS(h[rfNext]),
		FiledAt:    kv.FromMS(h[rfFiledAt]),
		Hold:       h[rfHold] == "1",
		Summarized: h[rfSummarized] == "1",
	}
}

// enqueueHandoff adds to a commit the writes that queue a's closing record
// (a new revision of it, if it was queued or filed before).
func (s *conn) enqueueHandoff(p *commitProg, a *alert.Alert, now time.Time) {
	ak := s.k.AlertRecord(a.ID)
	p.op("HSET", ak, rfHandoff, string(alert.HandoffPending), rfTries, 0, rfErr, "", rfNext, now.UnixMilli())
	p.op("HINCRBY", ak, rfRev, 1)
	p.op("ZADD", s.k.handoffs(), now.UnixMilli(), a.ID)
	// Not filed any more: the retention clock waits for the new filing.
	p.op("ZREM", s.k.retention(), a.ID)
}

// claimHandoffScript leases the candidate ids still due: KEYS[1] the
// queue; ARGV[1] now, ARGV[2] the lease end, ARGV[3…] ids.
var claimHandoffScript = redis.NewScript(`
local out = {}
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    out[#out + 1] = ARGV[i]
  end
end
return out
`)

// ClaimHandoffs leases up to limit due hand-offs until now+lease: exactly
// one instance gets each, and a crashed one's come back when the lease ends.
func (s *Records) ClaimHandoffs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRangeByScore(ctx, s.k.handoffs(), &redis.ZRangeBy{Min: "-inf", Max: kv.MS(now), Count: int64(limit)}).Result()
	if err != nil {
		return nil, s.Wrap("due hand-offs", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{now.UnixMilli(), now.Add(lease).UnixMilli()}
	for _, id := range ids {
		args = append(args, id)
	}
	got, err := claimHandoffScript.Run(ctx, s.RDB, []string{s.k.handoffs()}, args...).StringSlice()
	if err != nil {
		return nil, s.Wrap("claim hand-offs", err)
	}
	return got, nil
}

// handoffDoneScript: KEYS[1] the alert, KEYS[2] the queue, KEYS[3] the
// retention set; ARGV[1] id, ARGV[2] rev, ARGV[3] how ("" only drops the
// queue entry), ARGV[4] when (ms).
var handoffDoneScript = redis.NewScript(`
local id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], id)
  return 1
end
local rev = redis.call('HGET', KEYS[1], 'handoff_rev') or '0'
if rev ~= ARGV[2] then
  redis.call('ZADD', KEYS[2], ARGV[4], id)
  return 0
end
local st = redis.call('HGET', KEYS[1], 'handoff') or ''
if st == 'pending' and ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'handoff', ARGV[3], 'filed_at', ARGV[4], 'handoff_err', '', 'handoff_next', '')
  redis.call('ZADD', KEYS[3], ARGV[4], id)
end
redis.call('ZREM', KEYS[2], id)
return 1
`)

// HandoffDone marks revision rev filed or exported at `at` and starts the
// retention clock. It returns false, changing nothing but making the entry
// due again, when a newer revision was queued meanwhile.
func (s *Records) HandoffDone(ctx context.Context, alertID string, rev int, how alert.Handoff, at time.Time) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if at.IsZero() {
		at = s.Now()
	}
	n, err := handoffDoneScript.Run(ctx, s.RDB, []string{s.k.AlertRecord(alertID), s.k.handoffs(), s.k.retention()},
		alertID, strconv.Itoa(rev), string(how), at.UnixMilli()).Int()
	if err != nil {
		return false, s.Wrap("hand-off done", err)
	}
	return n == 1, nil
}

// handoffFailedScript: KEYS[1] the alert, KEYS[2] the queue; ARGV[1] id,
// ARGV[2] rev, ARGV[3] tries, ARGV[4] next (ms), ARGV[5] problem, ARGV[6] now.
var handoffFailedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if (redis.call('HGET', KEYS[1], 'handoff_rev') or '0') ~= ARGV[2] then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], 'handoff_tries', ARGV[3], 'handoff_err', ARGV[5], 'handoff_next', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
`)

// HandoffFailed records a failed delivery and when to try again.
func (s *Records) HandoffFailed(ctx context.Context, alertID string, rev, tries int, next time.Time, problem string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	err := handoffFailedScript.Run(ctx, s.RDB, []string{s.k.AlertRecord(alertID), s.k.handoffs()},
		alertID, strconv.Itoa(rev), tries, next.UnixMilli(), problem, s.Now().UnixMilli()).Err()
	return s.Wrap("hand-off failed", err)
}

// HandoffLater moves a pending hand-off's next look to next.
func (s *Records) HandoffLater(ctx context.Context, alertID string, next time.Time) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	err := s.RDB.ZAddXX(ctx, s.k.handoffs(), redis.Z{Score: float64(next.UnixMilli()), Member: alertID}).Err()
	return s.Wrap("hand-off later", err)
}

// HandoffStats counts the records not yet filed, those that failed at
// least once, and the oldest close among them.
func (s *Records) HandoffStats(ctx context.Context) (records.HandoffStats, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRange(ctx, s.k.handoffs(), 0, -1).Result()
	if err != nil {
		return records.HandoffStats{}, s.Wrap("hand-off stats", err)
	}
	st := records.HandoffStats{}
	if len(ids) == 0 {
		return st, nil
	}
	pipe := s.RDB.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, s.k.AlertRecord(id), rfHandoff, rfTries, afClosedAt)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return st, s.Wrap("hand-off stats", err)
	}
	for _, c := range cmds {
		v := c.Val()
		if h, _ := v[0].(string); h != string(alert.HandoffPending) {
			continue
		}
		st.Pending++
		if t, _ := v[1].(string); atoi(t) > 0 {
			st.Failing++
		}
		closed, _ := v[2].(string)
		if at := kv.FromMS(closed); !at.IsZero() && (st.Oldest.IsZero() || at.Before(st.Oldest)) {
			st.Oldest = at.UTC()
		}
	}
	return st, nil
}
