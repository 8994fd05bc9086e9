// Package store keeps Waymark's state in Redis. It and the packages under
// it are the only ones that import go-redis: every key name is built in a
// keys.go (this package's, internal/kv's for keys several packages share,
// and those of the packages under store/internal), every multi-key step is
// one atomic script or transaction, and personal data is sealed on the way
// in and opened on the way out.
//
// Open returns a DB; each consumer gets a small type over it (Alerts,
// Cases, Staff, Outbox, Records, …) that satisfies the interface the
// consumer declares.
//
// All keys of a tenant share the hash tag {tenant}, so a Redis Cluster keeps
// a tenant's keys in one slot and every script may touch any of them.
package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"waymark/seal"
	"waymark/store/internal/kv"
)

// ErrUnavailable reports that Redis did not answer in time. The HTTP layer
// turns it into 503: Waymark never answers 2xx for something it could not store.
var ErrUnavailable = kv.ErrUnavailable

// Timeouts bound every Redis call: intake gives up after about two seconds
// and answers 503 rather than hang (DESIGN.md, "Redis slow or down").
const (
	dialTimeout  = time.Second
	ioTimeout    = 1500 * time.Millisecond
	poolTimeout  = 2 * time.Second
	maxRetries   = 2
	minRetryWait = 8 * time.Millisecond
	maxRetryWait = 256 * time.Millisecond
)

// Options says which Redis to use and how.
type Options struct {
	// Tenant scopes every key: wm:{tenant}:…
	Tenant string
	// Exactly one of URL, Sentinel (master and addresses) or Cluster
	// addresses; none means the caller wants OpenEmbedded.
	URL            string
	SentinelMaster string
	SentinelAddrs  []string
	ClusterAddrs   []string
	Username       string
	Password       string
	// TLS for Sentinel and Cluster (a rediss:// URL carries its own);
	// TLSCAFile adds a CA to trust.
	TLS       bool
	TLSCAFile string
	// Now is the clock every stored timestamp comes from.
	Now    func() time.Time
	Logger *slog.Logger
	// OnError, if set, is called once for every Redis error the store
	// meets (the operator's waymark_redis_errors_total).
	OnError func()
	// Crypto holds the keys the store seals, indexes and tags with.
	Crypto Crypto
}

// DB is the shared connection to Waymark's Redis: the client, the
// keyspace, the keys and the clock. The aggregates (Alerts, Cases, Staff,
// Outbox, …) are small types over one DB, each satisfying the interface
// its consumer declares. It is safe for concurrent use.
type DB struct{ *conn }

// conn is what every aggregate here shares: the connection, this
// package's keyspace and the embedded server, if any. Its methods are the
// store's private helpers; embedding it gives each aggregate those and
// nothing exported.
type conn struct {
	*kv.Conn
	k        keyspace
	embedded *miniredis.Miniredis
}

// Open connects to the configured Redis (single, Sentinel or Cluster). It
// does not wait for Redis to answer: readiness reports that, and Waymark
// starts even while Redis is briefly away.
func Open(o Options) (*DB, error) {
	if o.URL == "" && o.SentinelMaster == "" && len(o.ClusterAddrs) == 0 {
		return nil, errors.New("store: no Redis configured (use OpenEmbedded for the in-memory server)")
	}
	var tlsConf *tls.Config
	if o.TLS || o.TLSCAFile != "" {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
		if o.TLSCAFile != "" {
			pem, err := os.ReadFile(o.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("store: read TLS CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("store: TLS CA file holds no PEM certificate")
			}
			tlsConf.RootCAs = pool
		}
	}
	var rdb redis.UniversalClient
	if o.URL != "" {
		ro, err := redis.ParseURL(o.URL)
		if err != nil {
			// The URL may hold a password: do not echo it.
			return nil, errors.New("store: WAYMARK_REDIS_URL is not a valid redis://, rediss:// or unix:// URL")
		}
		if o.Username != "" {
			ro.Username = o.Username
		}
		if o.Password != "" {
			ro.Password = o.Password
		}
		if tlsConf != nil && ro.TLSConfig == nil && ro.Network != "unix" {
			ro.TLSConfig = tlsConf
		}
		applyTimeouts(&ro.DialTimeout, &ro.ReadTimeout, &ro.WriteTimeout, &ro.PoolTimeout)
		ro.MaxRetries, ro.MinRetryBackoff, ro.MaxRetryBackoff = maxRetries, minRetryWait, maxRetryWait
		ro.ContextTimeoutEnabled = true
		rdb = redis.NewClient(ro)
	} else {
		uo := &redis.UniversalOptions{
			MasterName:            o.SentinelMaster,
			Username:              o.Username,
			Password:              o.Password,
			TLSConfig:             tlsConf,
			MaxRetries:            maxRetries,
			MinRetryBackoff:       minRetryWait,
			MaxRetryBackoff:       maxRetryWait,
			ContextTimeoutEnabled: true,
		}
		applyTimeouts(&uo.DialTimeout, &uo.ReadTimeout, &uo.WriteTimeout, &uo.PoolTimeout)
		if o.SentinelMaster != "" {
			uo.Addrs = o.SentinelAddrs
			rdb = redis.NewFailoverClient(uo.Failover())
		} else {
			uo.Addrs = o.ClusterAddrs
			rdb = redis.NewClusterClient(uo.Cluster())
		}
	}
	return newStore(rdb, o), nil
}

func applyTimeouts(dial, read, write, pool *time.Duration) {
	*dial, *read, *write, *pool = dialTimeout, ioTimeout, ioTimeout, poolTimeout
}

// OpenEmbedded starts an in-process Redis-compatible server (miniredis) on
// addr (a loopback address such as 127.0.0.1:0) and connects to it. Nothing
// it holds survives the process. Its key TTLs run on the wall clock.
func OpenEmbedded(o Options, addr string) (*DB, error) {
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("store: start embedded redis: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:                  m.Addr(),
		DialTimeout:           dialTimeout,
		ReadTimeout:           ioTimeout,
		WriteTimeout:          ioTimeout,
		PoolTimeout:           poolTimeout,
		MaxRetries:            maxRetries,
		ContextTimeoutEnabled: true,
	})
	s := newStore(rdb, o)
	s.embedded = m
	return s, nil
}

func newStore(rdb redis.UniversalClient, o Options) *DB {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := newKeyspace(o.Tenant)
	return &DB{&conn{Conn: &kv.Conn{RDB: rdb, Prefix: k.p, Now: now, Log: log, Crypto: o.Crypto, OnError: o.OnError}, k: k}}
}

// EmbeddedAddr is the loopback address of the in-process server, or "".
func (s *DB) EmbeddedAddr() string {
	if s.embedded == nil {
		return ""
	}
	return s.embedded.Addr()
}

// Close closes the client and stops the embedded server, if any.
func (s *DB) Close() error {
	err := s.RDB.Close()
	if s.embedded != nil {
		s.embedded.Close()
	}
	return err
}

// Ping checks that Redis answers within the context's deadline.
func (s *DB) Ping(ctx context.Context) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if err := s.RDB.Ping(ctx).Err(); err != nil {
		return s.Wrap("ping", err)
	}
	return nil
}

// IndexWidth keeps bits as the phone blind index's width when Redis holds
// none yet, and returns the width Redis holds: the one every enrolled
// phone's bucket was made with. A lookup at another width finds none of
// them.
func (s *DB) IndexWidth(ctx context.Context, bits int) (int, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.indexWidth()
	if err := s.RDB.SetNX(ctx, key, bits, 0).Err(); err != nil {
		return 0, s.Wrap("index width", err)
	}
	v, err := s.RDB.Get(ctx, key).Result()
	if err != nil {
		return 0, s.Wrap("index width", err)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < seal.MinIndexBits || n > seal.MaxIndexBits {
		return 0, fmt.Errorf("store: %s does not hold an index width", key)
	}
	return n, nil
}

// SetDriverLogger routes go-redis's own diagnostics (dial failures and the
// like, which carry addresses but no data) to log. go-redis keeps that
// logger in a package variable, so call this once, from main.
func SetDriverLogger(log *slog.Logger) {
	redis.SetLogger(driverLogger{log})
}

type driverLogger struct{ log *slog.Logger }

func (d driverLogger) Printf(ctx context.Context, format string, v ...any) {
	d.log.Warn("redis driver", "detail", fmt.Sprintf(format, v...))
}

// ServerInfo is what start-up learns about a real Redis.
type ServerInfo struct {
	// Known is false when the server answers no INFO or CONFIG (the
	// embedded server, or a proxy that hides them).
	Known       bool
	Version     string
	AppendOnly  bool
	AppendFsync string
	// UsedMemory is INFO memory's used_memory, in bytes.
	UsedMemory int64
}

// Warnings lists what an operator should fix for alerts to survive a crash.
func (i ServerInfo) Warnings() []string {
	if !i.Known {
		return nil
	}
	var w []string
	if !i.AppendOnly {
		w = append(w, "redis appendonly is off: acknowledged alerts can be lost in a crash; set appendonly yes")
	}
	if i.AppendOnly && i.AppendFsync != "always" {
		w = append(w, "redis appendfsync is "+i.AppendFsync+", not always: up to a second of acknowledged alerts can be lost in a crash")
	}
	return w
}

// Inspect asks the server for its version and persistence settings. A
// server that refuses INFO or CONFIG is reported as unknown, not as an error.
func (s *DB) Inspect(ctx context.Context) (ServerInfo, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	txt, err := s.RDB.Info(ctx, "server", "persistence", "memory").Result()
	if err != nil {
		if kv.IsUnavailable(err) {
			return ServerInfo{}, s.Wrap("inspect", err)
		}
		return ServerInfo{}, nil
	}
	info := ServerInfo{Known: true}
	for line := range strings.SplitSeq(txt, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "redis_version":
			info.Version = v
		case "aof_enabled":
			info.AppendOnly = v == "1"
		case "used_memory":
			info.UsedMemory, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if res, err := s.RDB.ConfigGet(ctx, "appendfsync").Result(); err == nil {
		info.AppendFsync = res["appendfsync"]
	} else {
		info.AppendFsync = "unknown"
	}
	return info, nil
}
