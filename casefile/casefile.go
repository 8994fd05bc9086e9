// Package casefile delivers closing records to a service's case-management
// system: an HTTPS POST of the record's exact JSON, signed with
// HMAC-SHA256 under a shared secret, with a timestamp against replay. The
// receiver acknowledges with any 2xx; anything else, or no answer in time,
// is a failure the records service retries with backoff.
//
// Signature (docs/decisions.md tells receivers how to check it):
//
//	Waymark-Timestamp: <unix seconds>
//	Waymark-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	Waymark-Record-Id: <alert id>.<revision>   (idempotency key)
package casefile

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Header names.
const (
	HeaderTimestamp = "Waymark-Timestamp"
	HeaderSignature = "Waymark-Signature"
	HeaderRecordID  = "Waymark-Record-Id"
)

// DefaultTimeout bounds one delivery.
const DefaultTimeout = 10 * time.Second

// Client posts closing records to one endpoint. It satisfies alert.Filer.
type Client struct {
	endpoint string
	secret   []byte
	http     *http.Client
	now      func() time.Time
}

// Options configures a Client.
type Options struct {
	// Endpoint is the https URL (http only on loopback) records go to.
	Endpoint string
	// Secret is the HMAC key shared with the receiver.
	Secret []byte
	// Timeout bounds one delivery; default DefaultTimeout.
	Timeout time.Duration
	// Transport replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
	Now       func() time.Time
}

// New checks the endpoint and builds a Client.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" {
		return nil, errors.New("casefile: endpoint must be an absolute URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		return nil, errors.New("casefile: endpoint must be https (http only on loopback)")
	}
	if len(o.Secret) < 16 {
		return nil, errors.New("casefile: secret must be at least 16 bytes")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tr := o.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	return &Client{endpoint: o.Endpoint, secret: o.Secret, now: o.Now, http: &http.Client{
		Timeout:   o.Timeout,
		Transport: tr,
		// A redirect could carry the record somewhere else: refuse.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sign computes the Waymark-Signature value for body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// File posts one record. Errors are fixed wording with no record content:
// they are stored on the alert and shown on the dashboard.
func (c *Client) File(ctx context.Context, recordID string, body []byte) error {
	ts := c.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return errors.New("casefile: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(c.secret, ts, body))
	req.Header.Set(HeaderRecordID, recordID)
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return errors.New("casefile: no answer in time")
		}
		return errors.New("casefile: endpoint unreachable")
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("casefile: endpoint answered %d", resp.StatusCode)
	}
	return nil
}
