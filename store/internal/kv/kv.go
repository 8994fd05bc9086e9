// Package kv is what every part of package store shares: the Redis
// client, the tenant's key prefix, the clock, the keys that seal and tag,
// and the rules every call follows (a bounded deadline, errors wrapped
// into ErrUnavailable). Package store opens the connection; its
// aggregates, here and in the packages beside this one, are small types
// over one Conn.
package kv

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/problem"
	"waymark/seal"
)

// ErrUnavailable reports that Redis did not answer in time. The HTTP layer
// turns it into 503: Waymark never answers 2xx for something it could not store.
var ErrUnavailable = fmt.Errorf("store: redis: %w", problem.ErrUnavailable)

// ErrLoading is ErrUnavailable while Redis loads its data at start-up
// (it answers LOADING): worth waiting out where nothing may be lost.
var ErrLoading = fmt.Errorf("loading its data: %w", ErrUnavailable)

// OpTimeout bounds every Redis call: intake gives up after about two
// seconds and answers 503 rather than hang (DESIGN.md, "Redis slow or
// down").
const OpTimeout = 2 * time.Second

// MaxBlock caps one blocking stream read: no reader waits unboundedly.
const MaxBlock = 10 * time.Second

// Crypto is what the store seals, indexes and tags with. Keys come from
// configuration and never reach Redis.
type Crypto struct {
	Keyring *seal.Keyring
	Index   *seal.Index
	// TagKey makes letter-only tags of secrets and identifiers that must
	// not appear in key names (token hashes, username and address tags).
	TagKey []byte
	// AuditKey is k_audit (WAYMARK_AUDIT_KEY), which keys the audit hash
	// chain; empty derives one from TagKey.
	AuditKey []byte
}

// Conn is the shared connection: the client and everything each call
// needs beside it. It is safe for concurrent use.
type Conn struct {
	RDB redis.UniversalClient
	// Prefix starts every key of the tenant: wm:{tenant}:
	Prefix string
	// Now is the clock every stored timestamp comes from.
	Now    func() time.Time
	Log    *slog.Logger
	Crypto Crypto
	// OnError, if set, is called once for every Redis error met.
	OnError func()
}

// Bounded gives an operation the store's overall deadline unless the
// caller set a sooner one: with retries, a hung Redis must still cost at
// most about two seconds before the caller can answer 503.
func Bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= OpTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, OpTimeout)
}

// Wrap turns transport failures into ErrUnavailable and names the
// operation. Redis error text never carries values we sent, only command
// names.
func (c *Conn) Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if c.OnError != nil {
		c.OnError()
	}
	if strings.HasPrefix(err.Error(), "LOADING") {
		return fmt.Errorf("store: %s: %w (%v)", op, ErrLoading, err)
	}
	if IsUnavailable(err) {
		return fmt.Errorf("store: %s: %w (%v)", op, ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// IsUnavailable reports whether err means Redis could not be reached or
// could not take the call now (as opposed to refusing it).
func IsUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.HasSuffix(msg, "EOF") ||
		strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "MASTERDOWN") ||
		strings.HasPrefix(msg, "CLUSTERDOWN") || strings.HasPrefix(msg, "READONLY") ||
		strings.HasPrefix(msg, "TRYAGAIN") || strings.HasPrefix(msg, "NOREPLICAS")
}

// SealKEK seals a record that belongs to no case (a staff phone, a TOTP
// secret) under the active key-encryption key, bound to its key and field.
func (c *Conn) SealKEK(key, field string, plaintext []byte) ([]byte, error) {
	ct, err := c.Crypto.Keyring.Seal(plaintext, seal.AD{Key: key, Field: field})
	if err != nil {
		return nil, fmt.Errorf("store: seal %s field %s: %w", key, field, err)
	}
	return ct, nil
}

// OpenKEK opens what SealKEK sealed.
func (c *Conn) OpenKEK(key, field string, ct []byte) ([]byte, error) {
	pt, err := c.Crypto.Keyring.Open(ct, seal.AD{Key: key, Field: field})
	if err != nil {
		return nil, fmt.Errorf("store: open %s field %s: %w", key, field, err)
	}
	return pt, nil
}

// Tag is a letter-only HMAC-SHA256 (128 bits) of a secret or identifier,
// for use in key names and lookups: a session token, a device token, an
// enrolment code, a username, an IP address. Tags of tokens that are 128+
// random bits would be safe unkeyed; the key also hides low-entropy inputs.
func (c *Conn) Tag(kind, value string) string {
	m := hmac.New(sha256.New, c.Crypto.TagKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	sum := m.Sum(nil)[:16]
	out := make([]byte, 32)
	for i, b := range sum {
		out[2*i] = 'a' + b>>4
		out[2*i+1] = 'a' + b&0x0f
	}
	return string(out)
}

// CleanupSlack is added to every Redis TTL that only cleans up after an
// expiry decided against stored timestamps, so the TTL never decides.
const CleanupSlack = time.Minute

// TTLUntil is the cleanup TTL for something that expires at t by the
// store's clock.
func (c *Conn) TTLUntil(t time.Time) time.Duration {
	return max(t.Sub(c.Now()), 0) + CleanupSlack
}

// MS is t as unix milliseconds, "" for the zero time.
func MS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// FromMS reads what MS wrote; the zero time for "" or garbage.
func FromMS(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// Flag is a stored boolean: "1" or "0".
func Flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
