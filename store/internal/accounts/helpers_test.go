package accounts

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

	"waymark/internal/testenv"
	"waymark/seal"
	"waymark/store/internal/kv"
)

// testStore is every aggregate of this package over one connection; the
// embedded conn gives tests the private helpers.
type testStore struct {
	*conn
	*Staff
	*WebPush
	*Tickets
}

func newTestSet(c *kv.Conn) *testStore {
	return &testStore{conn: newConn(c), Staff: NewStaff(c), WebPush: NewWebPush(c), Tickets: NewTickets(c)}
}

// newTestStore connects a store to a private real redis-server.
func newTestStore(t *testing.T, opts testenv.RedisOptions) (*testStore, *testenv.Redis) {
	t.Helper()
	r := testenv.StartRedis(t, opts)
	c := testConn(t, r.URL(), testCrypto(t))
	t.Cleanup(func() { checkKeyNames(t, c) })
	return newTestSet(c), r
}

// swapCrypto changes the keys of every view of the connection at once.
func (s *testStore) swapCrypto(k kv.Crypto) { s.conn.Conn.Crypto = k }

// testConn connects to url as package store would, with crypto.
func testConn(t *testing.T, url string, crypto kv.Crypto) *kv.Conn {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	return &kv.Conn{RDB: rdb, Prefix: "wm:{test}:", Now: time.Now, Log: slog.New(slog.DiscardHandler), Crypto: crypto}
}

// testCrypto makes fresh keys for one test.
func testCrypto(t *testing.T) kv.Crypto {
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

// checkKeyNames runs after every test: no key name may hold a run of
// seven or more digits (a phone number or a date would) and every key
// carries the tenant's prefix.
func checkKeyNames(t *testing.T, c *kv.Conn) {
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

// dumpAll returns every key, field and value in the tenant, concatenated.
func dumpAll(t *testing.T, s *testStore) []byte {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	for _, k := range s.RDB.Keys(ctx, "*").Val() {
		b.WriteString(k + "\n")
		switch s.RDB.Type(ctx, k).Val() {
		case "string":
			b.WriteString(s.RDB.Get(ctx, k).Val())
		case "hash":
			for f, v := range s.RDB.HGetAll(ctx, k).Val() {
				b.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			b.WriteString(strings.Join(s.RDB.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "stream":
			for _, m := range s.RDB.XRange(ctx, k, "-", "+").Val() {
				fmt.Fprintln(&b, m.Values)
			}
		}
	}
	return b.Bytes()
}
