package testenv

import (
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
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// PushService is a fake Web Push service (RFC 8030) on a loopback TLS
// server, written from the RFCs independently of Waymark's sender: it
// holds each subscription's private keys as a browser would, verifies the
// VAPID token (RFC 8292) of every push and DECRYPTS its payload (RFC 8291,
// aes128gcm), recording what it found. A push it cannot verify or decrypt
// is refused (401, 403 or 400) and recorded with the reason.
type PushService struct {
	srv *httptest.Server

	mu      sync.Mutex
	subs    map[string]*pushSub // by the endpoint's path token
	msgs    []PushMessage
	arrived chan struct{} // closed and replaced on every push
}

// PushSubscription is a subscription as a browser's PushSubscription.toJSON()
// gives it: the endpoint and the base64url keys.
type PushSubscription struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// PushMessage is one push the fake received.
type PushMessage struct {
	Endpoint string
	// Payload is the decrypted payload, padding removed.
	Payload []byte
	// TTL, Urgency and Topic are the request's headers.
	TTL, Urgency, Topic string
	// VAPID token claims and the key it was signed with (base64url).
	Audience, Subject string
	Expiry            time.Time
	VAPIDKey          string
	// Status is what the fake answered; Problem says why it refused.
	Status  int
	Problem string
}

type pushSub struct {
	endpoint string
	key      *ecdh.PrivateKey
	auth     []byte
	gone     bool
}

// StartPushService starts the fake; it stops at cleanup.
func StartPushService(t testing.TB) *PushService {
	t.Helper()
	p := &PushService{subs: map[string]*pushSub{}, arrived: make(chan struct{})}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// Host is the fake's host name (for the allow-list).
func (p *PushService) Host() string {
	u, _ := url.Parse(p.srv.URL)
	return u.Hostname()
}

// Origin is the fake's origin, the audience a VAPID token must name.
func (p *PushService) Origin() string { return p.srv.URL }

// Client is an HTTP client that trusts the fake's certificate.
func (p *PushService) Client() *http.Client { return p.srv.Client() }

// Subscribe makes a subscription as a browser would: a fresh P-256 key pair
// and 16-byte auth secret, kept here to decrypt what is pushed to it.
func (p *PushService) Subscribe() PushSubscription {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	tok := make([]byte, 18)
	rand.Read(tok)
	path := base64.RawURLEncoding.EncodeToString(tok)
	s := &pushSub{endpoint: p.srv.URL + "/push/" + path, key: key, auth: auth}
	p.mu.Lock()
	p.subs[path] = s
	p.mu.Unlock()
	enc := base64.RawURLEncoding
	return PushSubscription{Endpoint: s.endpoint, P256dh: enc.EncodeToString(key.PublicKey().Bytes()), Auth: enc.EncodeToString(auth)}
}

// Expire makes later pushes to endpoint answer 410 Gone, as when the
// browser unsubscribed or the user cleared site data.
func (p *PushService) Expire(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.subs {
		if s.endpoint == endpoint {
			s.gone = true
		}
	}
}

// Messages returns every push received so far.
func (p *PushService) Messages() []PushMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PushMessage(nil), p.msgs...)
}

// Wait returns once n pushes have arrived, or fails the test after timeout.
func (p *PushService) Wait(t testing.TB, n int, timeout time.Duration) []PushMessage {
	t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		msgs, ch := append([]PushMessage(nil), p.msgs...), p.arrived
		p.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("testenv: %d pushes arrived within %v, want %d", len(msgs), timeout, n)
		}
	}
}

func (p *PushService) record(m PushMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, m)
	close(p.arrived)
	p.arrived = make(chan struct{})
}

func (p *PushService) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/push/")
	if r.Method != http.MethodPost || !ok {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	sub := p.subs[path]
	gone := sub != nil && sub.gone
	p.mu.Unlock()
	m := PushMessage{TTL: r.Header.Get("TTL"), Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic")}
	if sub != nil {
		m.Endpoint = sub.endpoint
	}
	answer := func(status int, problem string) {
		m.Status, m.Problem = status, problem
		p.record(m)
		if status == http.StatusCreated {
			w.Header().Set("Location", "/message/"+path)
		}
		w.WriteHeader(status)
	}
	switch {
	case sub == nil:
		answer(http.StatusNotFound, "no such subscription")
		return
	case gone:
		answer(http.StatusGone, "subscription expired")
		return
	}
	if _, err := strconv.Atoi(m.TTL); err != nil {
		answer(http.StatusBadRequest, "TTL header missing or not a number")
		return
	}
	if err := p.checkVAPID(r.Header.Get("Authorization"), &m); err != nil {
		answer(http.StatusUnauthorized, "vapid: "+err.Error())
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		answer(http.StatusUnsupportedMediaType, "content encoding "+ce)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4097))
	if err != nil || len(body) > 4096 {
		answer(http.StatusRequestEntityTooLarge, "body over 4096 bytes")
		return
	}
	pt, err := decryptPush(sub.key, sub.auth, body)
	if err != nil {
		answer(http.StatusBadRequest, "decrypt: "+err.Error())
		return
	}
	m.Payload = pt
	answer(http.StatusCreated, "")
}

// checkVAPID verifies "vapid t=<JWT>, k=<public key>" (RFC 8292 §3):
// an ES256 JWT signed by k, for this service's origin, expiring within
// 24 hours, with a mailto: or https: subject.
func (p *PushService) checkVAPID(h string, m *PushMessage) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return errors.New("authorization is not the vapid scheme")
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	token, key := params["t"], params["k"]
	enc := base64.RawURLEncoding
	kb, err := enc.DecodeString(key)
	if err != nil {
		return errors.New("k is not base64url")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return errors.New("k is not a P-256 point")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("t is not a JWT")
	}
	var hdr struct{ Typ, Alg string }
	if b, err := enc.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &hdr) != nil || hdr.Alg != "ES256" {
		return errors.New("JWT header is not ES256")
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("signature is not 64 bytes")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return errors.New("signature does not verify")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	b, err := enc.DecodeString(parts[1])
	if err != nil || json.Unmarshal(b, &claims) != nil {
		return errors.New("claims are not JSON")
	}
	m.Audience, m.Subject, m.Expiry, m.VAPIDKey = claims.Aud, claims.Sub, time.Unix(claims.Exp, 0), key
	if claims.Aud != p.srv.URL {
		return fmt.Errorf("aud %q is not this service's origin", claims.Aud)
	}
	if now := time.Now(); m.Expiry.Before(now) || m.Expiry.After(now.Add(24*time.Hour)) {
		return errors.New("exp not within the next 24 hours")
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https://") {
		return errors.New("sub is neither a mailto nor an https URL")
	}
	return nil
}

// decryptPush undoes RFC 8291's aes128gcm encryption with the user
// agent's private key and auth secret (one record, RFC 8188).
func decryptPush(ua *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen+17 {
		return nil, errors.New("key id is not a 65-byte P-256 point")
	}
	asPub := body[21 : 21+idlen]
	ct := body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, errors.New("more than one record")
	}
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, errors.New("key id is not on P-256")
	}
	shared, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	info := append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...)
	info = append(info, asPub...)
	// PRK_key = HMAC(auth, ecdh); IKM = HMAC(PRK_key, key_info || 1).
	ikm, err := hkdf.Key(sha256.New, shared, auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
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
	pt, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, errors.New("authentication failed")
	}
	// Strip the zero padding; the delimiter of the last record is 0x02.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 || pt[i] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return pt[:i], nil
}
