package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/casework"
	"waymark/pii"
	"waymark/seal"
	"waymark/store/internal/kv"
)

var _ casework.CaseStore = (*Cases)(nil)

// A case is one hash (keys.caseRecord). Plain fields hold what access
// checks, listings, expiry and the intake decide on; every field that could
// identify the survivor is sealed under the case's own data key
// (keys.caseDataKey), bound to the record's key and the field name. PIN
// hashes are keyed HMACs (seal.PINKey), stored base64url so that no raw
// hash can be mistaken for a sealed record by rotation's scan.
const (
	fTeam       = "team"
	fRisk       = "risk"
	fRiskDate   = "risk_date"
	fMARAC      = "marac"
	fMARACDate  = "marac_date"
	fOwner      = "owner"
	fExcluded   = kv.CaseExcluded
	fLinked     = "linked"
	fUnder18    = "under_18"
	fLegalHold  = "legal_hold"
	fCreated    = "created_at"
	fRenewed    = "renewed_at"
	fExpires    = "expires_at"
	fSMSBlocked = "sms_blocked"
	fReview     = "review"
	fPhoneHeld  = "phone_held"
	fVersion    = "version"
	fBucket     = "bucket"
	fPIN        = "pin"
	fDuressPIN  = "duress_pin"
	fTechAt     = "tech_at"
	fTechBy     = "tech_by"
	fTechOthers = "tech_others"
	// The practice window: its end (unix ms) and the caseworker who
	// opened it. Plain: the intake decides on them without a data key.
	fPracticeUntil = "practice_until"
	fPracticeBy    = "practice_by"

	// Sealed under the case's data key.
	fPhone    = "phone"
	fAlias    = "alias"
	fWords    = "words"
	fContact  = "contact"
	fComm     = "comm"
	fChildren = "children"
	fPlan     = "response_plan"
	fNotes    = "safety_notes"
	fLead     = "safeguarding_lead"
	fTechNote = "tech_notes"
)

// metaFields are the plain fields LoadCaseMeta reads.
var metaFields = []string{fTeam, fRisk, fRiskDate, fMARAC, fMARACDate, fOwner, fExcluded, fLinked,
	fUnder18, fLegalHold, fCreated, fRenewed, fExpires, fSMSBlocked, fReview, fVersion, fBucket,
	fPIN, fDuressPIN, fTechAt, fTechBy, fTechOthers, fPracticeUntil, fPracticeBy, fPhoneHeld}

// sealedFields are sealed under the case's data key, always all present.
var sealedFields = []string{fPhone, fAlias, fWords, fContact, fComm, fChildren, fPlan, fNotes, fLead, fTechNote}

// luaFingerprint computes snapshot in Lua. Lua's default string order is
// byte order (strcoll in the C locale, which Redis uses), as Go's is.
const luaFingerprint = `
local function fingerprint(key)
  local m = redis.call('SMEMBERS', key)
  table.sort(m)
  return table.concat(m, ',')
end
`

var createCaseScript = redis.NewScript(luaFingerprint + `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 'exists' end
if fingerprint(KEYS[4]) ~= ARGV[2] then return 'stale' end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('SADD', KEYS[3], ARGV[1])
if ARGV[5] ~= '1' then redis.call('SADD', KEYS[4], ARGV[1]) end
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
return 'ok'
`)

// CreateCase stores a new case: a fresh data key (wrapped under the active
// key-encryption key), the sealed record, and its team, blind-index and
// expiry entries, in one script. It fills c.Bucket.
func (s *Cases) CreateCase(ctx context.Context, c *casework.Case, snap casework.PhoneSnapshot) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	c.Bucket = s.Crypto.Index.Phone(c.Phone)
	if c.Bucket == "" {
		return fmt.Errorf("store: create case %s: no phone", c.ID)
	}
	dk, wrapped, err := s.Crypto.Keyring.NewDataKey(seal.AD{Key: s.k.caseDataKey(c.ID)})
	if err != nil {
		return fmt.Errorf("store: create case %s: %w", c.ID, err)
	}
	vals, err := s.caseValues(c, dk)
	if err != nil {
		return err
	}
	args := append([]any{c.ID, string(snap), wrapped, kv.MS(c.ExpiresAt), kv.Flag(c.PhoneHeld)}, vals...)
	res, err := createCaseScript.Run(ctx, s.RDB,
		[]string{s.k.CaseRecord(c.ID), s.k.caseDataKey(c.ID), s.k.teamCases(c.Team), s.k.casePhones(c.Bucket), s.k.caseExpiry()},
		args...).Text()
	if err != nil {
		return s.Wrap("create case", err)
	}
	switch res {
	case "ok":
		c.Version++
		return nil
	case "stale":
		return casework.ErrCaseStale
	default:
		return fmt.Errorf("store: create case %s: %w", c.ID, casework.ErrConflict)
	}
}

// LoadCase returns the case with every sealed field opened.
func (s *Cases) LoadCase(ctx context.Context, id string) (*casework.Case, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	pipe := s.RDB.Pipeline()
	hc := pipe.HGetAll(ctx, s.k.CaseRecord(id))
	dc := pipe.Get(ctx, s.k.caseDataKey(id))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("load case", err)
	}
	h := hc.Val()
	if len(h) == 0 {
		return nil, fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
	}
	if dc.Err() != nil {
		return nil, fmt.Errorf("store: case %s has no data key", id)
	}
	dk, err := s.unwrap(id, dc.Val())
	if err != nil {
		return nil, err
	}
	return s.decodeCase(id, h, dk)
}

// LoadCaseMeta returns the plain fields of a case, unwrapping nothing.
func (s *Cases) LoadCaseMeta(ctx context.Context, id string) (*casework.Case, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	vals, err := s.RDB.HMGet(ctx, s.k.CaseRecord(id), metaFields...).Result()
	if err != nil {
		return nil, s.Wrap("load case meta", err)
	}
	c := metaFromValues(id, vals)
	if c == nil {
		return nil, fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
	}
	return c, nil
}

var updateCaseScript = redis.NewScript(luaFingerprint + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if (redis.call('HGET', KEYS[1], 'version') or '') ~= ARGV[2] then return 'stale' end
if ARGV[3] ~= '-' and fingerprint(KEYS[5]) ~= ARGV[3] then return 'stale' end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if KEYS[2] ~= KEYS[3] then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[1])
end
redis.call('SREM', KEYS[4], ARGV[1])
if ARGV[4] ~= '1' then redis.call('SADD', KEYS[5], ARGV[1]) end
return 'ok'
`)

// UpdateCase stores c over prev, refusing with ErrCaseStale if the record
// moved since prev was loaded (or, when snap is set, the phone's bucket did).
// Sealed fields are sealed afresh under the case's existing data key.
func (s *Cases) UpdateCase(ctx context.Context, c, prev *casework.Case, snap casework.PhoneSnapshot) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	wrapped, err := s.RDB.Get(ctx, s.k.caseDataKey(c.ID)).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: case %s: %w", c.ID, casework.ErrNotFound)
	}
	if err != nil {
		return s.Wrap("update case", err)
	}
	dk, err := s.unwrap(c.ID, wrapped)
	if err != nil {
		return err
	}
	c.Bucket = s.Crypto.Index.Phone(c.Phone)
	vals, err := s.caseValues(c, dk)
	if err != nil {
		return err
	}
	check := "-"
	if snap != "" || !c.Phone.Equal(prev.Phone) {
		check = string(snap)
	}
	args := append([]any{c.ID, strconv.FormatInt(prev.Version, 10), check, kv.Flag(c.PhoneHeld)}, vals...)
	res, err := updateCaseScript.Run(ctx, s.RDB, []string{
		s.k.CaseRecord(c.ID), s.k.teamCases(prev.Team), s.k.teamCases(c.Team),
		s.k.casePhones(prev.Bucket), s.k.casePhones(c.Bucket),
	}, args...).Text()
	if err != nil {
		return s.Wrap("update case", err)
	}
	switch res {
	case "ok":
		return nil
	case "stale":
		return casework.ErrCaseStale
	default:
		return fmt.Errorf("store: case %s: %w", c.ID, casework.ErrNotFound)
	}
}

// CasesByPhone looks the phone up in the blind index and confirms each
// candidate of its bucket by opening its sealed phone. It returns the
// matching cases (opened) and a snapshot of the bucket. An erased or never
// enrolled number gives no case and no error.
func (s *Cases) CasesByPhone(ctx context.Context, phone pii.Phone) ([]*casework.Case, casework.PhoneSnapshot, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	bucket := s.Crypto.Index.Phone(phone)
	if bucket == "" {
		return nil, "", nil
	}
	ids, err := s.RDB.SMembers(ctx, s.k.casePhones(bucket)).Result()
	if err != nil {
		return nil, "", s.Wrap("cases by phone", err)
	}
	snap := snapshot(ids)
	recs, err := s.loadRaw(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	want := phone.Reveal()
	var out []*casework.Case
	for i, r := range recs {
		if r.h == nil {
			continue // erased between the two reads
		}
		// A candidate that does not open (its key-encryption key retired
		// before rotation reached it, or damage) must not make the lookup
		// fail for every other number in its bucket: it is skipped, loudly,
		// and its sender is treated as unknown, which still reaches triage.
		dk, err := s.unwrap(ids[i], r.wrapped)
		if err != nil {
			s.Log.Error("case lookup: candidate does not open", "case", ids[i], "err", err)
			continue
		}
		pt, err := s.openField(dk, ids[i], r.h, fPhone)
		if err != nil {
			s.Log.Error("case lookup: candidate does not open", "case", ids[i], "err", err)
			continue
		}
		match := string(pt) == want
		clear(pt)
		if !match {
			continue
		}
		c, err := s.decodeCase(ids[i], r.h, dk)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, snap, nil
}

type rawCase struct {
	h       map[string]string // nil if the case is gone
	wrapped string
}

// loadRaw reads the hashes and wrapped data keys of ids in one round trip.
func (s *conn) loadRaw(ctx context.Context, ids []string) ([]rawCase, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.RDB.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	ds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		hs[i] = pipe.HGetAll(ctx, s.k.CaseRecord(id))
		ds[i] = pipe.Get(ctx, s.k.caseDataKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("load cases", err)
	}
	out := make([]rawCase, len(ids))
	for i := range ids {
		if h := hs[i].Val(); len(h) > 0 && ds[i].Err() == nil {
			out[i] = rawCase{h: h, wrapped: ds[i].Val()}
		}
	}
	return out, nil
}

// TeamCases returns the team's cases with their plain fields and alias.
func (s *Cases) TeamCases(ctx context.Context, team string) ([]*casework.Case, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.SMembers(ctx, s.k.teamCases(team)).Result()
	if err != nil {
		return nil, s.Wrap("team cases", err)
	}
	slices.Sort(ids)
	recs, err := s.loadRaw(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*casework.Case, 0, len(ids))
	for i, r := range recs {
		if r.h == nil {
			continue
		}
		dk, err := s.unwrap(ids[i], r.wrapped)
		if err != nil {
			return nil, err
		}
		alias, err := s.openField(dk, ids[i], r.h, fAlias)
		if err != nil {
			return nil, err
		}
		c := decodeMeta(ids[i], r.h)
		c.Alias = pii.NewText(string(alias))
		out = append(out, c)
	}
	return out, nil
}

var renewCaseScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
redis.call('HSET', KEYS[1], 'renewed_at', ARGV[2], 'expires_at', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 'ok'
`)

// RenewCase sets the case's renewal and expiry times.
func (s *Cases) RenewCase(ctx context.Context, id string, renewedAt, expiresAt time.Time) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := renewCaseScript.Run(ctx, s.RDB, []string{s.k.CaseRecord(id), s.k.caseExpiry()},
		id, kv.MS(renewedAt), kv.MS(expiresAt)).Text()
	if err != nil {
		return s.Wrap("renew case", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
	}
	return nil
}

var setFlagScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 'ok'
`)

// SetCaseFlag sets one of the case's plain flags: legal_hold, sms_blocked
// or review.
func (s *Cases) SetCaseFlag(ctx context.Context, id, name string, on bool) error {
	switch name {
	case fLegalHold, fSMSBlocked, fReview:
	default:
		return fmt.Errorf("store: case flag %q unknown", name)
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := setFlagScript.Run(ctx, s.RDB, []string{s.k.CaseRecord(id)}, name, kv.Flag(on)).Text()
	if err != nil {
		return s.Wrap("set case flag", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
	}
	return nil
}

var setPracticeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
redis.call('HSET', KEYS[1], 'practice_until', ARGV[1], 'practice_by', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 'ok'
`)

// SetPractice stores the case's practice window; a zero window closes it.
func (s *Cases) SetPractice(ctx context.Context, id string, w casework.PracticeWindow) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := setPracticeScript.Run(ctx, s.RDB, []string{s.k.CaseRecord(id)}, kv.MS(w.Until), w.By).Text()
	if err != nil {
		return s.Wrap("set practice window", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
	}
	return nil
}

var linkCaseScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if (redis.call('HGET', KEYS[1], 'linked') or '') ~= ARGV[1] then return 'linked' end
redis.call('HSET', KEYS[1], 'linked', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 'ok'
`)

// SetCaseLink sets the case's linked case to to if it is now from (""
// for none): the other half of a link, so both cases show it. ErrConflict
// if the case links elsewhere, ErrNotFound if it is gone.
func (s *Cases) SetCaseLink(ctx context.Context, id, from, to string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := linkCaseScript.Run(ctx, s.RDB, []string{s.k.CaseRecord(id)}, from, to).Text()
	if err != nil {
		return s.Wrap("link case", err)
	}
	switch res {
	case "ok":
		return nil
	case "linked":
		return fmt.Errorf("store: case %s links elsewhere: %w", id, casework.ErrConflict)
	default:
		return fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
	}
}

// SetPhoneReview adds the case to the administrators' queue of phones held
// for review (on) at at, or takes it off.
func (s *Cases) SetPhoneReview(ctx context.Context, id string, at time.Time, on bool) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	var err error
	if on {
		err = s.RDB.ZAdd(ctx, s.k.phoneReviews(), redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err()
	} else {
		err = s.RDB.ZRem(ctx, s.k.phoneReviews(), id).Err()
	}
	return s.Wrap("phone review", err)
}

// PhoneReviews lists the cases whose phone waits for review, oldest first,
// with when each was held.
func (s *Cases) PhoneReviews(ctx context.Context) ([]casework.PhoneReview, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	zs, err := s.RDB.ZRangeWithScores(ctx, s.k.phoneReviews(), 0, -1).Result()
	if err != nil {
		return nil, s.Wrap("phone reviews", err)
	}
	out := make([]casework.PhoneReview, 0, len(zs))
	for _, z := range zs {
		id, _ := z.Member.(string)
		out = append(out, casework.PhoneReview{Case: id, HeldAt: time.UnixMilli(int64(z.Score))})
	}
	return out, nil
}

var eraseCaseScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('HGET', KEYS[1], 'legal_hold') == '1' then return 'hold' end
local tags = redis.call('HVALS', KEYS[3])
table.sort(tags)
local codes = redis.call('ZRANGE', KEYS[4], 0, -1)
table.sort(codes)
if table.concat(tags, ',') ~= ARGV[2] or table.concat(codes, ',') ~= ARGV[3] then return 'stale' end
for i = 9, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('SREM', KEYS[6], ARGV[1])
redis.call('SREM', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[8], ARGV[1])
return 'ok'
`)

// EraseCase destroys a case in one script: its data key first among equals
// (without it no copy of a sealed field opens again), the record, the
// blind-index, team and expiry entries, its devices and their tokens, its
// pending enrolment codes, its check-in schedule and log, its outcome
// counts and its alert pointers. ErrLegalHold if held.
func (s *Cases) EraseCase(ctx context.Context, id string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	for attempt := 0; attempt < 4; attempt++ {
		pipe := s.RDB.Pipeline()
		meta := pipe.HMGet(ctx, s.k.CaseRecord(id), fTeam, fBucket)
		devs := pipe.HVals(ctx, s.k.caseDevices(id))
		codes := pipe.ZRange(ctx, s.k.caseEnrolCodes(id), 0, -1)
		if _, err := pipe.Exec(ctx); err != nil {
			return s.Wrap("erase case", err)
		}
		mv := meta.Val()
		team, _ := mv[0].(string)
		bucket, _ := mv[1].(string)
		keys := []string{s.k.CaseRecord(id), s.k.caseDataKey(id), s.k.caseDevices(id), s.k.caseEnrolCodes(id),
			s.k.checkins(id), s.k.teamCases(team), s.k.casePhones(bucket), s.k.caseExpiry()}
		for _, t := range devs.Val() {
			keys = append(keys, s.k.device(t))
		}
		for _, t := range codes.Val() {
			keys = append(keys, s.k.enrolCode(t))
		}
		// What the alert work keeps per case goes too: the check-in log
		// (unreadable without the data key, but its size and timing would
		// remain), outcome counts and the alert pointers.
		keys = append(keys, s.k.caseCheckinLog(id), s.k.caseOutcomes(id), s.k.caseOpenAlert(id), s.k.caseLastAlert(id),
			s.k.caseHistory(id))
		tags, cs := slices.Sorted(slices.Values(devs.Val())), slices.Sorted(slices.Values(codes.Val()))
		res, err := eraseCaseScript.Run(ctx, s.RDB, keys, id, strings.Join(tags, ","), strings.Join(cs, ",")).Text()
		if err != nil {
			return s.Wrap("erase case", err)
		}
		switch res {
		case "ok":
			return nil
		case "hold":
			return casework.ErrLegalHold
		case "missing":
			return fmt.Errorf("store: case %s: %w", id, casework.ErrNotFound)
		}
	}
	return fmt.Errorf("store: erase case %s: %w", id, casework.ErrCaseStale)
}

// CaseActivity reports the case's check-in schedule state and the latest
// use of any of its devices.
func (s *Cases) CaseActivity(ctx context.Context, id string) (casework.CaseActivity, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	pipe := s.RDB.Pipeline()
	active := pipe.HGet(ctx, s.k.checkins(id), "active")
	tags := pipe.HVals(ctx, s.k.caseDevices(id))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return casework.CaseActivity{}, s.Wrap("case activity", err)
	}
	var act casework.CaseActivity
	switch active.Val() {
	case "1", "true":
		act.CheckinsActive = true
	}
	if len(tags.Val()) == 0 {
		return act, nil
	}
	pipe = s.RDB.Pipeline()
	used := make([]*redis.StringCmd, len(tags.Val()))
	for i, t := range tags.Val() {
		used[i] = pipe.HGet(ctx, s.k.device(t), "last_used_at")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return casework.CaseActivity{}, s.Wrap("case activity", err)
	}
	for _, u := range used {
		if t := kv.FromMS(u.Val()); t.After(act.LastDeviceUse) {
			act.LastDeviceUse = t
		}
	}
	return act, nil
}

// ExpiringCaseIDs lists the cases whose expiry is at or before until.
func (s *Cases) ExpiringCaseIDs(ctx context.Context, until time.Time) ([]string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRangeByScore(ctx, s.k.caseExpiry(), &redis.ZRangeBy{Min: "-inf", Max: kv.MS(until)}).Result()
	if err != nil {
		return nil, s.Wrap("expiring cases", err)
	}
	return ids, nil
}

// OpenAlertClaim returns the state and owner of the case's open alert, as
// the alert service keeps them (keys.caseOpenAlert → the alert hash's plain
// state and owner fields); "", "" when there is none.
func (s *Cases) OpenAlertClaim(ctx context.Context, caseID string) (state, owner string, err error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	aid, err := s.RDB.Get(ctx, s.k.caseOpenAlert(caseID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", nil
	}
	if err != nil {
		return "", "", s.Wrap("open alert claim", err)
	}
	v, err := s.RDB.HMGet(ctx, s.k.AlertRecord(aid), "case", "state", "owner").Result()
	if err != nil {
		return "", "", s.Wrap("open alert claim", err)
	}
	c, _ := v[0].(string)
	if c != caseID {
		return "", "", nil
	}
	state, _ = v[1].(string)
	owner, _ = v[2].(string)
	return state, owner, nil
}

// OpenAlertDuress reports whether the case's open alert carries a duress
// signal (its plain class field); false when there is none.
func (s *Cases) OpenAlertDuress(ctx context.Context, caseID string) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	aid, err := s.RDB.Get(ctx, s.k.caseOpenAlert(caseID)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, s.Wrap("open alert duress", err)
	}
	v, err := s.RDB.HMGet(ctx, s.k.AlertRecord(aid), "case", afClass).Result()
	if err != nil {
		return false, s.Wrap("open alert duress", err)
	}
	c, _ := v[0].(string)
	class, _ := v[1].(string)
	return c == caseID && class == "duress", nil
}

var takeRevealScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 'start') or '0')
if now - start >= window or now < start then
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'n', 0)
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], window * 2)
if n > tonumber(ARGV[3]) then return 0 end
return 1
`)

// TakeReveal counts one reveal attempt of staffID in a fixed window that
// starts at its first attempt, decided against the stored start and the
// store's clock (the key's TTL only cleans up).
func (s *Cases) TakeReveal(ctx context.Context, staffID string, limit int, window time.Duration) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := takeRevealScript.Run(ctx, s.RDB, []string{s.k.revealLimit(staffID)},
		kv.MS(s.Now()), window.Milliseconds(), limit).Int()
	if err != nil {
		return false, s.Wrap("reveal limit", err)
	}
	return n == 1, nil
}
