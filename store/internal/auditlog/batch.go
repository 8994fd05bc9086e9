package auditlog

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"waymark/audit"
	"waymark/store/internal/kv"
)

// Group commit. The chain takes one entry after another, so an instance's
// appenders racing for the head only cost each other round trips: with 64
// enrolments at once (bench --cases) the chain took about 270 entries/s
// and some appends ran out of time. Instead each append queues its entry;
// whoever holds the instance's turn takes everything queued, chains it in
// order from the head it read, and writes it in one script that refuses
// if the head moved (another instance) — then it reads the head again.

// group is the turn and the queue of one Redis client and tenant: the
// store makes a Chain per call in places, so they live beside it.
type group struct {
	turn  chan struct{}
	mu    sync.Mutex
	queue []*pendingAudit
}

type groupKey struct {
	rdb    any
	prefix string
}

var groups sync.Map // groupKey → *group

func groupOf(c *kv.Conn) *group {
	k := groupKey{rdb: c.RDB, prefix: c.Prefix}
	if g, ok := groups.Load(k); ok {
		return g.(*group)
	}
	g, _ := groups.LoadOrStore(k, &group{turn: make(chan struct{}, 1)})
	return g.(*group)
}

// pendingAudit is one queued entry and where its outcome goes.
type pendingAudit struct {
	ring   audit.AuditKeyring
	key    []byte
	kid    string
	ce     audit.ChainEntry
	sealed []byte
	done   chan error
}

// maxAuditBatch bounds one script's entries.
const maxAuditBatch = 128

// appendAuditBatchScript appends n chained entries if the head is still
// the one they were chained from. ARGV: previous head hash, new head seq,
// new head hash, key id, n, then for each entry its field count and
// fields.
var appendAuditBatchScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], 'h') or ''
if cur ~= ARGV[1] then return 'stale' end
local i = 6
local id
for _ = 1, tonumber(ARGV[5]) do
  local n = tonumber(ARGV[i])
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'h', ARGV[3], 'kid', ARGV[4])
return id
`)

// enqueue queues p and waits for its outcome, writing the queue itself
// whenever the turn is free.
func (s *Chain) enqueue(ctx context.Context, p *pendingAudit) error {
	g := s.g
	g.mu.Lock()
	g.queue = append(g.queue, p)
	g.mu.Unlock()
	for {
		select {
		case err := <-p.done:
			return err
		case g.turn <- struct{}{}:
			g.mu.Lock()
			n := min(len(g.queue), maxAuditBatch)
			batch := slices.Clone(g.queue[:n])
			g.queue = slices.Delete(g.queue, 0, n)
			g.mu.Unlock()
			if len(batch) > 0 {
				// The batch holds others' entries: the holder's
				// cancellation must not fail them, only the bound.
				bctx, cancel := kv.Bounded(context.WithoutCancel(ctx))
				s.appendBatch(bctx, batch)
				cancel()
			}
			<-g.turn
		case <-ctx.Done():
			g.mu.Lock()
			if i := slices.Index(g.queue, p); i >= 0 {
				g.queue = slices.Delete(g.queue, i, i+1)
				g.mu.Unlock()
				return fmt.Errorf("store: append audit: waited for the head until the deadline: %w", kv.ErrUnavailable)
			}
			g.mu.Unlock()
			// A holder took it: its outcome follows within that
			// holder's own bound.
			return <-p.done
		}
	}
}

// appendBatch writes batch and sends each entry's outcome.
func (s *Chain) appendBatch(ctx context.Context, batch []*pendingAudit) {
	kid := batch[0].kid
	one := len(batch) == 1
	for _, p := range batch {
		one = one || p.kid != kid
	}
	if one {
		for _, p := range batch {
			p.done <- s.appendOne(ctx, p.ring, p.key, p.kid, p.ce, p.sealed)
		}
		return
	}
	err := s.appendChained(ctx, batch)
	for _, p := range batch {
		p.done <- err
	}
}

// appendChained chains batch (all under one key id) from the head and
// writes it in one script, again from a fresh head while another instance
// moves it. A head under another key goes entry by entry (appendOne
// rotates the chain first).
func (s *Chain) appendChained(ctx context.Context, batch []*pendingAudit) error {
	kid, key := batch[0].kid, batch[0].key
	for attempt := 1; ; attempt++ {
		n, prevH, headKid, err := s.head(ctx)
		if err != nil {
			return err
		}
		if n > 0 && headKid != kid {
			var first error
			for _, p := range batch {
				if err := s.appendOne(ctx, p.ring, p.key, p.kid, p.ce, p.sealed); err != nil && first == nil {
					first = err
				}
			}
			return first
		}
		vals := []any{prevH, 0, "", kid, len(batch)}
		h := prevH
		for j, p := range batch {
			ce := p.ce
			ce.Seq = n + 1 + int64(j)
			ce.Hash = audit.ChainHash(key, h, ce)
			h = ce.Hash
			f := auditFields(ce, p.sealed)
			vals = append(append(vals, len(f)), f...)
		}
		vals[1], vals[2] = n+int64(len(batch)), h
		res, err := appendAuditBatchScript.Run(ctx, s.RDB, []string{s.k.audit(), s.k.auditHead()}, vals...).Text()
		if err != nil {
			return s.Wrap("append audit", err)
		}
		if res != "stale" {
			return nil
		}
		if err := staleWait(ctx, attempt); err != nil {
			return err
		}
	}
}
