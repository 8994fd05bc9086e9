package store

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/audit"
	"waymark/internal/testenv"
	"waymark/oncall"
	"waymark/problem"
	"waymark/seal"
	"waymark/store/internal/kv"
)

// newTestStore connects a Store to a private real redis-server.
func newTestStore(t *testing.T, opts testenv.RedisOptions) (*testStore, *testenv.Redis) {
	t.Helper()
	r := testenv.StartRedis(t, opts)
	db, err := Open(Options{Tenant: "test", URL: r.URL(), Crypto: testCrypto(t)})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSet(db)
	t.Cleanup(func() {
		checkKeyNames(t, s)
		s.Close()
	})
	return s, r
}

// testCrypto makes fresh keys for one test.
func testCrypto(t *testing.T) Crypto {
	t.Helper()
	kr, err := seal.NewKeyring([]seal.Key{{ID: "k1", Secret: seal.NewRandomKey()}})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := seal.NewIndex(seal.NewRandomKey(), 8)
	if err != nil {
		t.Fatal(err)
	}
	return Crypto{Keyring: kr, Index: ix, TagKey: seal.NewRandomKey()}
}

var digitRun = regexp.MustCompile(`[0-9]{7,}`)

// checkKeyNames runs after every store test: no key name may hold a run of
// seven or more digits (a phone number or a date would) and every key
// carries the tenant's prefix.
func checkKeyNames(t *testing.T, s *testStore) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := s.RDB.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if digitRun.MatchString(key) {
			t.Errorf("redis key %q holds a run of 7+ digits", key)
		}
		if !strings.HasPrefix(key, s.k.p) {
			t.Errorf("redis key %q lacks the tenant prefix %q", key, s.k.p)
		}
	}
	// A stopped redis cannot be scanned; that is not this check's business.
	_ = iter.Err()
}

func TestPingFollowsRedis(t *testing.T) {
	s, r := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with redis up: %v", err)
	}
	r.Kill()
	start := time.Now()
	err := s.Ping(ctx)
	if !errors.Is(err, problem.ErrUnavailable) {
		t.Fatalf("Ping with redis down = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Ping with redis down took %v, want under 3s", d)
	}
	r.Start()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
}

func TestPingFrozenRedisGivesUp(t *testing.T) {
	s, r := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r.Freeze()
	defer r.Thaw()
	start := time.Now()
	err := s.Ping(ctx)
	if !errors.Is(err, problem.ErrUnavailable) {
		t.Fatalf("Ping on frozen redis = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gave up after %v, want within 3s", d)
	}
}

func TestInspect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		aof      bool
		warnings int
	}{
		{"aof always", true, 0},
		{"aof off", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, testenv.RedisOptions{AOF: tc.aof})
			info, err := s.Inspect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !info.Known || info.Version == "" {
				t.Fatalf("Inspect = %+v, want a known version", info)
			}
			if got := len(info.Warnings()); got != tc.warnings {
				t.Errorf("warnings = %v, want %d", info.Warnings(), tc.warnings)
			}
		})
	}
}

// TestIndexWidth: the first width asked for is kept; a later one gets the
// kept width back, and a damaged value is an error, not a width.
func TestIndexWidth(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	for _, bits := range []int{10, 17, 10} {
		if got, err := s.IndexWidth(ctx, bits); err != nil || got != 10 {
			t.Fatalf("IndexWidth(%d) = %d, %v; want the first, 10", bits, got, err)
		}
	}
	if err := s.RDB.Set(ctx, s.k.indexWidth(), "wide", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IndexWidth(ctx, 10); err == nil {
		t.Errorf("IndexWidth over a damaged value = %d, want an error", got)
	}
}

func TestEmbeddedAnswersWithoutInfo(t *testing.T) {
	s, err := testOpenEmbedded(Options{Tenant: "demo"}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := s.Inspect(ctx)
	if err != nil {
		t.Fatalf("Inspect on embedded = %v, want no error", err)
	}
	if info.Known {
		t.Errorf("embedded Inspect = %+v, want unknown", info)
	}
	if !s.Embedded() {
		t.Error("Embedded() = false")
	}
}

func TestKeyspaceHashTag(t *testing.T) {
	k := newKeyspace("south")
	if got, want := k.caseExpiry(), "wm:{south}:cases:expiry"; got != want {
		t.Errorf("case expiry key = %q, want %q", got, want)
	}
}

// testStore is every aggregate over one DB, so a test can call whichever
// it needs; the embedded conn gives tests the private helpers.
type testStore struct {
	*kv.Conn
	*conn
	*DB
	*Alerts
	*Cases
	*Staff
	*Outbox
	*Records
	*OnCall
	*Gaps
	*Directory
	*Hub
	*WebPush
	*SMSStatuses
}

// CountUnmet counts through the gaps aggregate (Records does the same).
func (s *testStore) CountUnmet(ctx context.Context, at time.Time, area string, categories []string) error {
	return s.Gaps.CountUnmet(ctx, at, area, categories)
}

// Policies reads through the on-call aggregate; Alerts reads the same sets
// for the intake (alert.Store).
func (s *testStore) Policies(ctx context.Context, team string) (*oncall.PolicySet, error) {
	return s.OnCall.Policies(ctx, team)
}

// newTestSet wraps db for a test.
func newTestSet(db *DB) *testStore {
	return &testStore{Conn: db.Conn, conn: db.conn, DB: db, Alerts: NewAlerts(db), Cases: NewCases(db), Staff: NewStaff(db),
		Outbox: NewOutbox(db), Records: NewRecords(db, nil), OnCall: NewOnCall(db), Gaps: NewGaps(db),
		Directory: NewDirectory(db), Hub: NewHub(db), WebPush: NewWebPush(db), SMSStatuses: NewSMSStatuses(db)}
}

// Alert is Alerts.Alert (Records reads the same).
func (s *testStore) Alert(ctx context.Context, id string) (*alert.Alert, error) {
	return s.Alerts.Alert(ctx, id)
}

// SeenBy is Records.SeenBy (Hub reads the same).
func (s *testStore) SeenBy(ctx context.Context, alertID string) (map[string]time.Time, error) {
	return s.Records.SeenBy(ctx, alertID)
}

// AppendAudit is Cases.AppendAudit, which waits out a loading Redis.
func (s *testStore) AppendAudit(ctx context.Context, e audit.AuditEntry) error {
	return s.Cases.AppendAudit(ctx, e)
}

// swapCrypto changes the keys of every view of the connection at once, as
// a restart with other keys would.
func (s *testStore) swapCrypto(k Crypto) { s.Conn.Crypto = k }

// testOpen is Open for a test that calls every aggregate.
func testOpen(o Options) (*testStore, error) {
	db, err := Open(o)
	if err != nil {
		return nil, err
	}
	return newTestSet(db), nil
}

// testOpenEmbedded is OpenEmbedded for a test that calls every aggregate.
func testOpenEmbedded(o Options, addr string) (*testStore, error) {
	db, err := OpenEmbedded(o, addr)
	if err != nil {
		return nil, err
	}
	return newTestSet(db), nil
}

// WithAuditKeys is the records store of this test store's DB with the
// retired audit keys.
func (s *testStore) WithAuditKeys(retired [][]byte) *Records {
	return NewRecords(s.DB, retired)
}

// scanKeys lists the tenant's keys, sorted.
func (s *testStore) scanKeys(ctx context.Context) ([]string, error) {
	keys, err := s.RDB.Keys(ctx, s.Prefix+"*").Result()
	slices.Sort(keys)
	return keys, err
}
