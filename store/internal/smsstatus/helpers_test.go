package smsstatus

import (
	"testing"

	"waymark/internal/testenv"
	"waymark/store/internal/kv"
	"waymark/store/internal/kvtest"
)

// newTestStore connects a delivery report store to a private real redis-server.
func newTestStore(t *testing.T, opts testenv.RedisOptions) (*Store, *testenv.Redis) {
	t.Helper()
	r := testenv.StartRedis(t, opts)
	c := testConn(t, r.URL(), testCrypto(t))
	t.Cleanup(func() { checkKeyNames(t, c) })
	return New(c), r
}

// testConn, testCrypto and checkKeyNames are kvtest's.
func testConn(t *testing.T, url string, crypto kv.Crypto) *kv.Conn {
	return kvtest.Conn(t, url, crypto)
}
func testCrypto(t *testing.T) kv.Crypto      { return kvtest.Crypto(t) }
func checkKeyNames(t *testing.T, c *kv.Conn) { kvtest.CheckKeyNames(t, c) }
