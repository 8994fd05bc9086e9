// Package live keeps, for package store, what the live hub reads and
// writes: the event stream, responders' receipts, who has a dashboard
// open, the case exclusions a socket filters by, and the benchmark's
// durable floor.
package live

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/store/internal/accounts"
	"waymark/store/internal/kv"
)

// Store is what the live hub needs (push.Stream and the hub's adapters).
type Store struct {
	*kv.Conn
	k keyspace
}

// New returns the live hub's store over c.
func New(c *kv.Conn) *Store {
	return &Store{Conn: c, k: keyspace{Keys: kv.NewKeys(c.Prefix), p: c.Prefix}}
}

// ConsumeTicket redeems a single-use WebSocket ticket (accounts.Tickets).
func (s *Store) ConsumeTicket(ctx context.Context, ticket string) (staffID, sessionTag string, err error) {
	return accounts.NewTickets(s.Conn).ConsumeTicket(ctx, ticket)
}

// SubscribeRevocations relays ended sessions' tags until ctx ends
// (accounts.Tickets).
func (s *Store) SubscribeRevocations(ctx context.Context) <-chan string {
	return accounts.NewTickets(s.Conn).SubscribeRevocations(ctx)
}

// This file is the live hub's side of Redis: reading the events stream,
// storing receipts, presence per team, and who is excluded from a case.

// Tail waits up to block for events after the stream id after and returns
// at most count of them, oldest first; none when block passes quietly.
// block is capped at 10 s; zero or less does not wait.
func (s *Store) Tail(ctx context.Context, after string, block time.Duration, count int) ([]alert.Event, error) {
	block = min(block, kv.MaxBlock)
	if block <= 0 {
		block = -1 // go-redis: no BLOCK argument (BLOCK 0 would wait forever)
	}
	ctx, cancel := context.WithTimeout(ctx, max(block, 0)+kv.OpTimeout)
	defer cancel()
	res, err := s.RDB.XRead(ctx, &redis.XReadArgs{
		Streams: []string{s.k.Events(), after},
		Count:   int64(count),
		Block:   block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, s.Wrap("read events", err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	return parseEvents(res[0].Messages), nil
}

// Range returns at most count events after the stream id after, oldest
// first, without waiting.
func (s *Store) Range(ctx context.Context, after string, count int) ([]alert.Event, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	msgs, err := s.RDB.XRangeN(ctx, s.k.Events(), "("+after, "+", int64(count)).Result()
	if err != nil {
		return nil, s.Wrap("range events", err)
	}
	return parseEvents(msgs), nil
}

// Bounds returns the id of the newest event ever added ("0-0" for no
// stream) and the newest id ever removed from it by trimming or deletion
// ("0-0" when none was). A server that cannot say (the embedded one)
// reports everything before the oldest retained entry as removed, which
// errs towards sending a snapshot.
func (s *Store) Bounds(ctx context.Context) (last, removed string, err error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	info, err := s.RDB.XInfoStream(ctx, s.k.Events()).Result()
	if err == nil && info.MaxDeletedEntryID != "" {
		// XDEL moves max-deleted-entry-id; trimming does not, but then
		// fewer entries remain than were ever added, and everything before
		// the first retained one may be gone.
		removed = orZero(info.MaxDeletedEntryID)
		if info.EntriesAdded > info.Length {
			first := info.RecordedFirstEntryID
			if info.Length == 0 || first == "" || first == "0-0" {
				first = nextID(info.LastGeneratedID)
			}
			if b := before(first); idLess(removed, b) {
				removed = b
			}
		}
		return orZero(info.LastGeneratedID), removed, nil
	}
	if err != nil && kv.IsUnavailable(err) {
		return "", "", s.Wrap("stream bounds", err)
	}
	if err != nil && strings.Contains(err.Error(), "no such key") {
		return "0-0", "0-0", nil
	}
	// No XINFO (or no max-deleted-entry-id): read both ends.
	newest, err := s.RDB.XRevRangeN(ctx, s.k.Events(), "+", "-", 1).Result()
	if err != nil {
		return "", "", s.Wrap("stream bounds", err)
	}
	if len(newest) == 0 {
		return "0-0", "0-0", nil
	}
	oldest, err := s.RDB.XRangeN(ctx, s.k.Events(), "-", "+", 1).Result()
	if err != nil {
		return "", "", s.Wrap("stream bounds", err)
	}
	removed = "0-0"
	if len(oldest) > 0 {
		removed = before(oldest[0].ID)
	}
	return newest[0].ID, removed, nil
}

func orZero(id string) string {
	if id == "" {
		return "0-0"
	}
	return id
}

// idLess compares two stream ids; malformed ones count as 0-0.
func idLess(a, b string) bool {
	am, as := splitID(a)
	bm, bs := splitID(b)
	return am < bm || am == bm && as < bs
}

func splitID(id string) (ms, seq uint64) {
	a, b, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(a, 10, 64)
	seq, _ = strconv.ParseUint(b, 10, 64)
	return ms, seq
}

// nextID is the stream id just after id.
func nextID(id string) string {
	ms, seq := splitID(id)
	return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq+1, 10)
}

// before is the stream id just before id.
func before(id string) string {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return "0-0"
	}
	m, err1 := strconv.ParseUint(ms, 10, 64)
	n, err2 := strconv.ParseUint(seq, 10, 64)
	switch {
	case err1 != nil || err2 != nil:
		return "0-0"
	case n > 0:
		return ms + "-" + strconv.FormatUint(n-1, 10)
	case m > 0:
		return strconv.FormatUint(m-1, 10) + "-18446744073709551615"
	default:
		return "0-0"
	}
}

// parseEvents turns stream entries into events. Fields are those the
// alert store's commit script writes (see alert.Event).
func parseEvents(msgs []redis.XMessage) []alert.Event {
	out := make([]alert.Event, 0, len(msgs))
	for _, m := range msgs {
		str := func(k string) string {
			v, _ := m.Values[k].(string)
			return v
		}
		ev := alert.Event{
			ID:    m.ID,
			Type:  alert.EventType(str("type")),
			Alert: str("alert"),
			Team:  str("team"),
			Case:  str("case"),
			Only:  str("only"),
		}
		if ex, ok := m.Values["ex"].(string); ok {
			ev.Excluded, ev.ExcludedKnown = strings.Fields(ex), true
		}
		ev.Priority, _ = strconv.Atoi(str("priority"))
		if ms, err := strconv.ParseInt(str("at"), 10, 64); err == nil {
			ev.At = time.UnixMilli(ms).UTC()
		}
		out = append(out, ev)
	}
	return out
}

// --- receipts ---

// Receipt is a responder's confirmation that an alert was shown.
type Receipt struct {
	Alert string
	Staff string
	// Teams are the responder's teams: a receipt counts only for an
	// alert of one of them.
	Teams []string
	At    time.Time
	// Sent says the hub sent an event of the alert on the responder's own
	// socket moments ago (push.Receipt.Sent): the alert exists and is on
	// their team, so the receipt is written without the script's check.
	Sent bool
}

// receiptTTL bounds a receipt hash whose alert has no expiry yet (open
// alerts); a closed alert's expiry is copied onto it.
const receiptTTL = 90 * 24 * time.Hour

// receiptScript stores the first receipt per (alert, responder) of one
// alert, for receipts of it in a batch: only for an alert that exists and
// belongs to one of that responder's teams. The receipts are a sorted set
// scored by time, written with one ZADD NX, which keeps every responder's
// first receipt and ignores the rest. One command per call, not one per
// receipt: under fan-out a thousand receipts of an alert arrive within
// milliseconds, and a write (and an AOF entry) each was most of Redis's
// time. They take the alert's own expiry, or receiptTTL.
//
// KEYS[1] the alert, KEYS[2] its receipts; ARGV[1] the default TTL in ms,
// then per receipt: staff id, time (ms), number of teams N, N teams.
// Returns how many receipts were first ones; -1 when there is no alert.
var receiptScript = redis.NewScript(`
local team = redis.call('HGET', KEYS[1], 'team')
if not team then return -1 end
local add = {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i + 2])
  for j = i + 3, i + 2 + n do
    if ARGV[j] == team then
      add[#add + 1] = ARGV[i + 1]
      add[#add + 1] = ARGV[i]
      break
    end
  end
  i = i + 3 + n
end
if #add == 0 then return 0 end
local added = redis.call('ZADD', KEYS[2], 'NX', unpack(add))
if added > 0 then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[1]) end
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return added
`)

// receiptChunk bounds the receipts one script call stores, so that no call
// holds Redis up for long.
const receiptChunk = 256

// SaveReceipts stores receipts in one pipelined round trip: the ones the
// hub vouches for (Sent) as one ZADD NX per alert, the others through a
// script call per alert (per receiptChunk of its receipts) that drops,
// without error, receipts for alerts that do not exist or belong to none
// of the responder's teams.
func (s *Store) SaveReceipts(ctx context.Context, rs []Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	// Group by alert, keeping first-seen order (and each alert's receipts
	// in arrival order, so the first of a responder's wins).
	type call struct {
		alert string
		args  []any
		n     int
	}
	var calls []*call
	open := make(map[string]*call)
	// Receipts the hub vouches for are plain ZADD NX members per alert:
	// no script, one command.
	var sentOrder []string
	sent := make(map[string][]redis.Z)
	for _, r := range rs {
		if r.Sent {
			if _, ok := sent[r.Alert]; !ok {
				sentOrder = append(sentOrder, r.Alert)
			}
			sent[r.Alert] = append(sent[r.Alert], redis.Z{Score: float64(r.At.UnixMilli()), Member: r.Staff})
			continue
		}
		c := open[r.Alert]
		if c == nil || c.n == receiptChunk {
			c = &call{alert: r.Alert, args: []any{receiptTTL.Milliseconds()}}
			open[r.Alert] = c
			calls = append(calls, c)
		}
		c.args = append(c.args, r.Staff, r.At.UnixMilli(), len(r.Teams))
		for _, t := range r.Teams {
			c.args = append(c.args, t)
		}
		c.n++
	}
	run := func() ([]redis.Cmder, error) {
		return s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, id := range sentOrder {
				k := s.k.AlertReceipts(id)
				p.ZAddNX(ctx, k, sent[id]...)
				p.PExpire(ctx, k, receiptTTL)
			}
			for _, c := range calls {
				receiptScript.EvalSha(ctx, p, []string{s.k.AlertRecord(c.alert), s.k.AlertReceipts(c.alert)}, c.args...)
			}
			return nil
		})
	}
	cmds, err := run()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := receiptScript.Load(ctx, s.RDB).Err(); err != nil {
			return s.Wrap("load receipt script", err)
		}
		cmds, err = run()
	}
	if err != nil {
		return s.Wrap("save receipts", err)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return s.Wrap("save receipts", err)
		}
	}
	return nil
}

// SeenBy returns every responder's first receipt time for an alert.
func (s *Store) SeenBy(ctx context.Context, alertID string) (map[string]time.Time, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	var zs *redis.ZSliceCmd
	var old *redis.MapStringStringCmd
	if _, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		zs = p.ZRangeWithScores(ctx, s.k.AlertReceipts(alertID), 0, -1)
		old = p.HGetAll(ctx, s.k.AlertSeen(alertID))
		return nil
	}); err != nil {
		return nil, s.Wrap("seen by "+alertID, err)
	}
	out := make(map[string]time.Time, len(zs.Val()))
	keep := func(who string, ms int64) {
		at := time.UnixMilli(ms).UTC()
		if cur, ok := out[who]; !ok || at.Before(cur) {
			out[who] = at
		}
	}
	for _, z := range zs.Val() {
		if who, ok := z.Member.(string); ok {
			keep(who, int64(z.Score))
		}
	}
	for who, v := range old.Val() {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			keep(who, ms)
		}
	}
	return out, nil
}

// seenAt reads responder's first receipt of an alert from both forms, and
// the alert's raise time, in one round trip.
func (s *Store) seenAt(ctx context.Context, alertID, responder string) (at, raised time.Time, ok bool, err error) {
	var z *redis.FloatCmd
	var old, r *redis.StringCmd
	if _, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		z = p.ZScore(ctx, s.k.AlertReceipts(alertID), responder)
		old = p.HGet(ctx, s.k.AlertSeen(alertID), responder)
		r = p.HGet(ctx, s.k.AlertRecord(alertID), kv.AlertRaisedAt)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return time.Time{}, time.Time{}, false, s.Wrap("seen at "+alertID, err)
	}
	if v, err := z.Result(); err == nil {
		at, ok = time.UnixMilli(int64(v)).UTC(), true
	}
	if v, err := old.Int64(); err == nil {
		if o := time.UnixMilli(v).UTC(); !ok || o.Before(at) {
			at, ok = o, true
		}
	}
	if v, err := r.Int64(); err == nil {
		raised = time.UnixMilli(v).UTC()
	}
	return at, raised, ok, nil
}

// SeenAt returns when responder first confirmed the alert; ok is false if
// they have not.
func (s *Store) SeenAt(ctx context.Context, alertID, responder string) (at time.Time, ok bool, err error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	at, _, ok, err = s.seenAt(ctx, alertID, responder)
	return at, ok, err
}

// SeenWithin reports whether responder confirmed the alert within d of
// its being raised (the alert's raised_at): "delivered means seen".
func (s *Store) SeenWithin(ctx context.Context, alertID, responder string, d time.Duration) (bool, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	at, raised, ok, err := s.seenAt(ctx, alertID, responder)
	if err != nil || !ok || raised.IsZero() {
		return false, err
	}
	return at.Sub(raised) <= d, nil
}

// --- presence ---

// Presence is one live dashboard socket of a staff member, as one team
// sees it.
type Presence struct {
	Team  string
	Staff string
	Conn  string // tells apart several sockets of one person
	Duty  bool
}

func (p Presence) member() string { return p.Staff + " " + p.Conn }

// SetPresence records entries as present until until, and each entry's
// on-duty state; lapsed entries of the same teams are pruned.
func (s *Store) SetPresence(ctx context.Context, ps []Presence, until time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	now := s.Now().UnixMilli()
	ttl := time.Until(until) + time.Minute
	if ttl <= time.Minute {
		ttl = time.Minute
	}
	teams := map[string]bool{}
	_, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range ps {
			z := redis.Z{Score: float64(until.UnixMilli()), Member: e.member()}
			p.ZAdd(ctx, s.k.presence(e.Team), z)
			if e.Duty {
				p.ZAdd(ctx, s.k.onDuty(e.Team), z)
			} else {
				p.ZRem(ctx, s.k.onDuty(e.Team), e.member())
			}
			teams[e.Team] = true
		}
		for t := range teams {
			for _, k := range []string{s.k.presence(t), s.k.onDuty(t)} {
				p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(now, 10))
				p.PExpire(ctx, k, ttl)
			}
		}
		return nil
	})
	if err != nil {
		return s.Wrap("set presence", err)
	}
	return nil
}

// ClearPresence removes entries (their sockets closed).
func (s *Store) ClearPresence(ctx context.Context, ps []Presence) error {
	if len(ps) == 0 {
		return nil
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	_, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range ps {
			p.ZRem(ctx, s.k.presence(e.Team), e.member())
			p.ZRem(ctx, s.k.onDuty(e.Team), e.member())
		}
		return nil
	})
	if err != nil {
		return s.Wrap("clear presence", err)
	}
	return nil
}

// Present is a staff member connected to a team's live dashboard.
type Present struct {
	Staff  string
	OnDuty bool
}

// TeamPresence lists who is connected to the team's live dashboard now
// (on any instance), and whether they are on duty, by staff id.
func (s *Store) TeamPresence(ctx context.Context, team string) ([]Present, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	now := "(" + strconv.FormatInt(s.Now().UnixMilli(), 10)
	var conn, duty *redis.StringSliceCmd
	if _, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		conn = p.ZRangeByScore(ctx, s.k.presence(team), &redis.ZRangeBy{Min: now, Max: "+inf"})
		duty = p.ZRangeByScore(ctx, s.k.onDuty(team), &redis.ZRangeBy{Min: now, Max: "+inf"})
		return nil
	}); err != nil {
		return nil, s.Wrap("team presence", err)
	}
	on := map[string]bool{}
	for _, m := range duty.Val() {
		who, _, _ := strings.Cut(m, " ")
		on[who] = true
	}
	var out []Present
	seen := map[string]bool{}
	for _, m := range conn.Val() {
		who, _, _ := strings.Cut(m, " ")
		if !seen[who] {
			seen[who] = true
			out = append(out, Present{Staff: who, OnDuty: on[who]})
		}
	}
	return out, nil
}

// --- exclusions ---

// CaseExclusions returns, for each case asked about, the staff ids the case
// excludes (a conflict of interest), in one pipelined round trip. Cases
// with none, or gone, are absent from the map.
func (s *Store) CaseExclusions(ctx context.Context, caseIDs []string) (map[string][]string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	cmds := make([]*redis.StringCmd, len(caseIDs))
	if _, err := s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range caseIDs {
			cmds[i] = p.HGet(ctx, s.k.CaseRecord(id), kv.CaseExcluded)
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("case exclusions", err)
	}
	out := map[string][]string{}
	for i, c := range cmds {
		if v := c.Val(); v != "" {
			out[caseIDs[i]] = strings.Fields(v)
		}
	}
	return out, nil
}
