package accounts

import (
	"testing"

	"waymark/internal/testenv"
	"waymark/store/internal/kv"
	"waymark/store/internal/kvtest"
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

// testConn, testCrypto and checkKeyNames are kvtest's.
func testConn(t *testing.T, url string, crypto kv.Crypto) *kv.Conn {
	return kvtest.Conn(t, url, crypto)
}
func testCrypto(t *testing.T) kv.Crypto      { return kvtest.Crypto(t) }
func checkKeyNames(t *testing.T, c *kv.Conn) { kvtest.CheckKeyNames(t, c) }

// dumpAll returns every key, field and value in the tenant, concatenated.
func dumpAll(t *testing.T, s *testStore) []byte { return kvtest.Dump(t, s.RDB) }
