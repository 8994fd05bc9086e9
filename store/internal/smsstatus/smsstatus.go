package smsstatus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/store/internal/kv"
)

// SMSStatusLifetime is how long the delivery status of an outbound text is
// kept after its last change: Twilio's callbacks for a text come within
// hours, and three days leaves room for late retries.
const SMSStatusLifetime = 72 * time.Hour

// An outbound text's status is a hash at keys.smsStatus(tag of its
// MessageSid): plain fields only, none personal (the SID is tagged because
// it holds digit runs).
const (
	smsState = "state"
	smsRank  = "rank"
	smsError = "error"
	smsAt    = "at"
	smsAlert = "alert"
)

// recordPageScript: KEYS status; ARGV alert id, state, rank, at, ttl (ms).
// A callback may have arrived before the sender recorded the page: its
// status is kept, the alert id added.
var recordPageScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'alert', ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if tonumber(ARGV[3]) > cur then
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'rank', ARGV[3], 'at', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`)

// smsStatusScript: KEYS status; ARGV state, rank, error code, at, ttl (ms).
// It moves the status only to a higher rank; returns {changed, alert id}.
var smsStatusScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
local alert = redis.call('HGET', KEYS[1], 'alert') or ''
if tonumber(ARGV[2]) <= cur then return {0, alert} end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'rank', ARGV[2], 'error', ARGV[3], 'at', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, alert}`)

// RecordPage remembers that the text with Twilio id sid was sent for
// alertID (with Twilio's first answer, usually "queued" of rank 1), so its
// status callbacks can be shown on that alert's timeline.
func (s *Store) RecordPage(ctx context.Context, sid, alertID, state string, rank int) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	err := recordPageScript.Run(ctx, s.RDB, []string{s.k.smsStatus(s.Tag("sms", sid))},
		alertID, state, rank, s.Now().UnixMilli(), SMSStatusLifetime.Milliseconds()).Err()
	return s.Wrap("record page", err)
}

// UpdateSMSStatus keeps the most final status of an outbound text:
// changed is false when the stored status is already as final or more
// (repeats and out-of-order callbacks), and nothing is written then.
// alertID is the alert the text was sent for, "" when unknown.
func (s *Store) UpdateSMSStatus(ctx context.Context, sid, state string, rank, errorCode int) (changed bool, alertID string, err error) {
	if rank <= 0 {
		return false, "", errors.New("store: sms status: rank must be positive")
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := smsStatusScript.Run(ctx, s.RDB, []string{s.k.smsStatus(s.Tag("sms", sid))},
		state, rank, errorCode, s.Now().UnixMilli(), SMSStatusLifetime.Milliseconds()).Slice()
	if err != nil {
		return false, "", s.Wrap("sms status", err)
	}
	if len(res) != 2 {
		return false, "", fmt.Errorf("store: sms status: unexpected reply of %d items", len(res))
	}
	n, _ := res[0].(int64)
	alertID, _ = res[1].(string)
	return n == 1, alertID, nil
}

// Status is the stored status of one outbound text.
type Status struct {
	State     string
	Rank      int
	ErrorCode int
	AlertID   string
	At        time.Time
}

// GetSMSStatus reads the stored status of the text with id sid; ok is
// false when none is stored.
func (s *Store) GetSMSStatus(ctx context.Context, sid string) (st Status, ok bool, err error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	m, err := s.RDB.HGetAll(ctx, s.k.smsStatus(s.Tag("sms", sid))).Result()
	if err != nil {
		return Status{}, false, s.Wrap("get sms status", err)
	}
	if len(m) == 0 {
		return Status{}, false, nil
	}
	st = Status{State: m[smsState], AlertID: m[smsAlert]}
	st.Rank, _ = strconv.Atoi(m[smsRank])
	st.ErrorCode, _ = strconv.Atoi(m[smsError])
	if ms, err := strconv.ParseInt(m[smsAt], 10, 64); err == nil {
		st.At = time.UnixMilli(ms)
	}
	return st, true, nil
}
