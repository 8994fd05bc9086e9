// Package kvtest connects the store's internal packages' tests to a real
// redis-server the way package store does, and checks what they leave in
// it. Only tests import it.
package kvtest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/seal"
	"waymark/store/internal/kv"
)

// Conn connects to url as package store would, with crypto, under the
// tenant prefix wm:{test}:; it closes at the test's end.
func Conn(t testing.TB, url string, crypto kv.Crypto) *kv.Conn {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	return &kv.Conn{RDB: rdb, Prefix: "wm:{test}:", Now: time.Now, Log: slog.New(slog.DiscardHandler), Crypto: crypto}
}

// Crypto makes fresh keys for one test.
func Crypto(t testing.TB) kv.Crypto {
	t.Helper()
	kr, err := seal.NewKeyring([]seal.Key{{ID: "k1", Secret: seal.NewRandomKey()}})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := seal.NewIndex(seal.NewRandomKey(), 8)
	if err != nil {
		t.Fatal(err)
	}
	return kv.Crypto{Keyring: kr, Index: ix, TagKey: seal.NewRandomKey()}
}

var digitRun = regexp.MustCompile(`[0-9]{7,}`)

// CheckKeyNames fails t if any key name holds a run of seven or more
// digits (a phone number or a date would) or lacks the tenant's prefix.
// Run it after every test.
func CheckKeyNames(t testing.TB, c *kv.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.RDB.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if digitRun.MatchString(key) {
			t.Errorf("redis key %q holds a run of 7+ digits", key)
		}
		if !strings.HasPrefix(key, c.Prefix) {
			t.Errorf("redis key %q lacks the tenant prefix %q", key, c.Prefix)
		}
	}
	// A stopped redis cannot be scanned; that is not this check's business.
	_ = iter.Err()
}

// Dump returns every key, field and value in Redis, concatenated, for
// tests that look for a secret in the clear.
func Dump(t testing.TB, rdb redis.UniversalClient) []byte {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	for _, k := range rdb.Keys(ctx, "*").Val() {
		b.WriteString(k + "\n")
		switch rdb.Type(ctx, k).Val() {
		case "string":
			b.WriteString(rdb.Get(ctx, k).Val())
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				b.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			b.WriteString(strings.Join(rdb.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "stream":
			for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
				fmt.Fprintln(&b, m.Values)
			}
		}
	}
	return b.Bytes()
}
