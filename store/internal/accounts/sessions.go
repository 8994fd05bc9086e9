package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/staff"
	"waymark/store/internal/kv"
)

// Session hash fields (all unix ms but staff).
const (
	sessStaff   = "staff"
	sessCreated = "created"
	sessSeen    = "seen"
	sessAuthAt  = "auth_at"
)

var (
	// createSessionScript: KEYS session, staff sessions; ARGV staff id,
	// created, seen, auth_at, keep (ms), tag.
	createSessionScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'staff', ARGV[1], 'created', ARGV[2], 'seen', ARGV[3], 'auth_at', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[2], ARGV[6])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return 1`)

	// sessionHsetScript sets fields of a session that still exists.
	sessionHsetScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`)

	// throttleScript: KEYS the subjects' counters; ARGV now, window, base,
	// cap (ms), keep (s), then each subject's free allowance. Returns the
	// wait in ms, or 0 after counting this attempt against every subject.
	throttleScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local wait = 0
local counts = {}
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'n', 'last')
  local n = tonumber(v[1]) or 0
  local last = tonumber(v[2]) or 0
  if n > 0 and now - last > window then n = 0 end
  counts[i] = n
  local over = n - tonumber(ARGV[5 + i])
  if over > 0 then
    local d = base
    for j = 2, over do
      if d >= cap then break end
      d = d * 2
    end
    if d > cap then d = cap end
    local w = last + d - now
    if w > cap then w = cap end
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'n', counts[i] + 1, 'last', now)
  redis.call('EXPIRE', KEYS[i], ARGV[5])
end
return 0`)

	// forgiveScript takes one attempt back from a counter.
	forgiveScript = redis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') or 0
if n > 0 then redis.call('HINCRBY', KEYS[1], 'n', -1) end
return 1`)
)

// --- setup links ---

// PutSetupToken stores a one-time setup token for staffID until expires.
func (s *Staff) PutSetupToken(ctx context.Context, token staff.Secret, staffID string, expires time.Time) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v := staffID + " " + strconv.FormatInt(expires.UnixMilli(), 10)
	if err := s.RDB.Set(ctx, s.k.setupLink(s.Tag("setup", token.Reveal())), v, s.TTLUntil(expires)).Err(); err != nil {
		return s.Wrap("put setup token", err)
	}
	return nil
}

// SetupToken returns the account and expiry of a setup token; the caller
// decides whether it has expired.
func (s *Staff) SetupToken(ctx context.Context, token staff.Secret) (string, time.Time, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v, err := s.RDB.Get(ctx, s.k.setupLink(s.Tag("setup", token.Reveal()))).Result()
	if errors.Is(err, redis.Nil) {
		return "", time.Time{}, fmt.Errorf("store: setup token: %w", staff.ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, s.Wrap("setup token", err)
	}
	id, exp, ok := parseOwnerExpiry(v)
	if !ok {
		return "", time.Time{}, fmt.Errorf("store: setup token: malformed record: %w", staff.ErrNotFound)
	}
	return id, exp, nil
}

// DeleteSetupToken uses up a setup token.
func (s *Staff) DeleteSetupToken(ctx context.Context, token staff.Secret) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if err := s.RDB.Del(ctx, s.k.setupLink(s.Tag("setup", token.Reveal()))).Err(); err != nil {
		return s.Wrap("delete setup token", err)
	}
	return nil
}

func parseOwnerExpiry(v string) (string, time.Time, bool) {
	id, ms, ok := strings.Cut(v, " ")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return "", time.Time{}, false
	}
	return id, time.UnixMilli(n), true
}

// --- sessions ---

// SessionTag is the keyed tag a session token is stored under.
func (s *Staff) SessionTag(token staff.Secret) string { return s.Tag("session", token.Reveal()) }

// CreateSession stores a session and lists it under its account; Redis
// drops both after keep.
func (s *Staff) CreateSession(ctx context.Context, sess staff.Session, keep time.Duration) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	keys := []string{s.k.session(sess.Tag), s.k.staffSessions(sess.StaffID)}
	err := createSessionScript.Run(ctx, s.RDB, keys, sess.StaffID,
		sess.Created.UnixMilli(), sess.Seen.UnixMilli(), sess.AuthAt.UnixMilli(), keep.Milliseconds(), sess.Tag).Err()
	if err != nil {
		return s.Wrap("create session", err)
	}
	return nil
}

// Session loads a session by tag.
func (s *Staff) Session(ctx context.Context, tag string) (staff.Session, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	m, err := s.RDB.HGetAll(ctx, s.k.session(tag)).Result()
	if err != nil {
		return staff.Session{}, s.Wrap("load session", err)
	}
	if len(m) == 0 || m[sessStaff] == "" {
		return staff.Session{}, fmt.Errorf("store: load session: %w", staff.ErrNotFound)
	}
	sess := staff.Session{Tag: tag, StaffID: m[sessStaff]}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{sessCreated, &sess.Created}, {sessSeen, &sess.Seen}, {sessAuthAt, &sess.AuthAt}} {
		ms, err := strconv.ParseInt(m[f.name], 10, 64)
		if err != nil {
			// A damaged session is no session.
			return staff.Session{}, fmt.Errorf("store: load session: bad %s: %w", f.name, staff.ErrNotFound)
		}
		*f.dst = time.UnixMilli(ms)
	}
	return sess, nil
}

func (s *conn) setSession(ctx context.Context, op, tag string, args ...any) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := sessionHsetScript.Run(ctx, s.RDB, []string{s.k.session(tag)}, args...).Int()
	if err != nil {
		return s.Wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", op, staff.ErrNotFound)
	}
	return nil
}

// TouchSession records activity on a session.
func (s *Staff) TouchSession(ctx context.Context, tag string, seen time.Time) error {
	return s.setSession(ctx, "touch session", tag, sessSeen, seen.UnixMilli())
}

// SetSessionAuthAt records a fresh password and code check in a session.
func (s *Staff) SetSessionAuthAt(ctx context.Context, tag string, at time.Time) error {
	return s.setSession(ctx, "reauth session", tag, sessAuthAt, at.UnixMilli(), sessSeen, at.UnixMilli())
}

// EndSession deletes a session and announces its tag on the revocation
// channel, so every instance's hub can close its sockets.
func (s *Staff) EndSession(ctx context.Context, staffID, tag string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if _, err := s.RDB.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, s.k.session(tag))
		pipe.SRem(ctx, s.k.staffSessions(staffID), tag)
		return nil
	}); err != nil {
		return s.Wrap("end session", err)
	}
	if err := s.RDB.Publish(ctx, s.k.revoked(), tag).Err(); err != nil {
		return s.Wrap("announce revoked session", err)
	}
	return nil
}

// SubscribeRevocations delivers the tag of every session ended from now on
// (logout, disabled account, expiry found), on any instance, until ctx ends;
// then the channel is closed. It returns once Redis has confirmed the
// subscription (or, if Redis is away, after trying for the store's
// deadline; the client keeps retrying). Pub/sub is at-most-once: a hub that
// lost its connection to Redis must re-check its sockets' sessions
// (staff.Service.Resume) when it is back.
func (s *Tickets) SubscribeRevocations(ctx context.Context) <-chan string {
	sub := s.RDB.Subscribe(ctx, s.k.revoked())
	rctx, cancel := kv.Bounded(ctx)
	if _, err := sub.Receive(rctx); err != nil {
		s.Log.Warn("revocation subscription not confirmed yet", "err", err)
	}
	cancel()
	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer sub.Close()
		in := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- m.Payload:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// --- WebSocket tickets ---

// PutTicket stores a single-use WebSocket ticket for a session.
func (s *Staff) PutTicket(ctx context.Context, ticket staff.Secret, staffID, sessionTag string, expires time.Time) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v := staffID + " " + strconv.FormatInt(expires.UnixMilli(), 10) + " " + sessionTag
	if err := s.RDB.Set(ctx, s.k.wsTicket(s.Tag("ticket", ticket.Reveal())), v, s.TTLUntil(expires)).Err(); err != nil {
		return s.Wrap("put ticket", err)
	}
	return nil
}

// ConsumeTicket redeems a WebSocket ticket: atomically fetched and deleted
// (GETDEL), so it works once, and refused after its expiry by the store's
// clock. A wrong, used or expired ticket is staff.ErrUnauthorized. The
// caller then checks the session is still alive (staff.Service.Resume).
func (s *Tickets) ConsumeTicket(ctx context.Context, ticket string) (staffID, sessionTag string, err error) {
	if ticket == "" || len(ticket) > 256 {
		return "", "", fmt.Errorf("store: consume ticket: %w", staff.ErrUnauthorized)
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	v, err := s.RDB.GetDel(ctx, s.k.wsTicket(s.Tag("ticket", ticket))).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", fmt.Errorf("store: consume ticket: %w", staff.ErrUnauthorized)
	}
	if err != nil {
		return "", "", s.Wrap("consume ticket", err)
	}
	owner, tag, _ := strings.Cut(v, " ")
	expMS, tag, _ := strings.Cut(tag, " ")
	ms, perr := strconv.ParseInt(expMS, 10, 64)
	if perr != nil || owner == "" || tag == "" {
		return "", "", fmt.Errorf("store: consume ticket: malformed record: %w", staff.ErrUnauthorized)
	}
	if !s.Now().Before(time.UnixMilli(ms)) {
		return "", "", fmt.Errorf("store: consume ticket: expired: %w", staff.ErrUnauthorized)
	}
	return owner, tag, nil
}

// --- sign-in throttling ---

func (s *conn) throttleKey(sub staff.ThrottleSubject) string {
	return s.k.throttle(string(sub.Kind), s.Tag("throttle:"+string(sub.Kind), sub.Value))
}

// Throttle checks and counts a sign-in attempt against every subject in one
// atomic step (see staff.ThrottlePolicy).
func (s *Staff) Throttle(ctx context.Context, p staff.ThrottlePolicy, now time.Time, subjects ...staff.ThrottleSubject) (time.Duration, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	keys := make([]string, len(subjects))
	args := []any{now.UnixMilli(), p.Window.Milliseconds(), p.Base.Milliseconds(), p.Cap.Milliseconds(),
		int64((p.Window + kv.CleanupSlack) / time.Second)}
	for i, sub := range subjects {
		keys[i] = s.throttleKey(sub)
		args = append(args, sub.Free)
	}
	ms, err := throttleScript.Run(ctx, s.RDB, keys, args...).Int64()
	if err != nil {
		return 0, s.Wrap("throttle", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// ClearThrottle forgets a subject's failures.
func (s *Staff) ClearThrottle(ctx context.Context, sub staff.ThrottleSubject) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if err := s.RDB.Del(ctx, s.throttleKey(sub)).Err(); err != nil {
		return s.Wrap("clear throttle", err)
	}
	return nil
}

// SignInDevice returns the username the sign-in device cookie token
// vouches for, or "".
func (s *Staff) SignInDevice(ctx context.Context, token string) (string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	u, err := s.RDB.Get(ctx, s.k.signInDevice(s.Tag("signin-device", token))).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", s.Wrap("sign-in device", err)
	}
	return u, nil
}

// TrustSignInDevice makes token vouch for username for ttl.
func (s *Staff) TrustSignInDevice(ctx context.Context, token, username string, ttl time.Duration) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	err := s.RDB.Set(ctx, s.k.signInDevice(s.Tag("signin-device", token)), username, ttl).Err()
	return s.Wrap("trust sign-in device", err)
}

// ForgiveAttempt takes one counted attempt back from a subject.
func (s *Staff) ForgiveAttempt(ctx context.Context, sub staff.ThrottleSubject) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if err := forgiveScript.Run(ctx, s.RDB, []string{s.throttleKey(sub)}).Err(); err != nil {
		return s.Wrap("forgive attempt", err)
	}
	return nil
}
