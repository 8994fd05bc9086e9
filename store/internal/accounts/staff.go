package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/pii"
	"waymark/staff"
	"waymark/store/internal/kv"
)

var _ staff.Store = (*Staff)(nil)

// Staff account hash fields. Username, display name, phone and both
// credentials are sealed under the key-encryption key, bound to the
// account's key and the field; the rest is plain.
const (
	sfID          = "id"
	sfUsername    = "username"     // sealed
	sfDisplayName = "display_name" // sealed
	sfRoles       = "roles"        // comma list
	sfTeams       = "teams"        // comma list
	sfPhone       = "phone"        // sealed E.164
	sfPhoneBucket = "phone_bucket" // blind-index bucket, so the entry can be removed
	sfPassword    = "password"     // sealed PHC string
	sfTOTP        = "totp"         // sealed base32
	sfTOTPPending = "totp_pending" // sealed base32, during setup
	sfTOTPStep    = "totp_step"
	sfDisabled    = "disabled" // "1" or absent
	sfCreated     = "created"  // unix ms
)

// The scripts below are immutable once built; they live at package level
// like any constant table.
var (
	// createStaffScript: KEYS names, staff, all[, phone bucket];
	// ARGV name tag, id, field, value, ...
	createStaffScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('SADD', KEYS[3], ARGV[2])
if #KEYS >= 4 then redis.call('SADD', KEYS[4], ARGV[2]) end
return 1`)

	// staffHsetScript sets fields of a hash that exists; 0 if it does not.
	staffHsetScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`)

	// enrolTOTPScript: KEYS staff; ARGV sealed secret, step.
	enrolTOTPScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'totp', ARGV[1], 'totp_step', ARGV[2])
redis.call('HDEL', KEYS[1], 'totp_pending')
return 1`)

	// totpStepScript: KEYS staff; ARGV step. 1 fresh, 0 used, -1 no account.
	totpStepScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local last = tonumber(redis.call('HGET', KEYS[1], 'totp_step') or '-1') or -1
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'totp_step', ARGV[1])
return 1`)

	// disableStaffScript: KEYS staff, staff sessions, staff web push,
	// session...
	disableStaffScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'disabled', '1')
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[3])
return 1`)
)

// usernameTag is the tag a username is indexed under in staff:names.
func (s *conn) usernameTag(username string) string { return s.Tag("username", username) }

// CreateStaff stores a new account, sealing its personal fields and
// credentials; staff.ErrConflict when the username is taken.
func (s *Staff) CreateStaff(ctx context.Context, a *staff.Account) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.staff(a.ID)
	args := []any{s.usernameTag(a.Username), a.ID,
		sfID, a.ID,
		sfRoles, joinRoles(a.Roles),
		sfTeams, strings.Join(a.Teams, ","),
		sfTOTPStep, strconv.FormatInt(a.TOTPStep, 10),
		sfCreated, strconv.FormatInt(a.Created.UnixMilli(), 10),
	}
	if a.Disabled {
		args = append(args, sfDisabled, "1")
	}
	sealed := []struct {
		field, value string
	}{
		{sfUsername, a.Username},
		{sfDisplayName, a.DisplayName},
		{sfPhone, a.Phone.Reveal()},
		{sfPassword, a.PasswordHash.Reveal()},
		{sfTOTP, a.TOTPSecret.Reveal()},
		{sfTOTPPending, a.TOTPPending.Reveal()},
	}
	for _, f := range sealed {
		if f.value == "" {
			continue
		}
		ct, err := s.SealKEK(key, f.field, []byte(f.value))
		if err != nil {
			return err
		}
		args = append(args, f.field, ct)
	}
	keys := []string{s.k.staffNames(), key, s.k.staffAll()}
	if !a.Phone.IsZero() {
		bucket := s.Crypto.Index.Phone(a.Phone)
		args = append(args, sfPhoneBucket, bucket)
		keys = append(keys, s.k.staffPhones(bucket))
	}
	n, err := createStaffScript.Run(ctx, s.RDB, keys, args...).Int()
	if err != nil {
		return s.Wrap("create staff "+a.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("store: create staff %s: username taken: %w", a.ID, staff.ErrConflict)
	}
	return nil
}

// StaffByID loads an account.
func (s *Staff) StaffByID(ctx context.Context, id string) (*staff.Account, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	m, err := s.RDB.HGetAll(ctx, s.k.staff(id)).Result()
	if err != nil {
		return nil, s.Wrap("load staff "+id, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("store: load staff %s: %w", id, staff.ErrNotFound)
	}
	return s.decodeStaff(id, m)
}

// StaffByUsername loads the account of a (normalised) username.
func (s *Staff) StaffByUsername(ctx context.Context, username string) (*staff.Account, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	id, err := s.RDB.HGet(ctx, s.k.staffNames(), s.usernameTag(username)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: staff by username: %w", staff.ErrNotFound)
	}
	if err != nil {
		return nil, s.Wrap("staff by username", err)
	}
	return s.StaffByID(ctx, id)
}

// StaffByPhone finds the account whose page phone is p: the blind-index
// bucket names a few candidates, and opening their phones tells them apart.
func (s *Staff) StaffByPhone(ctx context.Context, p pii.Phone) (*staff.Account, error) {
	if p.IsZero() {
		return nil, fmt.Errorf("store: staff by phone: %w", staff.ErrNotFound)
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.SMembers(ctx, s.k.staffPhones(s.Crypto.Index.Phone(p))).Result()
	if err != nil {
		return nil, s.Wrap("staff by phone", err)
	}
	cmds := make([]*redis.StringCmd, len(ids))
	if _, err := s.RDB.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HGet(ctx, s.k.staff(id), sfPhone)
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("staff by phone", err)
	}
	want := p.Reveal()
	for i, id := range ids {
		ct, err := cmds[i].Bytes()
		if err != nil {
			continue // removed since, or no phone any more
		}
		pt, err := s.OpenKEK(s.k.staff(id), sfPhone, ct)
		if err != nil {
			return nil, err
		}
		if string(pt) == want {
			return s.StaffByID(ctx, id)
		}
	}
	return nil, fmt.Errorf("store: staff by phone: %w", staff.ErrNotFound)
}

// ListStaff loads every account.
func (s *Staff) ListStaff(ctx context.Context) ([]*staff.Account, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.SMembers(ctx, s.k.staffAll()).Result()
	if err != nil {
		return nil, s.Wrap("list staff", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.RDB.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, s.k.staff(id))
		}
		return nil
	}); err != nil {
		return nil, s.Wrap("list staff", err)
	}
	out := make([]*staff.Account, 0, len(ids))
	for i, id := range ids {
		m := cmds[i].Val()
		if len(m) == 0 {
			continue
		}
		a, err := s.decodeStaff(id, m)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// decodeStaff builds an Account from its hash, opening the sealed fields.
func (s *conn) decodeStaff(id string, m map[string]string) (*staff.Account, error) {
	key := s.k.staff(id)
	open := func(field string) (string, error) {
		ct, ok := m[field]
		if !ok || ct == "" {
			return "", nil
		}
		pt, err := s.OpenKEK(key, field, []byte(ct))
		return string(pt), err
	}
	a := &staff.Account{ID: id, Disabled: m[sfDisabled] == "1", Teams: splitStaffList(m[sfTeams])}
	for _, r := range splitStaffList(m[sfRoles]) {
		a.Roles = append(a.Roles, staff.Role(r))
	}
	if ms, err := strconv.ParseInt(m[sfCreated], 10, 64); err == nil {
		a.Created = time.UnixMilli(ms)
	}
	if n, err := strconv.ParseInt(m[sfTOTPStep], 10, 64); err == nil {
		a.TOTPStep = n
	}
	var err error
	if a.Username, err = open(sfUsername); err != nil {
		return nil, err
	}
	if a.DisplayName, err = open(sfDisplayName); err != nil {
		return nil, err
	}
	phone, err := open(sfPhone)
	if err != nil {
		return nil, err
	}
	if phone != "" {
		if a.Phone, err = pii.ParsePhone(phone, ""); err != nil {
			return nil, fmt.Errorf("store: staff %s: stored phone: %w", id, err)
		}
	}
	for _, f := range []struct {
		field string
		dst   *staff.Secret
	}{{sfPassword, &a.PasswordHash}, {sfTOTP, &a.TOTPSecret}, {sfTOTPPending, &a.TOTPPending}} {
		v, err := open(f.field)
		if err != nil {
			return nil, err
		}
		*f.dst = staff.Secret(v)
	}
	return a, nil
}

// setSealed seals value into field of an existing account.
func (s *conn) setSealed(ctx context.Context, op, id, field string, value staff.Secret) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.staff(id)
	ct, err := s.SealKEK(key, field, []byte(value.Reveal()))
	if err != nil {
		return err
	}
	n, err := staffHsetScript.Run(ctx, s.RDB, []string{key}, field, ct).Int()
	if err != nil {
		return s.Wrap(op+" "+id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s %s: %w", op, id, staff.ErrNotFound)
	}
	return nil
}

// SetPassword replaces the account's password hash.
func (s *Staff) SetPassword(ctx context.Context, id string, hash staff.Secret) error {
	return s.setSealed(ctx, "set password", id, sfPassword, hash)
}

// SetPendingTOTP keeps a second factor offered during setup.
func (s *Staff) SetPendingTOTP(ctx context.Context, id string, secret staff.Secret) error {
	return s.setSealed(ctx, "set pending totp", id, sfTOTPPending, secret)
}

// EnrolTOTP makes secret the account's second factor with step used.
func (s *Staff) EnrolTOTP(ctx context.Context, id string, secret staff.Secret, step int64) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.staff(id)
	ct, err := s.SealKEK(key, sfTOTP, []byte(secret.Reveal()))
	if err != nil {
		return err
	}
	n, err := enrolTOTPScript.Run(ctx, s.RDB, []string{key}, ct, step).Int()
	if err != nil {
		return s.Wrap("enrol totp "+id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: enrol totp %s: %w", id, staff.ErrNotFound)
	}
	return nil
}

// UseTOTPStep records step as used if it is later than the last one.
func (s *Staff) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := totpStepScript.Run(ctx, s.RDB, []string{s.k.staff(id)}, step).Int()
	if err != nil {
		return false, s.Wrap("use totp step "+id, err)
	}
	if n < 0 {
		return false, fmt.Errorf("store: use totp step %s: %w", id, staff.ErrNotFound)
	}
	return n == 1, nil
}

// DisableStaff marks the account disabled, deletes its sessions and its
// Web Push subscriptions in the same step (a disabled account's browsers
// must not be woken for alerts), and announces each ended session to every
// instance.
func (s *Staff) DisableStaff(ctx context.Context, id string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	tags, err := s.RDB.SMembers(ctx, s.k.staffSessions(id)).Result()
	if err != nil {
		return s.Wrap("disable staff "+id, err)
	}
	keys := []string{s.k.staff(id), s.k.staffSessions(id), s.k.staffWebPush(id)}
	for _, t := range tags {
		keys = append(keys, s.k.session(t))
	}
	n, err := disableStaffScript.Run(ctx, s.RDB, keys).Int()
	if err != nil {
		return s.Wrap("disable staff "+id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: disable staff %s: %w", id, staff.ErrNotFound)
	}
	// A session created between SMEMBERS and the script survives in Redis,
	// but every request checks the disabled flag, so it is dead anyway.
	for _, t := range tags {
		if err := s.RDB.Publish(ctx, s.k.revoked(), t).Err(); err != nil {
			return s.Wrap("announce revoked session", err)
		}
	}
	return nil
}

// updateStaffAccessScript: KEYS staff, staff sessions, session...; ARGV
// enable ("1" clears the disabled flag), then field, value pairs. The
// account's sessions end, so the new roles and teams apply from its next
// sign-in (and its dashboards reconnect under them).
var updateStaffAccessScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '1' then redis.call('HDEL', KEYS[1], 'disabled') end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[2])
return 1`)

// UpdateStaffAccess sets an account's roles and teams (nil keeps them)
// and, with enable, lifts its disabling. Its sessions end at once, on
// every instance, so nobody keeps rights they no longer have.
func (s *Staff) UpdateStaffAccess(ctx context.Context, id string, roles []staff.Role, teams []string, enable bool) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	tags, err := s.RDB.SMembers(ctx, s.k.staffSessions(id)).Result()
	if err != nil {
		return s.Wrap("update staff "+id, err)
	}
	keys := []string{s.k.staff(id), s.k.staffSessions(id)}
	for _, t := range tags {
		keys = append(keys, s.k.session(t))
	}
	args := []any{kv.Flag(enable)}
	if roles != nil {
		args = append(args, sfRoles, joinRoles(roles))
	}
	if teams != nil {
		args = append(args, sfTeams, strings.Join(teams, ","))
	}
	n, err := updateStaffAccessScript.Run(ctx, s.RDB, keys, args...).Int()
	if err != nil {
		return s.Wrap("update staff "+id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: update staff %s: %w", id, staff.ErrNotFound)
	}
	for _, t := range tags {
		if err := s.RDB.Publish(ctx, s.k.revoked(), t).Err(); err != nil {
			return s.Wrap("announce revoked session", err)
		}
	}
	return nil
}

func joinRoles(rs []staff.Role) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ",")
}

// splitStaffList splits a stored comma list; "" is no items.
func splitStaffList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
