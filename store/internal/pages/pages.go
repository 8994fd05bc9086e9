// Package pages keeps, for package store, the outbox of pages to send: the
// stream escalation's workers read, its dead letters, the leases
// instances take turns with, and the scheduler's timer fences.
package pages

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/auditor"
	"waymark/oncall"
	"waymark/outbox"
	"waymark/store/internal/kv"
)

// The outbox (keys.outbox()) is a stream of pages to send, consumed by the
// group "pages": every instance is one consumer. A page is appended by the
// alert commit script in the same atomic step as the escalation step that
// decided it, so a page exists exactly when its step does. A consumer
// reads new pages with XREADGROUP, checks just before sending that it
// still holds the page and that the alert is still raised, unclaimed and
// under the page's token (BeginPage, one script), keeps its claim fresh
// with XCLAIM while it sends, and removes the page (XACK and XDEL) when
// done. A consumer that dies leaves its pages pending; after ClaimIdle
// another takes them over with XAUTOCLAIM. Pages that fail repeatedly move
// to keys.outboxDead(), trimmed to about 10,000 entries. Entries hold ids,
// channel names and times only: never a phone number.

var (
	_ auditor.Store = (*Store)(nil)
	_ outbox.Store  = (*Store)(nil)
)

// Store is escalation's store: the outbox stream (outbox.Store) and the
// auditor's lease (auditor.Store).
type Store struct {
	*kv.Conn
	k keyspace
}

// New returns escalation's store over c.
func New(c *kv.Conn) *Store {
	return &Store{Conn: c, k: keyspace{Keys: kv.NewKeys(c.Prefix), p: c.Prefix}}
}

// outboxGroup is the outbox's consumer group.
const outboxGroup = "pages"

// Stream trimming rules: the outbox only ever holds unsent pages (sent ones
// are deleted), so its cap is a safety net; the dead-letter stream keeps
// the most recent failures for operators.
const (
	outboxCap = 100000
	deadCap   = 10000
)

// Fields are the outbox fields of a page, in XADD order.
func Fields(p alert.Page) []any {
	return []any{"ref", p.Ref, "alert", p.Alert, "team", p.Team, "token", p.Token, "who", p.Who,
		"channel", string(p.Channel), "step", p.Step, "deadline", p.Deadline.UnixMilli(), "mode", string(p.Mode)}
}

func parsePage(id string, v map[string]any, deliveries int64) alert.Page {
	str := func(k string) string { s, _ := v[k].(string); return s }
	p := alert.Page{ID: id, Ref: str("ref"), Alert: str("alert"), Team: str("team"), Token: str("token"),
		Who: str("who"), Channel: oncall.Channel(str("channel")), Deadline: kv.FromMS(str("deadline")), Deliveries: deliveries,
		Mode: alert.Mode(str("mode"))}
	if !p.Mode.Valid() {
		p.Mode = alert.ModeReal
	}
	p.Step, _ = strconv.Atoi(str("step"))
	return p
}

// EnsureOutbox creates the consumer group (from the start of the stream,
// so pages queued before any consumer existed are sent).
func (s *Store) EnsureOutbox(ctx context.Context) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	err := s.RDB.XGroupCreateMkStream(ctx, s.k.Outbox(), outboxGroup, "0").Err()
	if err != nil && redis.HasErrorPrefix(err, "BUSYGROUP") {
		return nil
	}
	return s.Wrap("create outbox group", err)
}

// ReadPages hands out up to count new pages to consumer, waiting up to
// block (at most 10 s) for some; zero or less does not wait.
func (s *Store) ReadPages(ctx context.Context, consumer string, count int, block time.Duration) ([]alert.Page, error) {
	block = min(block, kv.MaxBlock)
	if block <= 0 {
		block = -1 // go-redis: no BLOCK argument (BLOCK 0 would wait forever)
	}
	ctx, cancel := context.WithTimeout(ctx, max(block, 0)+kv.OpTimeout)
	defer cancel()
	res, err := s.RDB.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: outboxGroup, Consumer: consumer, Streams: []string{s.k.Outbox(), ">"},
		Count: int64(count), Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		if redis.HasErrorPrefix(err, "NOGROUP") {
			if err := s.EnsureOutbox(ctx); err != nil {
				return nil, err
			}
			return nil, nil
		}
		return nil, s.Wrap("read pages", err)
	}
	var out []alert.Page
	for _, st := range res {
		for _, m := range st.Messages {
			out = append(out, parsePage(m.ID, m.Values, 1))
		}
	}
	return out, nil
}

// claimStaleScript takes over pages idle for ARGV[3] ms and returns each
// with its delivery count: KEYS[1] outbox; ARGV group, consumer, min idle,
// count. Pages deleted meanwhile are dropped by XAUTOCLAIM itself.
var claimStaleScript = redis.NewScript(`
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
for _, e in ipairs(r[2]) do
  if e[2] then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    local n = 1
    if p[1] then n = p[1][4] end
    out[#out + 1] = {e[1], e[2], n}
  end
end
return out
`)

// ClaimStalePages takes over up to count pages another consumer left idle
// for minIdle.
func (s *Store) ClaimStalePages(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]alert.Page, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := claimStaleScript.Run(ctx, s.RDB, []string{s.k.Outbox()}, outboxGroup, consumer, minIdle.Milliseconds(), count).Slice()
	if err != nil {
		if redis.HasErrorPrefix(err, "NOGROUP") {
			return nil, nil
		}
		return nil, s.Wrap("claim stale pages", err)
	}
	out := make([]alert.Page, 0, len(res))
	for _, r := range res {
		e, ok := r.([]any)
		if !ok || len(e) != 3 {
			return nil, errors.New("store: claim stale pages: unexpected reply")
		}
		id, _ := e[0].(string)
		flat, _ := e[1].([]any)
		n, _ := e[2].(int64)
		v := make(map[string]any, len(flat)/2)
		for i := 0; i+1 < len(flat); i += 2 {
			k, _ := flat[i].(string)
			v[k] = flat[i+1]
		}
		out = append(out, parsePage(id, v, n))
	}
	return out, nil
}

// beginPageScript: KEYS outbox, alert record; ARGV group, consumer, entry
// id, token. "lost" when another consumer holds the page; "drop" (and the
// page removed) when the alert is not raised, is owned, or is under
// another token; else the claim is refreshed and "go".
var beginPageScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] then return 'lost' end
local a = redis.call('HMGET', KEYS[2], 'state', 'owner', 'esc')
local ok = a[1] == 'raised' and (not a[2] or a[2] == '') and a[3]
if ok then
  local good, esc = pcall(cjson.decode, a[3])
  ok = good and type(esc) == 'table' and esc.token == ARGV[4]
end
if not ok then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
  redis.call('XDEL', KEYS[1], ARGV[3])
  return 'drop'
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 'go'
`)

// BeginPage is the check just before a page is sent: consumer still holds
// it, and its alert is still raised, unclaimed and under its token. It
// refreshes the claim; a page whose alert moved on is removed.
func (s *Store) BeginPage(ctx context.Context, p alert.Page, consumer string) (outbox.PageCheck, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := beginPageScript.Run(ctx, s.RDB, []string{s.k.Outbox(), s.k.AlertRecord(p.Alert)},
		outboxGroup, consumer, p.ID, p.Token).Text()
	if err != nil {
		return "", s.Wrap("begin page", err)
	}
	switch res {
	case "go":
		return outbox.PageGo, nil
	case "drop":
		return outbox.PageDrop, nil
	case "lost":
		return outbox.PageLost, nil
	}
	return "", fmt.Errorf("store: begin page: unexpected reply %q", res)
}

// refreshPageScript: KEYS outbox; ARGV group, consumer, entry id. Resets
// the page's idle time if consumer still holds it.
var refreshPageScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
`)

// RefreshPage keeps consumer's claim on a page fresh; false when another
// consumer has taken it over.
func (s *Store) RefreshPage(ctx context.Context, p alert.Page, consumer string) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := refreshPageScript.Run(ctx, s.RDB, []string{s.k.Outbox()}, outboxGroup, consumer, p.ID).Int()
	if err != nil {
		return false, s.Wrap("refresh page", err)
	}
	return n == 1, nil
}

// finishPageScript acknowledges and deletes a page if consumer still
// holds it: KEYS outbox; ARGV group, entry id, consumer.
var finishPageScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if not p[1] or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

// FinishPage removes a handled page if consumer still holds it; false
// when another consumer took it over meanwhile (it decides then).
func (s *Store) FinishPage(ctx context.Context, p alert.Page, consumer string) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := finishPageScript.Run(ctx, s.RDB, []string{s.k.Outbox()}, outboxGroup, p.ID, consumer).Int()
	if err != nil {
		return false, s.Wrap("finish page", err)
	}
	return n == 1, nil
}

// deadPageScript: KEYS outbox, dead; ARGV group, entry id, reason, at
// (ms), deliveries, cap, consumer. If consumer still holds the page, it
// copies the page's fields to the dead-letter stream with the reason, then
// acknowledges and deletes it, in one step.
var deadPageScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if not p[1] or p[1][2] ~= ARGV[7] then return 0 end
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local fields = {}
if e[1] then fields = e[1][2] end
fields[#fields + 1] = 'reason'
fields[#fields + 1] = ARGV[3]
fields[#fields + 1] = 'failed_at'
fields[#fields + 1] = ARGV[4]
fields[#fields + 1] = 'deliveries'
fields[#fields + 1] = ARGV[5]
fields[#fields + 1] = 'entry'
fields[#fields + 1] = ARGV[2]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

// DeadPage moves a page consumer holds to the dead-letter stream with a
// reason (fixed wording, never a provider's message); false when another
// consumer took it over meanwhile.
func (s *Store) DeadPage(ctx context.Context, p alert.Page, consumer, reason string) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := deadPageScript.Run(ctx, s.RDB, []string{s.k.Outbox(), s.k.outboxDead()},
		outboxGroup, p.ID, reason, s.Now().UnixMilli(), p.Deliveries, deadCap, consumer).Int()
	if err != nil {
		return false, s.Wrap("dead-letter page", err)
	}
	return n == 1, nil
}

// DeadLetter is one page in the dead-letter stream.
type DeadLetter struct {
	ID       string
	Page     alert.Page
	Reason   string
	FailedAt time.Time
}

// DeadPages lists up to count of the most recent dead-lettered pages,
// newest first.
func (s *Store) DeadPages(ctx context.Context, count int) ([]DeadLetter, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	msgs, err := s.RDB.XRevRangeN(ctx, s.k.outboxDead(), "+", "-", int64(count)).Result()
	if err != nil {
		return nil, s.Wrap("dead pages", err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		reason, _ := m.Values["reason"].(string)
		at, _ := m.Values["failed_at"].(string)
		n, _ := m.Values["deliveries"].(string)
		d, _ := strconv.ParseInt(n, 10, 64)
		out = append(out, DeadLetter{ID: m.ID, Page: parsePage(m.ID, m.Values, d), Reason: reason, FailedAt: kv.FromMS(at)})
	}
	return out, nil
}

// Stats is the outbox's depth for metrics: pages waiting (not yet
// handed out or in progress), pages handed out and not finished, and the
// dead-letter stream's length.
type Stats struct {
	Queued  int64
	Pending int64
	Dead    int64
}

// Outbox reads the outbox's depth.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	var ln, dead *redis.IntCmd
	var pend *redis.XPendingCmd
	_, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		ln = p.XLen(ctx, s.k.Outbox())
		pend = p.XPending(ctx, s.k.Outbox(), outboxGroup)
		dead = p.XLen(ctx, s.k.outboxDead())
		return nil
	})
	if err != nil && !redis.HasErrorPrefix(err, "NOGROUP") && !errors.Is(err, redis.Nil) {
		return Stats{}, s.Wrap("outbox stats", err)
	}
	st := Stats{Dead: dead.Val()}
	if pend.Err() == nil {
		st.Pending = pend.Val().Count
	}
	st.Queued = max(ln.Val()-st.Pending, 0)
	return st, nil
}

// holdLeaseScript: KEYS lease; ARGV holder, ttl (ms).
var holdLeaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// HoldLease takes or renews the named lease for holder until ttl from now
// (Redis time: the lease is about which processes are alive, not about
// decisions on stored timestamps); false while someone else holds it.
func (s *Store) HoldLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := holdLeaseScript.Run(ctx, s.RDB, []string{s.k.lease(name)}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, s.Wrap("hold lease", err)
	}
	return n == 1, nil
}

// TimerFences returns, for each target, the fence of its pending timer of
// kind: present only when the entry is both scheduled and recorded.
func (s *Store) TimerFences(ctx context.Context, kind alert.TimerKind, targets []string) (map[string]string, error) {
	out := make(map[string]string, len(targets))
	if len(targets) == 0 {
		return out, nil
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	scores := make([]*redis.FloatCmd, len(targets))
	fences := make([]*redis.StringCmd, len(targets))
	_, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range targets {
			id := alert.Timer{Kind: kind, Target: t}.ID()
			scores[i] = p.ZScore(ctx, s.k.Schedule(), id)
			fences[i] = p.HGet(ctx, s.k.ScheduleEntry(id), "fence")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("timer fences", err)
	}
	for i, t := range targets {
		if scores[i].Err() == nil && fences[i].Err() == nil && fences[i].Val() != "" {
			out[t] = fences[i].Val()
		}
	}
	return out, nil
}

// pruneConsumersScript removes the outbox group's consumers that hold no
// pending page and have been idle longer than ARGV[1] ms, except ARGV[2]
// (the caller). In one script, so a consumer cannot take a page between
// the check and its removal (removing a consumer drops its pending pages
// from the group, and those pages would never be sent).
var pruneConsumersScript = redis.NewScript(`
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[3])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[2] and tonumber(info['pending']) == 0 and tonumber(info['idle']) > tonumber(ARGV[1]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[3], info['name'])
    removed = removed + 1
  end
end
return removed
`)

// PruneOutboxConsumers removes consumers of the outbox group that hold no
// pending page and have been idle for longer than idle: every instance
// that ever started left one behind. self is never removed. It returns how
// many were removed.
func (s *Store) PruneOutboxConsumers(ctx context.Context, self string, idle time.Duration) (int, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := pruneConsumersScript.Run(ctx, s.RDB, []string{s.k.Outbox()}, idle.Milliseconds(), self, outboxGroup).Int()
	if err != nil {
		return 0, s.Wrap("prune outbox consumers", err)
	}
	return n, nil
}

// PendingTimers counts the scheduler's entries (for metrics and the
// auditor).
func (s *Store) PendingTimers(ctx context.Context) (int64, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := s.RDB.ZCard(ctx, s.k.Schedule()).Result()
	return n, s.Wrap("pending timers", err)
}
