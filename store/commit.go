package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/records"
	"waymark/store/internal/live"
	"waymark/store/internal/pages"
)

// maxCommitAttempts bounds the read-decide-commit loop. Conflicts need
// another writer on the same case or alert in the same few milliseconds.
const maxCommitAttempts = 25

// openScoreBase keeps priority in the open-alerts score: (base − priority)
// × 1e13 + raised_at in ms sorts highest priority first, then oldest, and
// stays below 2^53 so the float64 score is exact.
const openScoreBase = 900

// commitScript applies a program built by commitProg: dedupe check, guards
// (a GET or HGET must still read what the caller read; "" for absent),
// then a list of whitelisted writes, then the dedupe key. Every key is in
// KEYS and every value in ARGV, so values are never parsed and the script
// works on Redis Cluster: all keys share the tenant's hash tag.
//
// The program is flat in ARGV, read front to back, so the script decodes
// nothing and copies no argument into a table of its own (a JSON program
// and per-op argument tables were most of the script's time):
//
//	ARGV[1]      KEYS index of the dedupe key, or 0
//	ARGV[2..3]   the dedupe value and its time to live in ms
//	ARGV[4]      the number of guards G
//	then, per write: command, KEYS index, argument count N, N arguments
//	and last, G times: KEYS index, field ("" for GET), expected value
//
// (Guards go last so that the caller appends them to the writes it has
// already laid out instead of copying those.)
var commitScript = redis.NewScript(`
local dk = tonumber(ARGV[1])
if dk > 0 then
  local cur = redis.call('GET', KEYS[dk])
  if cur then return {'dup', cur} end
end
local ng = tonumber(ARGV[4])
local n = #ARGV - 3 * ng
local j = n + 1
for g = 1, ng do
  local k, f = KEYS[tonumber(ARGV[j])], ARGV[j + 1]
  local cur
  if f == '' then cur = redis.call('GET', k) else cur = redis.call('HGET', k, f) end
  if (cur or '') ~= ARGV[j + 2] then return {'stale', tostring(g)} end
  j = j + 3
end
local allowed = {HSET=true, HDEL=true, HINCRBY=true, SET=true, DEL=true, ZADD=true, ZREM=true,
  ZREMRANGEBYSCORE=true, PEXPIRE=true}
local xid = ''
local i = 5
while i <= n do
  local cmd, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  local a = i + 3
  local b = i + 2 + tonumber(ARGV[i + 2])
  if cmd == 'EVENT' then
    -- Trim by age relative to the new entry's own id (Redis time), never
    -- by count: a burst of alerts must not push unread events out.
    xid = redis.call('XADD', key, '*', unpack(ARGV, a + 1, b))
    local t = tonumber(string.match(xid, '^(%d+)'))
    redis.call('XTRIM', key, 'MINID', string.format('%.0f', t - tonumber(ARGV[a])))
  elseif cmd == 'OUTBOX' then
    -- A page for the outbox, queued with the step that decided it.
    redis.call('XADD', key, 'MAXLEN', '~', '100000', '*', unpack(ARGV, a, b))
  elseif cmd == 'DELEQ' then
    if redis.call('GET', key) == ARGV[a] then redis.call('DEL', key) end
  elseif cmd == 'PEXPIREEQ' then
    if redis.call('GET', key) == ARGV[a] then redis.call('PEXPIRE', key, ARGV[a + 1]) end
  elseif allowed[cmd] then
    redis.call(cmd, key, unpack(ARGV, a, b))
  else
    return redis.error_reply('ERR commit: op not allowed')
  end
  i = b + 1
end
if dk > 0 then redis.call('SET', KEYS[dk], ARGV[2], 'PX', ARGV[3]) end
return {'ok', xid}
`)

// commitProg builds one commitScript call.
type commitProg struct {
	keys []string
	// dedupe is ARGV[1..3]; guards and ops the rest, in the script's
	// layout (see commitScript).
	dedupeKey int
	dedupeVal string
	dedupeTTL int64
	nGuards   int
	guards    []any
	// ops is ARGV from the header on: four header slots, filled by argv,
	// then the writes.
	ops []any
	// last is where in ops the last write starts, so that consecutive
	// HSETs of one key become one command.
	last int
}

func newCommitProg() *commitProg {
	return &commitProg{keys: make([]string, 0, 16), guards: make([]any, 0, 18), ops: make([]any, 4, 192), last: -1}
}

// key returns k's 1-based index in KEYS. A commit names a dozen keys at
// most, so a scan beats a map.
func (p *commitProg) key(k string) int {
	for i, have := range p.keys {
		if have == k {
			return i + 1
		}
	}
	p.keys = append(p.keys, k)
	return len(p.keys)
}

// guard requires GET key (field "") or HGET key field to read want.
func (p *commitProg) guard(key, field, want string) {
	p.guards = append(p.guards, p.key(key), field, want)
	p.nGuards++
}

// op adds cmd key args… to the writes. An HSET right after another HSET
// of the same key joins it: one command, the same effect.
func (p *commitProg) op(cmd, key string, args ...any) {
	k := p.key(key)
	if cmd == "HSET" && p.last >= 0 && p.ops[p.last] == "HSET" && p.ops[p.last+1] == k {
		p.ops[p.last+2] = p.ops[p.last+2].(int) + len(args)
		p.ops = append(p.ops, args...)
		return
	}
	p.last = len(p.ops)
	p.ops = append(p.ops, cmd, k, len(args))
	p.ops = append(p.ops, args...)
}

func (p *commitProg) dedupe(key, value string, ttl time.Duration) {
	p.dedupeKey, p.dedupeVal, p.dedupeTTL = p.key(key), value, ttl.Milliseconds()
}

func (p *commitProg) empty() bool { return len(p.ops) == 4 && p.dedupeKey == 0 }

// argv lays the program out as the script reads it. It is called once,
// when the program is complete.
func (p *commitProg) argv() []any {
	p.ops[0], p.ops[1], p.ops[2], p.ops[3] = p.dedupeKey, p.dedupeVal, p.dedupeTTL, p.nGuards
	return append(p.ops, p.guards...)
}

type commitOutcome int

const (
	committed commitOutcome = iota
	duplicate
	stale
)

func (s *conn) runCommit(ctx context.Context, p *commitProg) (commitOutcome, string, error) {
	res, err := commitScript.Run(ctx, s.RDB, p.keys, p.argv()...).StringSlice()
	if err != nil {
		return 0, "", err
	}
	if len(res) != 2 {
		return 0, "", fmt.Errorf("store: commit: unexpected reply of %d items", len(res))
	}
	switch res[0] {
	case "ok":
		return committed, res[1], nil
	case "dup":
		return duplicate, res[1], nil
	case "stale":
		return stale, "", nil
	}
	return 0, "", fmt.Errorf("store: commit: unexpected reply %q", res[0])
}

// commit adds c's writes to p and runs it. done is false when a guard
// failed and the caller must read and decide again.
func (s *conn) commit(ctx context.Context, p *commitProg, caseID string, c *alert.Commit, z sealer) (alert.Result, bool, error) {
	res := alert.Result{}
	if c.Alert != nil {
		res.AlertID = c.Alert.ID
	}
	if err := s.addCommit(p, caseID, c, z); err != nil {
		return res, true, err
	}
	if p.empty() {
		return res, true, nil
	}
	out, v, err := s.runCommit(ctx, p)
	if err != nil {
		return alert.Result{}, true, s.Wrap("commit", err)
	}
	switch out {
	case duplicate:
		if v == "-" {
			v = ""
		}
		return alert.Result{AlertID: v, Duplicate: true}, true, nil
	case stale:
		return alert.Result{}, false, nil
	}
	res.EventID = v
	return res, true, nil
}

// addCommit translates a domain commit into writes.
func (s *conn) addCommit(p *commitProg, caseID string, c *alert.Commit, z sealer) error {
	now := s.Now()
	if a := c.Alert; a != nil {
		if err := s.addAlert(p, c, a, z, now); err != nil {
			return err
		}
	}
	for _, t := range c.Drop {
		p.op("ZREM", s.k.Schedule(), t.ID())
		p.op("DEL", s.k.ScheduleEntry(t.ID()))
	}
	for _, t := range c.Timers {
		p.op("ZADD", s.k.Schedule(), t.Due.UnixMilli(), t.ID())
		p.op("HSET", s.k.ScheduleEntry(t.ID()), "kind", string(t.Kind), "target", t.Target,
			"fence", t.Fence, "due", t.Due.UnixMilli(), "claims", 0)
	}
	if caseID != "" && (c.Checkins != nil || len(c.CheckinLog) > 0) {
		if err := s.addCheckins(p, caseID, c, z); err != nil {
			return err
		}
	}
	if c.CountOutcome != "" && caseID != "" {
		p.op("HINCRBY", s.k.caseOutcomes(caseID), string(c.CountOutcome), 1)
	}
	for _, pg := range c.Pages {
		p.op("OUTBOX", s.k.Outbox(), pages.Fields(pg)...)
	}
	for _, e := range c.Events {
		args := append([]any{retentionMS(c.EventRetention, alert.DefaultRules().EventRetention)}, live.EventFields(e)...)
		p.op("EVENT", s.k.Events(), args...)
	}
	if c.DedupeKey != "" {
		id := "-"
		if c.Alert != nil {
			id = c.Alert.ID
		}
		p.dedupe(s.k.dedupe(s.Tag("dedupe", c.DedupeKey)), id, alert.DedupeFor)
	}
	return nil
}

func retentionMS(d, def time.Duration) int64 {
	if d <= 0 {
		d = def
	}
	return d.Milliseconds()
}

func (s *conn) addAlert(p *commitProg, c *alert.Commit, a *alert.Alert, z sealer, now time.Time) error {
	ak := s.k.AlertRecord(a.ID)
	if c.Created {
		// Ids are random; this only makes a collision impossible to miss.
		p.guard(ak, afVersion, "")
	}
	fields, err := s.alertFields(a, z)
	if err != nil {
		return err
	}
	if c.Created && c.GuardPolicies && a.Policy != nil && a.Policy.Team != "" {
		// The snapshot must be the team's policy set in force as this
		// lands: the intake may have it from memory (alert.Commit.GuardPolicies).
		// Version 0 is a team that set none, whose hash has no version.
		ver := ""
		if a.Policy.Version != 0 {
			ver = strconv.FormatInt(a.Policy.Version, 10)
		}
		p.guard(s.k.policy(a.Policy.Team), "version", ver)
	}
	if c.Created && a.Policy != nil {
		pj, err := json.Marshal(a.Policy)
		if err != nil {
			return fmt.Errorf("store: encode policy of alert %s: %w", a.ID, err)
		}
		fields = append(fields, afPolicy, pj)
	}
	p.op("HSET", ak, fields...)
	var gone []any
	for _, k := range timerKinds {
		if a.Fences[k] == "" {
			gone = append(gone, afFencePrefix+string(k))
		}
	}
	// A new alert's hash does not exist yet (its guard says so): nothing
	// to delete.
	if len(gone) > 0 && !c.Created {
		p.op("HDEL", ak, gone...)
	}
	tk := s.k.alertTimeline(a.ID)
	for _, e := range c.Entries {
		f := "t" + seqField(e.Seq)
		ct, err := z.seal(tk, f, encodeEntry(e))
		if err != nil {
			return err
		}
		p.op("HSET", tk, f, ct)
	}
	trk := s.k.alertTrail(a.ID)
	for _, pt := range c.Trail {
		f := "p" + seqField(pt.Seq)
		ct, err := z.seal(trk, f, encodeTrail(pt))
		if err != nil {
			return err
		}
		p.op("HSET", trk, f, ct)
	}
	if a.Open() {
		p.op("ZADD", s.k.openAlerts(), openScore(a), a.ID)
	} else {
		p.op("ZREM", s.k.openAlerts(), a.ID)
	}
	if c.Created {
		if a.CaseID != "" {
			p.op("SET", s.k.caseOpenAlert(a.CaseID), a.ID)
			p.op("SET", s.k.caseLastAlert(a.CaseID), a.ID)
		}
		tak := s.k.teamAlerts(a.Team)
		p.op("ZADD", tak, a.RaisedAt.UnixMilli(), a.ID)
		// Trimming rule: members raised more than twice the retention ago
		// are long gone (listing skips any whose record expired).
		p.op("ZREMRANGEBYSCORE", tak, "-inf", "("+strconv.FormatInt(now.Add(-2*retentionOr(c.Retention)).UnixMilli(), 10))
	}
	if !a.State.Live() && a.CaseID != "" {
		p.op("DELEQ", s.k.caseOpenAlert(a.CaseID), a.ID)
	}
	// A closed alert's records are kept until its closing record is filed
	// and the retention period has passed since (store/retention.go): no
	// TTL here, so a legal hold can stop it. The close queues the record
	// in this same atomic step (store/handoff.go).
	if records.NeedsHandoff(a, len(c.Entries)) {
		s.enqueueHandoff(p, a, now)
	}
	return nil
}

func retentionOr(d time.Duration) time.Duration {
	if d <= 0 {
		return alert.DefaultRules().Retention
	}
	return d
}

func openScore(a *alert.Alert) float64 {
	pr := min(max(int(a.Priority), 0), openScoreBase-1)
	return float64(openScoreBase-pr)*1e13 + float64(a.RaisedAt.UnixMilli())
}

func seqField(n int) string { return fmt.Sprintf("%06d", n) }
