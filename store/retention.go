package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/casework"
	"waymark/records"
	"waymark/store/internal/kv"
)

// Retention. An alert's sealed details stay until its closing record has
// been filed (or exported) and the retention period has passed since; both
// are decided against stored timestamps (filed_at) and the injected clock,
// never by a Redis TTL, so a legal hold can stop it and tests can move time.
// The sweep then deletes the alert's hash, timeline, trail and receipts and
// its index entries in one script that re-checks the hold. What remains is
// the anonymous counters (keys.reportCounts), written once when the alert
// was first processed after its close (Summarize).

// historyKeep bounds a case's alert history: longer than the 12-month
// repeat window.
const historyKeep = 400 * 24 * time.Hour

// summarizeScript: KEYS[1] alert, KEYS[2] counters, KEYS[3] trail, KEYS[4]
// the case record (KEYS[1] again when none), KEYS[5] the case history
// (KEYS[1] again when none); ARGV[1] id, ARGV[2] raised (ms), ARGV[3] the
// history floor (ms), ARGV[4…] counters to increment.
var summarizeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'summarized') ~= '1' then
  for i = 4, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end
  redis.call('HSET', KEYS[1], 'summarized', '1')
  if KEYS[5] ~= KEYS[1] then
    redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[3])
  end
end
local held = redis.call('HGET', KEYS[1], 'hold') == '1'
if KEYS[4] ~= KEYS[1] and redis.call('HGET', KEYS[4], 'legal_hold') == '1' then held = true end
if not held then redis.call('DEL', KEYS[3]) end
return 1
`)

// Summarize counts a closed alert into the report once (the counters are
// all that outlives it), records it in its case's history, and ends its
// location trail unless a legal hold keeps it.
func (s *Records) Summarize(ctx context.Context, alertID string, fields []string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v, err := s.RDB.HMGet(ctx, s.k.AlertRecord(alertID), afCase, afRaisedAt).Result()
	if err != nil {
		return s.Wrap("summarize", err)
	}
	caseID, _ := v[0].(string)
	raised, _ := v[1].(string)
	ak := s.k.AlertRecord(alertID)
	caseKey, hist := ak, ak
	if caseID != "" {
		caseKey, hist = s.k.CaseRecord(caseID), s.k.caseHistory(caseID)
	}
	floor := kv.FromMS(raised).Add(-historyKeep).UnixMilli()
	args := []any{alertID, atoi(raised), floor}
	for _, f := range fields {
		args = append(args, f)
	}
	err = summarizeScript.Run(ctx, s.RDB, []string{ak, s.k.reportCounts(), s.k.alertTrail(alertID), caseKey, hist}, args...).Err()
	return s.Wrap("summarize", err)
}

// PriorAlert reports whether the case's history holds another alert raised
// in [from, before).
func (s *Records) PriorAlert(ctx context.Context, caseID, alertID string, from, before time.Time) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRangeByScore(ctx, s.k.caseHistory(caseID), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "(" + strconv.FormatInt(before.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return false, s.Wrap("prior alert", err)
	}
	for _, id := range ids {
		if id != alertID {
			return true, nil
		}
	}
	return false, nil
}

// CaseAlertIDs lists the alerts still held for a case: its history and its
// open and last alert.
func (s *Records) CaseAlertIDs(ctx context.Context, caseID string) ([]string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	pipe := s.RDB.Pipeline()
	hist := pipe.ZRange(ctx, s.k.caseHistory(caseID), 0, -1)
	open := pipe.Get(ctx, s.k.caseOpenAlert(caseID))
	last := pipe.Get(ctx, s.k.caseLastAlert(caseID))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("case alerts", err)
	}
	ids := hist.Val()
	for _, v := range []string{open.Val(), last.Val()} {
		if v != "" && !slices.Contains(ids, v) {
			ids = append(ids, v)
		}
	}
	return ids, nil
}

// RetentionDue lists alerts whose record was filed at or before cutoff,
// oldest first, skipping the first offset (held ones the sweep passed).
func (s *Records) RetentionDue(ctx context.Context, cutoff time.Time, offset, limit int) ([]string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRangeByScore(ctx, s.k.retention(), &redis.ZRangeBy{Min: "-inf", Max: kv.MS(cutoff), Offset: int64(offset), Count: int64(limit)}).Result()
	if err != nil {
		return nil, s.Wrap("retention due", err)
	}
	return ids, nil
}

// eraseAlertScript: KEYS[1] alert, [2] timeline, [3] trail, [4] receipts,
// [5] retention set, [6] case record (KEYS[1] when none), [7] team alerts,
// [8] case last pointer, [9] case open pointer (both KEYS[1] when none),
// [10] open alerts, [11] hand-off queue, [12] receipts in their earlier
// form; ARGV[1] id, ARGV[2] cutoff (ms).
var eraseAlertScript = redis.NewScript(`
local id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[12])
  redis.call('ZREM', KEYS[5], id)
  return 'gone'
end
local h = redis.call('HMGET', KEYS[1], 'handoff', 'filed_at', 'hold')
if h[1] ~= 'filed' and h[1] ~= 'exported' then
  redis.call('ZREM', KEYS[5], id)
  return 'not-due'
end
if tonumber(h[2] or '0') > tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[5], h[2], id)
  return 'not-due'
end
if h[3] == '1' then return 'held' end
if KEYS[6] ~= KEYS[1] and redis.call('HGET', KEYS[6], 'legal_hold') == '1' then return 'held' end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[12])
redis.call('ZREM', KEYS[5], id)
redis.call('ZREM', KEYS[7], id)
redis.call('ZREM', KEYS[10], id)
redis.call('ZREM', KEYS[11], id)
for i = 8, 9 do
  if KEYS[i] ~= KEYS[1] and redis.call('GET', KEYS[i]) == id then redis.call('DEL', KEYS[i]) end
end
return 'erased'
`)

// EraseAlert deletes a closed alert whose record was filed at or before
// cutoff, unless the alert or its case is on legal hold. The case's
// history keeps the alert's id and raise time for repeat counting until
// it ages out or the case is erased.
func (s *Records) EraseAlert(ctx context.Context, alertID string, cutoff time.Time) (records.EraseResult, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v, err := s.RDB.HMGet(ctx, s.k.AlertRecord(alertID), afCase, afTeam).Result()
	if err != nil {
		return "", s.Wrap("erase alert", err)
	}
	caseID, _ := v[0].(string)
	team, _ := v[1].(string)
	ak := s.k.AlertRecord(alertID)
	caseKey, last, open := ak, ak, ak
	if caseID != "" {
		caseKey, last, open = s.k.CaseRecord(caseID), s.k.caseLastAlert(caseID), s.k.caseOpenAlert(caseID)
	}
	res, err := eraseAlertScript.Run(ctx, s.RDB, []string{ak, s.k.alertTimeline(alertID), s.k.alertTrail(alertID),
		s.k.AlertReceipts(alertID), s.k.retention(), caseKey, s.k.teamAlerts(team), last, open, s.k.openAlerts(), s.k.handoffs(),
		s.k.AlertSeen(alertID)},
		alertID, cutoff.UnixMilli()).Text()
	if err != nil {
		return "", s.Wrap("erase alert", err)
	}
	return records.EraseResult(res), nil
}

var setHoldScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'hold', ARGV[1])
return 1
`)

// SetAlertHold puts an alert on legal hold or lifts it.
func (s *Records) SetAlertHold(ctx context.Context, alertID string, on bool) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := setHoldScript.Run(ctx, s.RDB, []string{s.k.AlertRecord(alertID)}, kv.Flag(on)).Int()
	if err != nil {
		return s.Wrap("alert hold", err)
	}
	if n == 0 {
		return fmt.Errorf("store: alert %s: %w", alertID, casework.ErrNotFound)
	}
	return nil
}

// Held reports whether a case or an alert is on legal hold.
func (s *Records) Held(ctx context.Context, caseID, alertID string) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	pipe := s.RDB.Pipeline()
	var c, a *redis.StringCmd
	if caseID != "" {
		c = pipe.HGet(ctx, s.k.CaseRecord(caseID), fLegalHold)
	}
	if alertID != "" {
		a = pipe.HGet(ctx, s.k.AlertRecord(alertID), rfHold)
	}
	if c == nil && a == nil {
		return false, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, s.Wrap("legal hold", err)
	}
	return (c != nil && c.Val() == "1") || (a != nil && a.Val() == "1"), nil
}
