// Package rotation moves everything sealed under a retired
// key-encryption key to the active one, for package store.
package rotation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"waymark/seal"
	"waymark/store/internal/kv"
)

// Key rotation. By convention (store/sealed.go) a value sealed directly
// under a key-encryption key — a record (seal.Keyring.Seal) or a wrapped
// data key (NewDataKey) — lives in a hash field or a plain string key and is
// bound to AD{Key: the Redis key, Field: the hash field or ""}. So rotation
// needs no list of record types: it scans the tenant's keys, and re-seals
// every such value that is not under the active key. Values sealed under a
// case's data key (kind 'd') are untouched: re-wrapping the data key is
// what moves them to the new key-encryption key.

// Rotator rotates one tenant's sealed values over a shared connection.
type Rotator struct{ *kv.Conn }

// New returns a Rotator over c.
func New(c *kv.Conn) *Rotator { return &Rotator{c} }

// Report is what a rotation did and what it left.
type Report struct {
	// Keys is how many Redis keys were scanned.
	Keys int
	// Resealed and Rewrapped count records and wrapped data keys moved to
	// the active key; Current those already under it.
	Resealed, Rewrapped, Current int
	// Unreadable counts values that look sealed under a key-encryption key
	// but do not open (a key missing from the keyring, or damage): they
	// cannot be moved and keep their old key alive.
	Unreadable int
	// Remaining counts, after the run, sealed values still under each key
	// that is not active, wherever they are (including lists and streams,
	// where nothing should be sealed under a key-encryption key).
	Remaining map[string]int
}

// Retirable reports whether key id may now be removed from configuration.
func (r Report) Retirable(id string) bool { return r.Remaining[id] == 0 }

// rotateBatch is the SCAN and HSCAN page size.
const rotateBatch = 500

var reHashScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

var reStringScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// Rotate moves everything sealed under a non-active key-encryption key to
// the active one, while Waymark keeps running: each value is replaced only
// if it has not changed since it was read (a value written meanwhile is
// already under the active key). progress, if set, is called after each
// Redis key with how many of the total are done. It ends with a second,
// read-only pass that fills Remaining.
func (s *Rotator) Rotate(ctx context.Context, progress func(done, total int)) (Report, error) {
	rep := Report{Remaining: map[string]int{}}
	keys, err := s.scanKeys(ctx)
	if err != nil {
		return rep, err
	}
	rep.Keys = len(keys)
	for i, key := range keys {
		if err := s.rotateKey(ctx, key, &rep); err != nil {
			return rep, err
		}
		if progress != nil {
			progress(i+1, len(keys))
		}
	}
	rep.Remaining, err = s.SealedByKey(ctx)
	if err != nil {
		return rep, err
	}
	delete(rep.Remaining, s.Crypto.Keyring.ActiveID())
	delete(rep.Remaining, "dk")
	return rep, nil
}

// scanKeys lists every key of the tenant. With Redis Cluster the tenant's
// hash tag puts them all on one node; every master is scanned anyway.
func (s *Rotator) scanKeys(ctx context.Context) ([]string, error) {
	var keys []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			cctx, cancel := kv.Bounded(ctx)
			page, next, err := c.Scan(cctx, cursor, escapeGlob(s.Prefix)+"*", rotateBatch).Result()
			cancel()
			if err != nil {
				return s.Wrap("scan keys", err)
			}
			keys = append(keys, page...)
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	if cc, ok := s.RDB.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, c)
		})
	} else {
		err = scan(ctx, s.RDB)
	}
	slices.Sort(keys)
	return slices.Compact(keys), err
}

// escapeGlob escapes SCAN MATCH's special characters (the tenant's braces
// are not special, but brackets, stars and question marks would be).
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

// rotateKey moves the KEK-sealed values of one Redis key.
func (s *Rotator) rotateKey(ctx context.Context, key string, rep *Report) error {
	cctx, cancel := kv.Bounded(ctx)
	typ, err := s.RDB.Type(cctx, key).Result()
	cancel()
	if err != nil {
		return s.Wrap("rotate: type", err)
	}
	switch typ {
	case "string":
		return s.rotateValue(ctx, key, "", false, nil, rep)
	case "hash":
		var cursor uint64
		for {
			cctx, cancel := kv.Bounded(ctx)
			page, next, err := s.RDB.HScan(cctx, key, cursor, "*", rotateBatch).Result()
			cancel()
			if err != nil {
				return s.Wrap("rotate: hscan", err)
			}
			for i := 0; i+1 < len(page); i += 2 {
				if err := s.rotateValue(ctx, key, page[i], true, &page[i+1], rep); err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	return nil
}

// move is what rotation does with one value.
type move int

const (
	moveNone       move = iota // not sealed, or under a data key
	moveCurrent                // already under the active key
	moveUnreadable             // sealed under a KEK but does not open
	moveResealed               // a record, re-sealed
	moveRewrapped              // a wrapped data key, re-wrapped
)

// moved re-seals ct under the active key, as a record or else as a wrapped
// data key, and says which it did.
func (s *Rotator) moved(ct []byte, ad seal.AD) ([]byte, move) {
	id, err := seal.KeyID(ct)
	if err != nil || id == "dk" {
		return nil, moveNone
	}
	kr := s.Crypto.Keyring
	if id == kr.ActiveID() {
		return nil, moveCurrent
	}
	if out, err := kr.Reseal(ct, ad); err == nil {
		return out, moveResealed
	}
	if out, err := kr.Rewrap(ct, ad); err == nil {
		return out, moveRewrapped
	}
	return nil, moveUnreadable
}

func (rep *Report) count(m move) {
	switch m {
	case moveCurrent:
		rep.Current++
	case moveUnreadable:
		rep.Unreadable++
	case moveResealed:
		rep.Resealed++
	case moveRewrapped:
		rep.Rewrapped++
	}
}

// rotateValue moves one value: read (unless val is given), re-seal, and
// write back only if unchanged since read; a lost race is decided afresh.
func (s *Rotator) rotateValue(ctx context.Context, key, field string, isHash bool, val *string, rep *Report) error {
	for attempt := 0; attempt < 3; attempt++ {
		if val == nil {
			cctx, cancel := kv.Bounded(ctx)
			var v string
			var err error
			if isHash {
				v, err = s.RDB.HGet(cctx, key, field).Result()
			} else {
				v, err = s.RDB.Get(cctx, key).Result()
			}
			cancel()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			if err != nil {
				return s.Wrap("rotate: read", err)
			}
			val = &v
		}
		out, m := s.moved([]byte(*val), seal.AD{Key: key, Field: field})
		if out == nil {
			rep.count(m)
			return nil
		}
		cctx, cancel := kv.Bounded(ctx)
		var ok bool
		var err error
		if isHash {
			ok, err = reHashScript.Run(cctx, s.RDB, []string{key}, field, *val, out).Bool()
		} else {
			ok, err = reStringScript.Run(cctx, s.RDB, []string{key}, *val, out).Bool()
		}
		cancel()
		if err != nil {
			return s.Wrap("rotate: write", err)
		}
		if ok {
			rep.count(m)
			return nil
		}
		val = nil
	}
	return nil
}

// SealedByKey counts the tenant's values sealed under each key id ("dk" for
// a case's or the audit trail's data key), in hashes, strings, lists,
// sets, sorted sets and streams. It reads only.
func (s *Rotator) SealedByKey(ctx context.Context) (map[string]int, error) {
	keys, err := s.scanKeys(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	count := func(v string) {
		if id, err := seal.KeyID([]byte(v)); err == nil {
			counts[id]++
		}
	}
	for _, key := range keys {
		if err := s.eachValue(ctx, key, count); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// eachValue calls f with every value stored at key, whatever its type.
func (s *Rotator) eachValue(ctx context.Context, key string, f func(string)) error {
	cctx, cancel := kv.Bounded(ctx)
	typ, err := s.RDB.Type(cctx, key).Result()
	cancel()
	if err != nil {
		return s.Wrap("count: type", err)
	}
	page := func(op string, fn func(context.Context) error) error {
		cctx, cancel := kv.Bounded(ctx)
		defer cancel()
		if err := fn(cctx); err != nil && !errors.Is(err, redis.Nil) {
			return s.Wrap("count: "+op, err)
		}
		return nil
	}
	switch typ {
	case "string":
		return page("get", func(ctx context.Context) error {
			v, err := s.RDB.Get(ctx, key).Result()
			if err == nil {
				f(v)
			}
			return err
		})
	case "hash":
		return s.scanPages(ctx, func(ctx context.Context, c uint64) ([]string, uint64, error) {
			return s.RDB.HScan(ctx, key, c, "*", rotateBatch).Result()
		}, func(kv []string) {
			for i := 1; i < len(kv); i += 2 {
				f(kv[i])
			}
		})
	case "set":
		return s.scanPages(ctx, func(ctx context.Context, c uint64) ([]string, uint64, error) {
			return s.RDB.SScan(ctx, key, c, "*", rotateBatch).Result()
		}, func(vs []string) {
			for _, v := range vs {
				f(v)
			}
		})
	case "zset":
		return s.scanPages(ctx, func(ctx context.Context, c uint64) ([]string, uint64, error) {
			return s.RDB.ZScan(ctx, key, c, "*", rotateBatch).Result()
		}, func(kv []string) {
			for i := 0; i < len(kv); i += 2 {
				f(kv[i])
			}
		})
	case "list":
		for start := int64(0); ; start += rotateBatch {
			var vs []string
			if err := page("lrange", func(ctx context.Context) (err error) {
				vs, err = s.RDB.LRange(ctx, key, start, start+rotateBatch-1).Result()
				return err
			}); err != nil {
				return err
			}
			for _, v := range vs {
				f(v)
			}
			if len(vs) < rotateBatch {
				return nil
			}
		}
	case "stream":
		from := "-"
		for {
			var msgs []redis.XMessage
			if err := page("xrange", func(ctx context.Context) (err error) {
				msgs, err = s.RDB.XRangeN(ctx, key, from, "+", rotateBatch).Result()
				return err
			}); err != nil {
				return err
			}
			for _, m := range msgs {
				for _, v := range m.Values {
					if str, ok := v.(string); ok {
						f(str)
					}
				}
			}
			if len(msgs) < rotateBatch {
				return nil
			}
			from = "(" + msgs[len(msgs)-1].ID
		}
	}
	return nil
}

func (s *Rotator) scanPages(ctx context.Context, next func(context.Context, uint64) ([]string, uint64, error), f func([]string)) error {
	var cursor uint64
	for {
		cctx, cancel := kv.Bounded(ctx)
		page, c, err := next(cctx, cursor)
		cancel()
		if err != nil {
			return s.Wrap("count: scan", err)
		}
		f(page)
		if cursor = c; cursor == 0 {
			return nil
		}
	}
}

// FormatRemaining renders Remaining as "k1=0 k2=3", sorted by key id, with
// every id of ids shown even at zero.
func FormatRemaining(remaining map[string]int, ids []string) string {
	all := map[string]int{}
	for _, id := range ids {
		all[id] = remaining[id]
	}
	maps.Copy(all, remaining)
	parts := make([]string, 0, len(all))
	for _, id := range slices.Sorted(maps.Keys(all)) {
		parts = append(parts, fmt.Sprintf("%s=%d", id, all[id]))
	}
	return strings.Join(parts, " ")
}
