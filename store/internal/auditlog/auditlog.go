// Package auditlog keeps, for package store, the audit trail: a hash
// chain of entries in one stream, its head and its checkpoint, with each
// reason sealed under the trail's own data key. Its keys are its own.
package auditlog

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/audit"
	"waymark/internal/randid"
	"waymark/pii"
	"waymark/seal"
	"waymark/store/internal/kv"
)

// The audit trail: one stream (keys.audit) whose entries form a hash chain,
// h_i = HMAC-SHA256(k_audit, h_{i-1} ‖ canonical(entry_i)) (alert/audit.go).
// Lua has no HMAC and k_audit never reaches Redis, so the hash is computed
// in Go against the head it read (keys.auditHead: seq and h of the last
// entry), and appendAuditScript adds the entry and moves the head only if
// the head is still the one read; otherwise the append reads the head again
// and retries. Entries are never rewritten; retention trims the oldest
// behind a MAC'd checkpoint (keys.auditCheckpoint).
//
// k_audit rotates (alert/audit.go): every entry and the head carry the id
// of the key they are MAC'd under. The first append that finds the head
// under another key that it holds (a retired key, see New) appends,
// in the same script, an "audit.key_rotated" entry MAC'd under that old
// key naming the new key's id, then its own entry, and MACs the checkpoint
// again under the new key. An instance that finds the head under a key it
// does not hold refuses to append (ErrAuditKey): it would break the chain.

// ErrAuditKey is an append refused because the chain's head is MAC'd under
// a key this instance does not hold: either WAYMARK_AUDIT_KEY changed and
// the old key is not in WAYMARK_AUDIT_KEYS_RETIRED, or another instance
// already rotated to a newer key (restart this one with it).
var ErrAuditKey = errors.New("store: audit chain is under a key this instance does not hold")

// Chain is the audit trail over one connection, with the retired audit
// keys (WAYMARK_AUDIT_KEYS_RETIRED) it may rotate the chain from and
// verifies what it trims with.
type Chain struct {
	*kv.Conn
	k       keyspace
	retired [][]byte
	// g is the group commit shared by every Chain on this connection
	// (batch.go).
	g *group
}

// New returns the audit trail over c with the retired audit keys.
func New(c *kv.Conn, retired [][]byte) *Chain {
	return &Chain{Conn: c, k: keyspace{p: c.Prefix}, retired: retired, g: groupOf(c)}
}

// auditRing is the current key and the retired ones; the key derived from
// the tag key is always among them, so moving from the derived key to a
// configured one needs no retired setting.
func (s *Chain) auditRing(retired [][]byte) audit.AuditKeyring {
	m := hmac.New(sha256.New, s.Crypto.TagKey)
	m.Write([]byte("waymark audit key (derived)"))
	return audit.NewAuditKeyring(s.auditMAC(), append(slices.Clone(retired), m.Sum(nil))...)
}

// auditMAC is k_audit: the configured audit key, or, when none is
// configured, one derived from the tag key (startup warns about that).
func (s *Chain) auditMAC() []byte {
	if len(s.Crypto.AuditKey) > 0 {
		return s.Crypto.AuditKey
	}
	m := hmac.New(sha256.New, s.Crypto.TagKey)
	m.Write([]byte("waymark audit key (derived)"))
	return m.Sum(nil)
}

// AuditKey returns k_audit as the store uses it, for verification and
// signing by the records service.
func (s *Chain) AuditKey() []byte { return s.auditMAC() }

// appendAuditScript: KEYS[1] the stream, KEYS[2] the head, KEYS[3] the
// checkpoint; ARGV[1] the head hash read ("" for none), ARGV[2] the new
// seq, ARGV[3] the new hash, ARGV[4] the new head's key id, ARGV[5] the
// checkpoint seq read, ARGV[6] how many fields the first entry has, ARGV[7]
// how many a second entry has (0: none), ARGV[8] how many checkpoint
// fields to set (0: none), then those fields in that order. A rotation is
// the first entry (the key_rotated one), the second, and the checkpoint
// MAC'd again, all or nothing.
var appendAuditScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], 'h') or ''
if cur ~= ARGV[1] then return 'stale' end
local cps = redis.call('HGET', KEYS[3], 'seq') or ''
local n1, n2, n3 = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if n3 > 0 and cps ~= ARGV[5] then return 'stale' end
local i = 9
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + n1 - 1))
i = i + n1
if n2 > 0 then
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + n2 - 1))
  i = i + n2
end
if n3 > 0 then redis.call('HSET', KEYS[3], unpack(ARGV, i, i + n3 - 1)) end
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'h', ARGV[3], 'kid', ARGV[4])
return id
`)

// auditKey returns the audit trail's data key, making it on first use. Only
// its wrapped form is stored; a key-encryption-key rotation re-wraps it.
func (s *Chain) auditKey(ctx context.Context) (*seal.DataKey, error) {
	ad := seal.AD{Key: s.k.auditDataKey()}
	for range 2 {
		wrapped, err := s.RDB.Get(ctx, s.k.auditDataKey()).Bytes()
		if err == nil {
			dk, err := s.Crypto.Keyring.UnwrapDataKey(wrapped, ad)
			if err != nil {
				return nil, fmt.Errorf("store: unwrap audit key: %w", err)
			}
			return dk, nil
		}
		if !errors.Is(err, redis.Nil) {
			return nil, s.Wrap("audit key", err)
		}
		dk, fresh, err := s.Crypto.Keyring.NewDataKey(ad)
		if err != nil {
			return nil, fmt.Errorf("store: audit key: %w", err)
		}
		ok, err := s.RDB.SetNX(ctx, s.k.auditDataKey(), fresh, 0).Result()
		if err != nil {
			return nil, s.Wrap("audit key", err)
		}
		if ok {
			return dk, nil
		}
		// Another instance made it first: use theirs.
	}
	return nil, errors.New("store: audit key: could not settle")
}

// AppendAuditWaiting is AppendAudit that waits while Redis loads its
// data (as it waits out contention), until ctx ends or, without a
// deadline, auditLoadingWait. All audit writing goes through this method
// or AppendAudit.
func (s *Chain) AppendAuditWaiting(ctx context.Context, e audit.AuditEntry) error {
	return waitOutLoading(ctx, func() error { return s.appendAudit(ctx, e, s.retired) })
}

// AppendAudit appends one entry to the audit chain: when, who, what, which
// case and alert, outcome, and the reason sealed under the audit trail's
// data key, bound to the entry's own id, with its salted digest in the
// chain. When the chain's head is under a retired key it rotates the chain
// to the current key first.
func (s *Chain) AppendAudit(ctx context.Context, e audit.AuditEntry) error {
	return s.appendAudit(ctx, e, s.retired)
}

// auditLoadingWait is how long an audit append with no deadline of its own
// waits for Redis to finish loading its data.
const auditLoadingWait = 2 * time.Minute

// waitOutLoading runs try again while Redis answers LOADING (an
// instance starting beside a restarting Redis), until ctx ends or, without
// a deadline, auditLoadingWait: as contention may cost an audit entry time
// but never the entry, so may a Redis that is still loading.
func waitOutLoading(ctx context.Context, try func() error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, auditLoadingWait)
		defer cancel()
	}
	pause := 20 * time.Millisecond
	for {
		err := try()
		if !errors.Is(err, kv.ErrLoading) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

func (s *Chain) appendAudit(ctx context.Context, e audit.AuditEntry, retired [][]byte) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if e.At.IsZero() {
		e.At = s.Now()
	}
	ring := s.auditRing(retired)
	kid := ring.Current()
	key, _ := ring.Key(kid)
	eid := randid.New("e_", 16)
	ce := audit.ChainEntry{ID: eid, At: time.UnixMilli(e.At.UnixMilli()), Actor: e.Actor, Action: e.Action,
		CaseID: e.CaseID, AlertID: e.AlertID, Outcome: e.Outcome, Key: kid}
	var sealed []byte
	if !e.Reason.IsZero() {
		dk, err := s.auditKey(ctx)
		if err != nil {
			return err
		}
		reason := e.Reason.Reveal()
		if sealed, err = dk.Seal([]byte(reason), seal.AD{Key: s.k.audit(), Field: "reason:" + eid}); err != nil {
			return fmt.Errorf("store: seal audit reason: %w", err)
		}
		ce.ReasonDigest = audit.ReasonDigest(eid, reason)
	}
	return s.enqueue(ctx, &pendingAudit{ring: ring, key: key, kid: kid, ce: ce, sealed: sealed, done: make(chan error, 1)})
}

// appendOne appends one entry on its own, rotating the chain to kid first
// when its head is under another key.
func (s *Chain) appendOne(ctx context.Context, ring audit.AuditKeyring, key []byte, kid string, ce audit.ChainEntry, sealed []byte) error {
	for attempt := 1; ; attempt++ {
		n, prevH, headKid, err := s.head(ctx)
		if err != nil {
			return err
		}
		if n > 0 && headKid == "" {
			// A head written before key ids: find its key once.
			if headKid, err = s.legacyHeadKey(ctx, ring); err != nil {
				return err
			}
		}
		var first, second, cpFields []any
		cpSeq := ""
		switch {
		case n == 0 || headKid == kid:
			ce.Seq = n + 1
			ce.Hash = audit.ChainHash(key, prevH, ce)
			first = auditFields(ce, sealed)
		default:
			old, ok := ring.Key(headKid)
			if !ok {
				return fmt.Errorf("store: append audit: the chain's head is MAC'd under key id %s, this instance holds %s (put the old key in WAYMARK_AUDIT_KEYS_RETIRED, or restart with the newer WAYMARK_AUDIT_KEY): %w", headKid, kid, ErrAuditKey)
			}
			rot := audit.ChainEntry{Seq: n + 1, ID: randid.New("e_", 16), At: ce.At, Actor: audit.ActorSystem,
				Action: audit.ActionKeyRotated, Outcome: "ok: rotated to key id " + kid, Key: headKid, NextKey: kid}
			rot.Hash = audit.ChainHash(old, prevH, rot)
			ce.Seq = n + 2
			ce.Hash = audit.ChainHash(key, rot.Hash, ce)
			first, second = auditFields(rot, nil), auditFields(ce, sealed)
			if cpSeq, cpFields, err = s.resignCheckpoint(ctx, ring, key); err != nil {
				return err
			}
		}
		vals := []any{prevH, ce.Seq, ce.Hash, kid, cpSeq, len(first), len(second), len(cpFields)}
		vals = append(append(append(vals, first...), second...), cpFields...)
		res, err := appendAuditScript.Run(ctx, s.RDB, []string{s.k.audit(), s.k.auditHead(), s.k.auditCheckpoint()}, vals...).Text()
		if err != nil {
			return s.Wrap("append audit", err)
		}
		if res != "stale" {
			if second != nil {
				s.Log.Warn("audit chain rotated to a new key", "from_key_id", headKid, "to_key_id", kid, "seq", ce.Seq-1)
			}
			return nil
		}
		if err := staleWait(ctx, attempt); err != nil {
			return err
		}
	}
}

// head reads the chain's head: the last entry's sequence number, its hash
// and the id of the key it is MAC'd under (0, "", "" for an empty chain).
func (s *Chain) head(ctx context.Context) (n int64, h, kid string, err error) {
	v, err := s.RDB.HMGet(ctx, s.k.auditHead(), "seq", "h", "kid").Result()
	if err != nil {
		return 0, "", "", s.Wrap("append audit", err)
	}
	seq, _ := v[0].(string)
	h, _ = v[1].(string)
	kid, _ = v[2].(string)
	n, _ = strconv.ParseInt(seq, 10, 64)
	return n, h, kid, nil
}

// staleWait pauses after another writer moved the head. Writers retry
// until the deadline rather than after a fixed count, with a random pause
// that grows, so they fall out of step: contention may cost time, never
// an audit entry.
func staleWait(ctx context.Context, attempt int) error {
	pause := time.Duration(rand.Int64N(int64(min(attempt, 20))*int64(250*time.Microsecond)) + 1)
	select {
	case <-ctx.Done():
		return fmt.Errorf("store: append audit: head kept moving until the deadline: %w", kv.ErrUnavailable)
	case <-time.After(pause):
		return nil
	}
}

// auditFields are a chain entry's stream fields.
func auditFields(ce audit.ChainEntry, sealed []byte) []any {
	f := []any{"eid", ce.ID, "seq", ce.Seq, "at", kv.MS(ce.At), "actor", ce.Actor, "action", ce.Action,
		"case", ce.CaseID, "alert", ce.AlertID, "outcome", ce.Outcome, "rd", ce.ReasonDigest, "h", ce.Hash}
	if ce.Key != "" {
		f = append(f, "kid", ce.Key)
	}
	if ce.NextKey != "" {
		f = append(f, "nkid", ce.NextKey)
	}
	if sealed != nil {
		f = append(f, "reason", sealed)
	}
	return f
}

// legacyHeadKey finds which configured key the last entry of a chain
// written before key ids is MAC'd under ("" if none: the append then
// refuses, as for any key it does not hold).
func (s *Chain) legacyHeadKey(ctx context.Context, ring audit.AuditKeyring) (string, error) {
	msgs, err := s.RDB.XRevRangeN(ctx, s.k.audit(), "+", "-", 2).Result()
	if err != nil {
		return "", s.Wrap("append audit", err)
	}
	if len(msgs) == 0 {
		return "", nil
	}
	last, _ := chainEntry(msgs[0])
	if last.Key != "" {
		return last.Key, nil
	}
	prev := ""
	switch {
	case len(msgs) == 2:
		prev, _ = msgs[1].Values["h"].(string)
	case last.Seq > 1:
		cp, err := s.readCheckpoint(ctx)
		if err != nil {
			return "", err
		}
		if cp != nil {
			prev = cp.Hash
		}
	}
	for _, id := range ring.IDs() {
		if k, _ := ring.Key(id); audit.ChainHash(k, prev, last) == last.Hash {
			return id, nil
		}
	}
	return "?", nil
}

// resignCheckpoint MACs the checkpoint again under the new key for a
// rotation: the old key must vouch for it first. It returns the checkpoint
// seq read ("" for none) and the fields to set (none without one).
func (s *Chain) resignCheckpoint(ctx context.Context, ring audit.AuditKeyring, key []byte) (string, []any, error) {
	cp, err := s.readCheckpoint(ctx)
	if err != nil || cp == nil {
		return "", nil, err
	}
	if _, b := audit.NewChainVerifier(key, cp, retiredOf(ring)...); b != nil {
		return "", nil, fmt.Errorf("store: rotate audit key: %w", b)
	}
	n := audit.Checkpoint{Seq: cp.Seq, Hash: cp.Hash, At: cp.At}.Signed(key)
	return strconv.FormatInt(cp.Seq, 10), []any{"seq", n.Seq, "h", n.Hash, "at", kv.MS(n.At), "kid", n.Key, "mac", n.MAC}, nil
}

// retiredOf lists a ring's keys other than the current one.
func retiredOf(ring audit.AuditKeyring) [][]byte {
	var out [][]byte
	for _, id := range ring.IDs()[1:] {
		k, _ := ring.Key(id)
		out = append(out, k)
	}
	return out
}

// Record is one audit entry as read back, reason opened.
type Record struct {
	ID      string // stream id
	Seq     int64
	At      time.Time
	Actor   string
	Action  string
	CaseID  string
	AlertID string
	Outcome string
	Reason  pii.Text
	Hash    string
}

// chainEntry reads a stream message into a chain entry.
func chainEntry(m redis.XMessage) (audit.ChainEntry, string) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	seq, err := strconv.ParseInt(str("seq"), 10, 64)
	if err != nil {
		seq = -1
	}
	at, err := strconv.ParseInt(str("at"), 10, 64)
	if err != nil {
		at = -1
	}
	return audit.ChainEntry{Seq: seq, ID: str("eid"), StreamID: m.ID, At: time.UnixMilli(at), Actor: str("actor"),
		Action: str("action"), CaseID: str("case"), AlertID: str("alert"), Outcome: str("outcome"),
		ReasonDigest: str("rd"), Key: str("kid"), NextKey: str("nkid"), Hash: str("h")}, str("reason")
}

func (s *Chain) openReason(ctx context.Context, dk **seal.DataKey, eid, ct string) (string, error) {
	if ct == "" {
		return "", nil
	}
	if *dk == nil {
		k, err := s.auditKey(ctx)
		if err != nil {
			return "", err
		}
		*dk = k
	}
	pt, err := (*dk).Open([]byte(ct), seal.AD{Key: s.k.audit(), Field: "reason:" + eid})
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// ReadAudit returns up to n audit entries from the oldest, reasons opened.
func (s *Chain) ReadAudit(ctx context.Context, n int64) ([]Record, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	msgs, err := s.RDB.XRangeN(ctx, s.k.audit(), "-", "+", n).Result()
	if err != nil {
		return nil, s.Wrap("read audit", err)
	}
	var dk *seal.DataKey
	out := make([]Record, 0, len(msgs))
	for _, m := range msgs {
		e, ct := chainEntry(m)
		r := Record{ID: m.ID, Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, CaseID: e.CaseID,
			AlertID: e.AlertID, Outcome: e.Outcome, Hash: e.Hash}
		reason, err := s.openReason(ctx, &dk, e.ID, ct)
		if err != nil {
			return nil, fmt.Errorf("store: open audit reason %s: %w", m.ID, err)
		}
		r.Reason = pii.NewText(reason)
		out = append(out, r)
	}
	return out, nil
}

// auditPage is how many entries one read of the chain takes.
const auditPage = 500

// readCheckpoint returns the checkpoint, nil if the chain was never trimmed.
func (s *Chain) readCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	h, err := s.RDB.HGetAll(ctx, s.k.auditCheckpoint()).Result()
	if err != nil {
		return nil, s.Wrap("audit checkpoint", err)
	}
	if len(h) == 0 {
		return nil, nil
	}
	seq, _ := strconv.ParseInt(h["seq"], 10, 64)
	return &audit.Checkpoint{Seq: seq, Hash: h["h"], At: kv.FromMS(h["at"]), Key: h["kid"], MAC: h["mac"]}, nil
}

// AuditChain calls fn once with the checkpoint (nil if none) and no entry,
// then with every entry in order and its reason opened. A reason that does
// not open is passed as a marker that cannot match its digest, so
// verification names that entry. Each page is read within its own
// deadline, so a long chain is not cut short.
func (s *Chain) AuditChain(ctx context.Context, fn func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error) error {
	return s.auditChain(ctx, fn)
}

func (s *Chain) auditChain(ctx context.Context, fn func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error) error {
	bctx, cancel := kv.Bounded(ctx)
	cp, err := s.readCheckpoint(bctx)
	cancel()
	if err != nil {
		return err
	}
	if err := fn(cp, nil, ""); err != nil {
		return err
	}
	var dk *seal.DataKey
	start := "-"
	for {
		bctx, cancel := kv.Bounded(ctx)
		msgs, err := s.RDB.XRangeN(bctx, s.k.audit(), start, "+", auditPage).Result()
		if err != nil {
			cancel()
			return s.Wrap("read audit chain", err)
		}
		for _, m := range msgs {
			e, ct := chainEntry(m)
			reason, err := s.openReason(bctx, &dk, e.ID, ct)
			if err != nil {
				reason = "\x00(sealed reason does not open)"
			}
			if err := fn(nil, &e, reason); err != nil {
				cancel()
				return err
			}
		}
		cancel()
		if len(msgs) < auditPage {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// trimAuditScript: KEYS[1] the stream, KEYS[2] the checkpoint, KEYS[3]
// the head; ARGV[1] the checkpoint seq read ("" for none), ARGV[2] the id
// of the first entry to keep, ARGV[3] this instance's key id, ARGV[4…] the
// new checkpoint's fields. It does nothing when the head is under another
// key: the checkpoint would be under a key the chain no longer uses.
var trimAuditScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], 'seq') or ''
if cur ~= ARGV[1] then return 0 end
local kid = redis.call('HGET', KEYS[3], 'kid') or ''
if kid ~= '' and kid ~= ARGV[3] then return 0 end
redis.call('XTRIM', KEYS[1], 'MINID', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
return 1
`)

// TrimAudit removes entries older than cutoff, oldest first, stopping at
// the first one about a case or alert on legal hold, and always keeping the
// newest entry. The trimmed part is verified first (a broken chain is never
// trimmed away: the error names the break), and a checkpoint MAC'd under
// k_audit keeps the seq and hash of the last entry removed.
//
// The checkpoint is MAC'd under the current key; when the chain's head is
// under another key (not rotated yet, or rotated past this instance) it
// trims nothing.
func (s *Chain) TrimAudit(ctx context.Context, cutoff time.Time, held func(caseID, alertID string) (bool, error)) (int, error) {
	return s.trimAudit(ctx, cutoff, held, s.retired)
}

func (s *Chain) trimAudit(ctx context.Context, cutoff time.Time, held func(caseID, alertID string) (bool, error), retired [][]byte) (int, error) {
	ring := s.auditRing(retired)
	key, _ := ring.Key(ring.Current())
	var v *audit.ChainVerifier
	var oldSeq string
	var last *audit.ChainEntry
	keep := ""
	count := 0
	heldCache := map[string]bool{}
	errStop := errors.New("stop")
	err := s.auditChain(ctx, func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error {
		if e == nil {
			var b *audit.Break
			if v, b = audit.NewChainVerifier(key, cp, retiredOf(ring)...); b != nil {
				return b
			}
			if cp != nil {
				oldSeq = strconv.FormatInt(cp.Seq, 10)
			}
			return nil
		}
		if !e.At.Before(cutoff) {
			keep = e.StreamID
			return errStop
		}
		k := e.CaseID + "/" + e.AlertID
		h, ok := heldCache[k]
		if !ok && (e.CaseID != "" || e.AlertID != "") {
			var err error
			if h, err = held(e.CaseID, e.AlertID); err != nil {
				return err
			}
			heldCache[k] = h
		}
		if h {
			keep = e.StreamID
			return errStop
		}
		if b := v.Next(*e, &reason); b != nil {
			return b
		}
		count++
		cur := *e
		last = &cur
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, err
	}
	if last == nil {
		return 0, nil
	}
	n := count
	if keep == "" {
		// Everything is old enough: keep the newest entry all the same.
		keep, n = last.StreamID, count-1
	}
	if n == 0 {
		return 0, nil
	}
	// The checkpoint stands for the last entry removed: the one before keep.
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	before, err := s.RDB.XRevRangeN(ctx, s.k.audit(), "("+keep, "-", 1).Result()
	if err != nil {
		return 0, s.Wrap("trim audit", err)
	}
	if len(before) == 0 {
		return 0, nil
	}
	be, _ := chainEntry(before[0])
	cp := audit.Checkpoint{Seq: be.Seq, Hash: be.Hash, At: s.Now()}.Signed(key)
	ok, err := trimAuditScript.Run(ctx, s.RDB, []string{s.k.audit(), s.k.auditCheckpoint(), s.k.auditHead()},
		oldSeq, keep, ring.Current(), "seq", cp.Seq, "h", cp.Hash, "at", kv.MS(cp.At), "kid", cp.Key, "mac", cp.MAC).Int()
	if err != nil {
		return 0, s.Wrap("trim audit", err)
	}
	if ok != 1 {
		return 0, nil // another instance trimmed meanwhile
	}
	return n, nil
}
