package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/casework"
	"waymark/seal"
	"waymark/store/internal/kv"
)

// App enrolment and devices. A code and a token never reach Redis: only
// their tags (s.tag) do, in key names. keys.enrolCode(tag) holds
// "caseID|expiresMS" until the code is used (TTL cleans up after expiry,
// which is decided against the stored time). keys.device(tag) is the
// device hash (case, device_id, created_at, last_used_at) and
// keys.caseDevices(case) maps each device id to its token tag.

// deviceTouchEvery limits writes of last_used_at (alert.DeviceTouchEvery).
const deviceTouchEvery = casework.DeviceTouchEvery

var issueEnrolmentScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
redis.call('HSET', KEYS[1], 'tech_at', ARGV[4], 'tech_by', ARGV[5], 'tech_others', ARGV[6], 'tech_notes', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 'ok'
`)

// IssueEnrolment records the tech-safety check on the case (its notes
// sealed under the case's data key) and stores the code's tag until
// expiresAt, in one script.
func (s *Cases) IssueEnrolment(ctx context.Context, caseID, code string, check casework.TechSafetyCheck, expiresAt time.Time) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	wrapped, err := s.RDB.Get(ctx, s.k.caseDataKey(caseID)).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: case %s: %w", caseID, casework.ErrNotFound)
	}
	if err != nil {
		return s.Wrap("issue enrolment", err)
	}
	dk, err := s.unwrap(caseID, wrapped)
	if err != nil {
		return err
	}
	notes, err := dk.Seal([]byte(check.Notes.Reveal()), seal.AD{Key: s.k.CaseRecord(caseID), Field: fTechNote})
	if err != nil {
		return fmt.Errorf("store: seal tech-safety notes of case %s: %w", caseID, err)
	}
	tag := s.Tag("enrol", code)
	// The key outlives the code a little, so a code is refused for being
	// expired (decided against the stored time) rather than vanishing early.
	ttl := expiresAt.Sub(s.Now()) + time.Minute
	res, err := issueEnrolmentScript.Run(ctx, s.RDB,
		[]string{s.k.CaseRecord(caseID), s.k.enrolCode(tag), s.k.caseEnrolCodes(caseID)},
		tag, caseID, kv.MS(expiresAt), kv.MS(check.RecordedAt), check.RecordedBy, kv.Flag(check.OthersHaveAccess), notes,
		max(ttl.Milliseconds(), 1)).Text()
	if err != nil {
		return s.Wrap("issue enrolment", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: case %s: %w", caseID, casework.ErrNotFound)
	}
	return nil
}

// noCase is a case id no case ever has (ids are random lower-case
// letters): the keys an unknown code's redeem script looks at, finding
// nothing.
const noCase = "c_aaaaaaaaaaaaaaaaaaaa"

var redeemEnrolmentScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 'missing' end
local sep = string.find(v, '|', 1, true)
if not sep then return 'missing' end
if string.sub(v, 1, sep - 1) ~= ARGV[1] then return 'missing' end
if tonumber(ARGV[2]) >= tonumber(string.sub(v, sep + 1)) then return 'missing' end
if redis.call('EXISTS', KEYS[2]) == 0 then return 'missing' end
if redis.call('EXISTS', KEYS[5]) == 1 then return 'missing' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[4], ARGV[5])
redis.call('HSET', KEYS[5], 'case', ARGV[1], 'device_id', ARGV[3], 'created_at', ARGV[2], 'last_used_at', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return 'ok'
`)

// RedeemEnrolment uses up a valid, unexpired code and enrols a device with
// token in one script. A wrong, expired or used code is ErrNotFound and
// writes nothing.
func (s *Cases) RedeemEnrolment(ctx context.Context, code, token, deviceID string) (string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ctag, dtag := s.Tag("enrol", code), s.Tag("device", token)
	v, err := s.RDB.Get(ctx, s.k.enrolCode(ctag)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", s.Wrap("redeem enrolment", err)
	}
	caseID, _, _ := strings.Cut(v, "|")
	if !casework.ValidCaseID(caseID) {
		// An unknown code runs the script too, over a case that does not
		// exist, so it costs what an expired or used one costs: the time
		// of the answer does not tell them apart.
		caseID = noCase
	}
	res, err := redeemEnrolmentScript.Run(ctx, s.RDB, []string{
		s.k.enrolCode(ctag), s.k.CaseRecord(caseID), s.k.caseDevices(caseID), s.k.caseEnrolCodes(caseID), s.k.device(dtag),
	}, caseID, kv.MS(s.Now()), deviceID, dtag, ctag).Text()
	if err != nil {
		return "", s.Wrap("redeem enrolment", err)
	}
	if res != "ok" {
		return "", casework.ErrNotFound
	}
	return caseID, nil
}

// touchDeviceScript records a device's use: only on a device that still
// exists (never recreating a revoked one as a stray hash), and only if the
// stored use is at least ARGV[2] ms older than ARGV[1].
var touchDeviceScript = redis.NewScript(`
local last = redis.call('HGET', KEYS[1], 'last_used_at')
if not last then return 0 end
if tonumber(ARGV[1]) - (tonumber(last) or 0) < tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
return 1
`)

// DeviceByToken resolves an app token to its case and device in one
// round trip: a plain HMGET, which costs Redis a fraction of a script, and
// writes nothing, so with appendfsync always it waits for no fsync. The
// use is recorded at most once a minute per device (a second round trip
// then). Unknown or revoked tokens are alert.ErrNotFound.
func (s *Cases) DeviceByToken(ctx context.Context, token string) (caseID, deviceID string, err error) {
	caseID, deviceID, last, err := s.LookupDevice(ctx, token)
	if err != nil {
		return "", "", err
	}
	if s.Now().Sub(last) >= deviceTouchEvery {
		if err := s.TouchDevice(ctx, token); err != nil {
			return "", "", err
		}
	}
	return caseID, deviceID, nil
}

// LookupDevice resolves an app token with one plain HMGET and writes
// nothing. Unknown or revoked tokens are alert.ErrNotFound.
func (s *Cases) LookupDevice(ctx context.Context, token string) (caseID, deviceID string, lastUsed time.Time, err error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	vals, err := s.RDB.HMGet(ctx, s.k.device(s.Tag("device", token)), "case", "device_id", "last_used_at").Result()
	if err != nil {
		return "", "", time.Time{}, s.Wrap("device by token", err)
	}
	caseID, _ = vals[0].(string)
	deviceID, _ = vals[1].(string)
	if caseID == "" || deviceID == "" {
		return "", "", time.Time{}, casework.ErrNotFound
	}
	last, _ := vals[2].(string)
	return caseID, deviceID, kv.FromMS(last), nil
}

// TouchDevice records a use of the device with token, if the one stored
// is at least deviceTouchEvery old, and never recreates a revoked device.
func (s *Cases) TouchDevice(ctx context.Context, token string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.device(s.Tag("device", token))
	if err := touchDeviceScript.Run(ctx, s.RDB, []string{key}, kv.MS(s.Now()), deviceTouchEvery.Milliseconds()).Err(); err != nil {
		return s.Wrap("touch device", err)
	}
	return nil
}

// Devices lists the case's enrolled devices, oldest first.
func (s *Cases) Devices(ctx context.Context, caseID string) ([]casework.Device, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	m, err := s.RDB.HGetAll(ctx, s.k.caseDevices(caseID)).Result()
	if err != nil {
		return nil, s.Wrap("devices", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	ids := slices.Sorted(maps.Keys(m))
	pipe := s.RDB.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		if !strings.HasPrefix(m[id], forgotten) {
			cmds[i] = pipe.HMGet(ctx, s.k.device(m[id]), "created_at", "last_used_at")
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.Wrap("devices", err)
	}
	out := make([]casework.Device, 0, len(ids))
	for i, id := range ids {
		if removed, ok := strings.CutPrefix(m[id], forgotten); ok {
			// Forgotten by the phone itself: only the mark remains.
			out = append(out, casework.Device{ID: id, RemovedAt: kv.FromMS(removed)})
			continue
		}
		v := cmds[i].Val()
		created, _ := v[0].(string)
		used, _ := v[1].(string)
		out = append(out, casework.Device{ID: id, CreatedAt: kv.FromMS(created), LastUsedAt: kv.FromMS(used)})
	}
	slices.SortStableFunc(out, func(a, b casework.Device) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

var revokeDeviceScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 'missing' end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 'ok'
`)

// RevokeDevice removes the device and its token at once.
func (s *Cases) RevokeDevice(ctx context.Context, caseID, deviceID string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	tag, err := s.RDB.HGet(ctx, s.k.caseDevices(caseID), deviceID).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: device %s of case %s: %w", deviceID, caseID, casework.ErrNotFound)
	}
	if err != nil {
		return s.Wrap("revoke device", err)
	}
	res, err := revokeDeviceScript.Run(ctx, s.RDB, []string{s.k.caseDevices(caseID), s.k.device(tag)}, deviceID, tag).Text()
	if err != nil {
		return s.Wrap("revoke device", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: device %s of case %s: %w", deviceID, caseID, casework.ErrNotFound)
	}
	return nil
}

// forgotten starts the value keys.caseDevices holds for a device the phone
// forgot ("forget this phone"), followed by when: the case screen shows
// "removed from the phone" rather than nothing. The mark goes with the case.
const forgotten = "-"

var forgetDeviceScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 'missing' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('DEL', KEYS[2])
return 'ok'
`)

// ForgetDevice removes the device and its token at once, as RevokeDevice
// does, and leaves the mark that the phone itself asked for it.
func (s *Cases) ForgetDevice(ctx context.Context, caseID, deviceID string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	tag, err := s.RDB.HGet(ctx, s.k.caseDevices(caseID), deviceID).Result()
	if errors.Is(err, redis.Nil) || strings.HasPrefix(tag, forgotten) {
		return fmt.Errorf("store: device %s of case %s: %w", deviceID, caseID, casework.ErrNotFound)
	}
	if err != nil {
		return s.Wrap("forget device", err)
	}
	res, err := forgetDeviceScript.Run(ctx, s.RDB, []string{s.k.caseDevices(caseID), s.k.device(tag)},
		deviceID, tag, forgotten+kv.MS(s.Now())).Text()
	if err != nil {
		return s.Wrap("forget device", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: device %s of case %s: %w", deviceID, caseID, casework.ErrNotFound)
	}
	return nil
}
