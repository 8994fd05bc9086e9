package push

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/problem"
)

// Web Push (RFC 8030 delivery, RFC 8291 message encryption, RFC 8292
// VAPID) reaches responders who are away from the dashboard: the browser's
// push service wakes their service worker, which shows "New alert" and
// nothing else. The payload is data only ({"t":"alert"}): the push service,
// the phone's lock screen and anyone looking over a shoulder learn nothing
// about the survivor, and the responder opens the dashboard to see more.

// AlertPayload is what an escalation sends: data only, no readable text.
// Send it as []byte(push.AlertPayload).
const AlertPayload = `{"t":"alert"}`

// DefaultPushHosts are the push services of the major browsers: Chrome and
// Edge on Android (FCM), Firefox (Mozilla autopush), Safari (Apple) and
// Edge on Windows (WNS). A subscription for any other host is refused.
func DefaultPushHosts() []string {
	return []string{
		"fcm.googleapis.com",
		"updates.push.services.mozilla.com",
		"web.push.apple.com",
		"*.notify.windows.com",
	}
}

// Web Push errors. ErrGone means the subscription no longer exists (the
// push service answered 404 or 410): drop it.
var (
	ErrGone              = errors.New("push: web push subscription gone")
	ErrEndpointForbidden = fmt.Errorf("push: web push endpoint not on the allow-list: %w", problem.ErrForbidden)
	ErrBadSubscription   = errors.New("push: malformed web push subscription")
	ErrPayloadTooLarge   = fmt.Errorf("push: web push payload: %w", problem.ErrTooLarge)
)

// Subscription is a browser's push subscription (PushSubscription.toJSON()
// on the dashboard), decoded.
type Subscription struct {
	// ID is the caller's handle for the subscription (the store's); Send
	// does not use it.
	ID string
	// Endpoint is the push service URL for this browser: a capability,
	// never logged.
	Endpoint string
	// P256dh is the browser's ECDH public key, an uncompressed P-256 point.
	P256dh []byte
	// Auth is the browser's 16-byte authentication secret.
	Auth []byte
}

// SendError is a push service's refusal other than 404/410.
type SendError struct {
	Status int
	// RetryAfter is the service's Retry-After, if it sent one (429, 503).
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	return "push: web push service answered " + strconv.Itoa(e.Status)
}

// WebPushOptions configure NewWebPush.
type WebPushOptions struct {
	// PublicKey and PrivateKey are the VAPID key pair, base64url: the
	// uncompressed P-256 point (65 bytes) and the private scalar (32 bytes).
	PublicKey  string
	PrivateKey string
	// Subject is the VAPID contact: a mailto: or https: URL the push
	// service can reach the operator at.
	Subject string
	// AllowedHosts are the push service host names subscriptions may point
	// at: exact names, or "*.example.com" for any name under it. Empty
	// means DefaultPushHosts().
	AllowedHosts []string
	// Client sends the requests; nil means a client with a 10 s timeout.
	// Redirects are never followed.
	Client *http.Client
	// TTL is how long the push service keeps an undelivered message; an
	// alert is stale after it. Default 1 h.
	TTL time.Duration
	// Now is the clock for VAPID token expiry; nil means time.Now.
	Now      func() time.Time
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// WebPush sends encrypted, VAPID-signed Web Push messages to allow-listed
// push services. It is safe for concurrent use.
type WebPush struct {
	key     *ecdsa.PrivateKey
	pub     []byte
	pubB64  string
	subject string
	hosts   []string
	client  *http.Client
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger
	sent    *prometheus.CounterVec
}

// Limits of a push message: push services accept at least 4096 bytes of
// body (RFC 8030 §7.2); with aes128gcm's 86-byte header, the padding
// delimiter and the 16-byte tag that leaves 3993 bytes of payload.
const (
	maxPushBody   = 4096
	pushHeader    = 16 + 4 + 1 + 65
	maxPayload    = maxPushBody - pushHeader - 1 - 16
	recordSize    = 4096
	padTo         = 128 // every payload is padded to at least this: sizes tell nothing
	vapidLife     = 12 * time.Hour
	maxEndpoint   = 2048
	maxResponse   = 4 << 10
	defaultTTL    = time.Hour
	clientTimeout = 10 * time.Second
)

// NewWebPush checks the VAPID keys (the public key must be the private
// key's) and the subject, and returns a sender.
func NewWebPush(o WebPushOptions) (*WebPush, error) {
	d, err := decodeB64(o.PrivateKey)
	if err != nil || len(d) != 32 {
		return nil, errors.New("push: VAPID private key must be 32 bytes, base64url")
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, errors.New("push: VAPID private key is not a P-256 scalar")
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("push: VAPID public key: %w", err)
	}
	if given, err := decodeB64(o.PublicKey); err != nil || !bytes.Equal(given, pub) {
		return nil, errors.New("push: VAPID public key does not match the private key")
	}
	if err := checkSubject(o.Subject); err != nil {
		return nil, err
	}
	hosts := slices.Clone(o.AllowedHosts)
	if len(hosts) == 0 {
		hosts = DefaultPushHosts()
	}
	for _, h := range hosts {
		if err := checkHostPattern(h); err != nil {
			return nil, err
		}
	}
	w := &WebPush{
		key: key, pub: pub, pubB64: base64.RawURLEncoding.EncodeToString(pub), subject: o.Subject,
		hosts: hosts, client: o.Client, ttl: o.TTL, now: o.Now, log: o.Logger,
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: clientTimeout}
	}
	// A push service has no business redirecting; following one would let
	// an allow-listed host send us anywhere.
	c := *w.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = &c
	if w.ttl <= 0 {
		w.ttl = defaultTTL
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waymark_webpush_sent_total",
		Help: "Web Push messages by outcome (ok, gone, refused, failed).",
	}, []string{"outcome"})
	if o.Registry != nil {
		if err := o.Registry.Register(w.sent); err != nil {
			return nil, fmt.Errorf("push: register web push metrics: %w", err)
		}
	}
	return w, nil
}

// NewVAPIDKeys makes a fresh VAPID key pair, base64url (public: the
// uncompressed point; private: the scalar), for `waymark keys new`.
func NewVAPIDKeys() (public, private string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("push: VAPID key: %w", err)
	}
	pub, err := k.PublicKey.Bytes()
	if err != nil {
		return "", "", fmt.Errorf("push: VAPID key: %w", err)
	}
	d, err := k.Bytes()
	if err != nil {
		return "", "", fmt.Errorf("push: VAPID key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(pub), base64.RawURLEncoding.EncodeToString(d), nil
}

// PublicKey is the VAPID public key, base64url: the dashboard passes it
// to pushManager.subscribe as applicationServerKey.
func (w *WebPush) PublicKey() string { return w.pubB64 }

// ParseSubscription checks a subscription as the browser sends it
// (endpoint and the base64url keys p256dh and auth) against the shape
// RFC 8291 requires and the allow-list, and decodes it.
func (w *WebPush) ParseSubscription(endpoint, p256dh, auth string) (Subscription, error) {
	if err := w.CheckEndpoint(endpoint); err != nil {
		return Subscription{}, err
	}
	pk, err := decodeB64(p256dh)
	if err != nil || len(pk) != 65 {
		return Subscription{}, fmt.Errorf("%w: p256dh must be an uncompressed P-256 point", ErrBadSubscription)
	}
	if _, err := ecdh.P256().NewPublicKey(pk); err != nil {
		return Subscription{}, fmt.Errorf("%w: p256dh is not on P-256", ErrBadSubscription)
	}
	as, err := decodeB64(auth)
	if err != nil || len(as) != 16 {
		return Subscription{}, fmt.Errorf("%w: auth must be 16 bytes", ErrBadSubscription)
	}
	return Subscription{Endpoint: endpoint, P256dh: pk, Auth: as}, nil
}

// CheckEndpoint refuses an endpoint that is not an https URL on an
// allow-listed host: a subscription must not turn Waymark into a client
// for arbitrary URLs. Errors never quote the endpoint.
func (w *WebPush) CheckEndpoint(endpoint string) error {
	if len(endpoint) > maxEndpoint {
		return fmt.Errorf("%w: endpoint too long", ErrBadSubscription)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%w: endpoint must be an https URL", ErrBadSubscription)
	}
	if !hostAllowed(strings.ToLower(u.Hostname()), w.hosts) {
		return ErrEndpointForbidden
	}
	return nil
}

// hostAllowed matches host against exact names and "*.suffix" patterns.
func hostAllowed(host string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.ToLower(p)
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) && len(host) > len(suffix)+1 {
				return true
			}
			continue
		}
		if host == p {
			return true
		}
	}
	return false
}

// checkHostPattern accepts a host name, an IP address, or "*." and a host
// name.
func checkHostPattern(p string) error {
	name := strings.TrimPrefix(p, "*.")
	if net.ParseIP(name) != nil && name == p {
		return nil
	}
	if name == "" || len(name) > 253 || strings.ContainsAny(name, "*/:@ ") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("push: web push allowed host %q is not a host name or *.host name", p)
	}
	return nil
}

func checkSubject(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
	case u.Scheme == "mailto" && strings.Contains(u.Opaque, "@"):
		return nil
	case u.Scheme == "https" && u.Host != "":
		return nil
	}
	return errors.New("push: VAPID subject must be a mailto: address or an https: URL")
}

// Send encrypts payload for sub (RFC 8291, aes128gcm) and posts it to the
// subscription's push service with a VAPID token (RFC 8292), urgency high.
// It returns ErrGone when the service says the subscription no longer
// exists (404, 410): the caller drops it. Errors never carry the endpoint.
func (w *WebPush) Send(ctx context.Context, sub Subscription, payload []byte) error {
	if len(payload) > maxPayload {
		return ErrPayloadTooLarge
	}
	if err := w.CheckEndpoint(sub.Endpoint); err != nil {
		w.sent.WithLabelValues("refused").Inc()
		return err
	}
	u, _ := url.Parse(sub.Endpoint)
	body, err := encrypt(sub, payload)
	if err != nil {
		w.sent.WithLabelValues("refused").Inc()
		return err
	}
	token, err := w.vapidToken(u.Scheme + "://" + u.Host)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: endpoint", ErrBadSubscription)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("TTL", strconv.Itoa(int(w.ttl/time.Second)))
	req.Header.Set("Urgency", "high")
	// One topic: a phone that was offline gets one "New alert", not a pile.
	req.Header.Set("Topic", "alert")
	req.Header.Set("Authorization", "vapid t="+token+", k="+w.pubB64)
	resp, err := w.client.Do(req)
	if err != nil {
		w.sent.WithLabelValues("failed").Inc()
		// url.Error quotes the URL, a capability: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("push: web push to %s: %w", u.Hostname(), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		w.sent.WithLabelValues("ok").Inc()
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		w.sent.WithLabelValues("gone").Inc()
		return ErrGone
	}
	w.sent.WithLabelValues("failed").Inc()
	e := &SendError{Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// SubscriptionStore is where Notify finds a responder's subscriptions and
// drops the ones that are gone.
type SubscriptionStore interface {
	WebPushSubscriptions(ctx context.Context, staffID string) ([]Subscription, error)
	DropWebPushSubscription(ctx context.Context, staffID, id string) error
}

// Notify sends payload to every subscription of a responder, drops those
// the push service says are gone, and returns how many were sent. It fails
// only if none could be sent for a reason other than being gone, so an
// escalation can fall back to another channel.
func (w *WebPush) Notify(ctx context.Context, subs SubscriptionStore, staffID string, payload []byte) (int, error) {
	list, err := subs.WebPushSubscriptions(ctx, staffID)
	if err != nil {
		return 0, err
	}
	sent := 0
	var firstErr error
	for _, sub := range list {
		err := w.Send(ctx, sub, payload)
		switch {
		case err == nil:
			sent++
		case errors.Is(err, ErrGone), errors.Is(err, ErrEndpointForbidden):
			// Gone, or a host since removed from the allow-list.
			if err := subs.DropWebPushSubscription(ctx, staffID, sub.ID); err != nil && firstErr == nil {
				firstErr = err
			}
			w.log.Info("web push subscription dropped", "staff", staffID, "subscription", sub.ID, "reason", err)
		default:
			w.log.Warn("web push failed", "staff", staffID, "subscription", sub.ID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if sent > 0 {
		return sent, nil
	}
	return 0, firstErr
}

// encrypt is RFC 8291 with the aes128gcm content coding of RFC 8188: a
// fresh ECDH key pair and salt per message, one record.
func encrypt(sub Subscription, payload []byte) ([]byte, error) {
	ua, err := ecdh.P256().NewPublicKey(sub.P256dh)
	if err != nil || len(sub.Auth) != 16 {
		return nil, ErrBadSubscription
	}
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("push: web push key: %w", err)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	return sealRecord(as, ua, sub.Auth, salt, payload, padTo)
}

// sealRecord is the deterministic part of encrypt, given the sender's
// key and salt (RFC 8291 §3.3–3.4, RFC 8188 §2); the plaintext is padded
// with zeros to at least pad bytes.
func sealRecord(as *ecdh.PrivateKey, ua *ecdh.PublicKey, authSecret, salt, payload []byte, pad int) ([]byte, error) {
	shared, err := as.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("push: web push ECDH: %w", err)
	}
	asPub := as.PublicKey().Bytes()
	info := append([]byte("WebPush: info\x00"), ua.Bytes()...)
	info = append(info, asPub...)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, string(info), 32)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The last (only) record: payload, delimiter 0x02, zero padding.
	plain := make([]byte, max(len(payload)+1, pad))
	copy(plain, payload)
	plain[len(payload)] = 2
	out := make([]byte, 0, pushHeader+len(plain)+gcm.Overhead())
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, recordSize)
	out = append(out, byte(len(asPub)))
	out = append(out, asPub...)
	return gcm.Seal(out, nonce, plain, nil), nil
}

// vapidToken is the RFC 8292 JWT for aud (the push service's origin),
// ES256 signed: header and claims base64url, then r||s.
func (w *WebPush) vapidToken(aud string) (string, error) {
	claims, err := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{aud, w.now().Add(vapidLife).Unix(), w.subject})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`)) + "." + enc.EncodeToString(claims)
	h := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, w.key, h[:])
	if err != nil {
		return "", fmt.Errorf("push: VAPID sign: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}

// decodeB64 accepts base64url with or without padding (browsers send it
// without; some libraries pad) and, leniently, standard base64.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}
