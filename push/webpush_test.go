package push

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/internal/testenv"
	"waymark/problem"
)

// newTestWebPush is a sender whose allow-list holds the fake push service.
func newTestWebPush(t *testing.T, fake *testenv.PushService, now func() time.Time) *WebPush {
	t.Helper()
	pub, priv, err := NewVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWebPush(WebPushOptions{
		PublicKey: pub, PrivateKey: priv, Subject: "mailto:duty-manager@example.org",
		AllowedHosts: append([]string{fake.Host()}, DefaultPushHosts()...),
		Client:       fake.Client(), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func parse(t *testing.T, w *WebPush, s testenv.PushSubscription) Subscription {
	t.Helper()
	sub, err := w.ParseSubscription(s.Endpoint, s.P256dh, s.Auth)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestWebPushRoundTrip: the fake push service verifies the VAPID token and
// decrypts the payload with the subscription's private key; what it reads
// is the data-only payload, sent with high urgency, a TTL and one topic.
func TestWebPushRoundTrip(t *testing.T) {
	fake := testenv.StartPushService(t)
	now := time.Now()
	w := newTestWebPush(t, fake, func() time.Time { return now })
	sub := parse(t, w, fake.Subscribe())
	if err := w.Send(context.Background(), sub, []byte(AlertPayload)); err != nil {
		t.Fatal(err)
	}
	got := fake.Wait(t, 1, 5*time.Second)[0]
	want := testenv.PushMessage{
		Endpoint: sub.Endpoint, Payload: []byte(`{"t":"alert"}`), TTL: "3600", Urgency: "high", Topic: "alert",
		Audience: fake.Origin(), Subject: "mailto:duty-manager@example.org",
		Expiry: time.Unix(now.Add(12*time.Hour).Unix(), 0), VAPIDKey: w.PublicKey(), Status: http.StatusCreated,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("push as the service saw it (-want +got):\n%s", diff)
	}
}

// TestWebPushRFC8291Example: the encryption matches RFC 8291 Appendix A
// byte for byte (no padding there beyond the delimiter).
func TestWebPushRFC8291Example(t *testing.T) {
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	as, err := ecdh.P256().NewPrivateKey(dec("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	ua, err := ecdh.P256().NewPublicKey(dec("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := sealRecord(as, ua, dec("BTBZMqHH6r4Tts7J_aSIgg"), dec("DGv6ra1nlYgDCS1FRnbzlw"),
		[]byte("When I grow up, I want to be a watermelon"), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	if g := base64.RawURLEncoding.EncodeToString(got); g != want {
		t.Errorf("aes128gcm body\n got %s\nwant %s", g, want)
	}
}

// TestWebPushPadsPayloads: short payloads of different lengths encrypt to
// bodies of one size, so the size on the wire says nothing.
func TestWebPushPadsPayloads(t *testing.T) {
	fake := testenv.StartPushService(t)
	w := newTestWebPush(t, fake, nil)
	sub := parse(t, w, fake.Subscribe())
	var sizes []int
	for _, p := range []string{`{"t":"alert"}`, `{"t":"alert","n":12}`, `{}`} {
		b, err := encrypt(sub, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(b))
	}
	if sizes[0] != sizes[1] || sizes[1] != sizes[2] {
		t.Errorf("body sizes %v, want one size", sizes)
	}
	if err := w.Send(context.Background(), sub, bytes.Repeat([]byte("x"), maxPayload+1)); !errors.Is(err, problem.ErrTooLarge) {
		t.Errorf("oversized payload: %v, want ErrTooLarge", err)
	}
	// The largest payload still fits a push service's 4096 bytes.
	if err := w.Send(context.Background(), sub, bytes.Repeat([]byte("x"), maxPayload)); err != nil {
		t.Fatal(err)
	}
	if m := fake.Wait(t, 1, 5*time.Second)[0]; m.Status != http.StatusCreated || len(m.Payload) != maxPayload {
		t.Errorf("largest payload: status %d (%s), %d bytes", m.Status, m.Problem, len(m.Payload))
	}
}

func TestWebPushSubscriptionChecks(t *testing.T) {
	fake := testenv.StartPushService(t)
	w := newTestWebPush(t, fake, nil)
	good := fake.Subscribe()
	path := good.Endpoint[strings.Index(good.Endpoint, "/push/"):]
	notOnCurve := base64.RawURLEncoding.EncodeToString(append([]byte{4}, bytes.Repeat([]byte{1}, 64)...))
	for _, tc := range []struct {
		name, endpoint, p256dh, auth string
		want                         error
	}{
		{"the fake", good.Endpoint, good.P256dh, good.Auth, nil},
		{"padded base64", good.Endpoint, good.P256dh + "=", good.Auth + "==", nil},
		{"FCM", "https://fcm.googleapis.com/fcm/send/abc:def", good.P256dh, good.Auth, nil},
		{"Mozilla", "https://updates.push.services.mozilla.com/wpush/v2/gAAAA", good.P256dh, good.Auth, nil},
		{"Apple", "https://web.push.apple.com/QGuQyavXutnMH", good.P256dh, good.Auth, nil},
		{"WNS wildcard", "https://wns2-par02p.notify.windows.com/w/?token=x", good.P256dh, good.Auth, nil},
		{"WNS apex is not under the wildcard", "https://notify.windows.com/w/", good.P256dh, good.Auth, ErrEndpointForbidden},
		{"look-alike suffix", "https://evilnotify.windows.com/w/", good.P256dh, good.Auth, ErrEndpointForbidden},
		{"other host", "https://push.example.net" + path, good.P256dh, good.Auth, ErrEndpointForbidden},
		{"allowed host as a subdomain of another", "https://fcm.googleapis.com.example.net/x", good.P256dh, good.Auth, ErrEndpointForbidden},
		{"plain http", strings.Replace(good.Endpoint, "https:", "http:", 1), good.P256dh, good.Auth, ErrBadSubscription},
		{"user info", "https://user@fcm.googleapis.com/fcm/send/x", good.P256dh, good.Auth, ErrBadSubscription},
		{"not a URL", "::", good.P256dh, good.Auth, ErrBadSubscription},
		{"too long", "https://fcm.googleapis.com/" + strings.Repeat("a", maxEndpoint), good.P256dh, good.Auth, ErrBadSubscription},
		{"short key", good.Endpoint, good.Auth, good.Auth, ErrBadSubscription},
		{"key off the curve", good.Endpoint, notOnCurve, good.Auth, ErrBadSubscription},
		{"short auth", good.Endpoint, good.P256dh, "AAAA", ErrBadSubscription},
		{"auth not base64", good.Endpoint, good.P256dh, "!!!!", ErrBadSubscription},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.ParseSubscription(tc.endpoint, tc.p256dh, tc.auth)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("ParseSubscription = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "/push/") {
				t.Errorf("error quotes the endpoint: %v", err)
			}
		})
	}
}

func TestNewWebPushRefusesBadConfig(t *testing.T) {
	pub, priv, _ := NewVAPIDKeys()
	otherPub, _, _ := NewVAPIDKeys()
	for _, tc := range []struct {
		name string
		o    WebPushOptions
	}{
		{"keys of two pairs", WebPushOptions{PublicKey: otherPub, PrivateKey: priv, Subject: "mailto:a@example.org"}},
		{"private key short", WebPushOptions{PublicKey: pub, PrivateKey: "AAAA", Subject: "mailto:a@example.org"}},
		{"no subject", WebPushOptions{PublicKey: pub, PrivateKey: priv}},
		{"http subject", WebPushOptions{PublicKey: pub, PrivateKey: priv, Subject: "http://example.org"}},
		{"mailto without address", WebPushOptions{PublicKey: pub, PrivateKey: priv, Subject: "mailto:"}},
		{"bad host pattern", WebPushOptions{PublicKey: pub, PrivateKey: priv, Subject: "https://example.org", AllowedHosts: []string{"*"}}},
		{"host with a path", WebPushOptions{PublicKey: pub, PrivateKey: priv, Subject: "https://example.org", AllowedHosts: []string{"example.org/x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewWebPush(tc.o); err == nil {
				t.Error("NewWebPush accepted it")
			} else if strings.Contains(err.Error(), priv) {
				t.Errorf("error quotes the private key: %v", err)
			}
		})
	}
	if _, err := NewWebPush(WebPushOptions{PublicKey: pub + "=", PrivateKey: priv, Subject: "https://waymark.example.org/contact"}); err != nil {
		t.Errorf("good config refused: %v", err)
	}
}

// memSubs is a SubscriptionStore in memory.
type memSubs struct {
	mu      sync.Mutex
	subs    map[string][]Subscription
	dropped []string
}

func (m *memSubs) WebPushSubscriptions(ctx context.Context, staffID string) ([]Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Subscription(nil), m.subs[staffID]...), nil
}

func (m *memSubs) DropWebPushSubscription(ctx context.Context, staffID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropped = append(m.dropped, id)
	return nil
}

// TestWebPushGoneSubscriptionsDropped: 404 and 410 are ErrGone, and Notify
// drops those subscriptions while still reaching the live ones.
func TestWebPushGoneSubscriptionsDropped(t *testing.T) {
	fake := testenv.StartPushService(t)
	w := newTestWebPush(t, fake, nil)
	ctx := context.Background()
	phone, laptop := parse(t, w, fake.Subscribe()), parse(t, w, fake.Subscribe())
	phone.ID, laptop.ID = "phone", "laptop"
	fake.Expire(laptop.Endpoint)
	if err := w.Send(ctx, laptop, []byte(AlertPayload)); !errors.Is(err, ErrGone) {
		t.Fatalf("send to an expired subscription = %v, want ErrGone", err)
	}
	unknown := phone
	unknown.Endpoint = fake.Origin() + "/push/nosuchsubscription"
	if err := w.Send(ctx, unknown, []byte(AlertPayload)); !errors.Is(err, ErrGone) {
		t.Fatalf("send to an unknown subscription = %v, want ErrGone", err)
	}

	subs := &memSubs{subs: map[string][]Subscription{"s_rita": {phone, laptop}}}
	n, err := w.Notify(ctx, subs, "s_rita", []byte(AlertPayload))
	if err != nil || n != 1 {
		t.Fatalf("Notify = %d, %v; want 1 sent", n, err)
	}
	if diff := cmp.Diff([]string{"laptop"}, subs.dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	// Nobody to reach: no error, nothing sent.
	if n, err := w.Notify(ctx, subs, "s_nobody", []byte(AlertPayload)); n != 0 || err != nil {
		t.Errorf("Notify with no subscriptions = %d, %v", n, err)
	}
}

// TestWebPushErrorsNeverQuoteEndpoint: a failed connection reports the
// host, never the capability URL.
func TestWebPushErrorsNeverQuoteEndpoint(t *testing.T) {
	fake := testenv.StartPushService(t)
	w := newTestWebPush(t, fake, nil)
	sub := parse(t, w, fake.Subscribe())
	// Port 1 on loopback refuses connections.
	sub.Endpoint = "https://" + fake.Host() + ":1/push/secretcapabilitytoken"
	err := w.Send(context.Background(), sub, []byte(AlertPayload))
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secretcapabilitytoken") {
		t.Errorf("error quotes the endpoint: %v", err)
	}
	var se *SendError
	if errors.As(err, &se) || errors.Is(err, ErrGone) {
		t.Errorf("connection failure reported as %v", err)
	}
}

// TestWebPushRefusalIsSendError: a push service that refuses (here the
// fake, which cannot decrypt a message sealed with the wrong auth secret)
// gives a SendError with its status.
func TestWebPushRefusalIsSendError(t *testing.T) {
	fake := testenv.StartPushService(t)
	w := newTestWebPush(t, fake, nil)
	sub := parse(t, w, fake.Subscribe())
	sub.Auth = bytes.Repeat([]byte{7}, 16)
	err := w.Send(context.Background(), sub, []byte(AlertPayload))
	var se *SendError
	if !errors.As(err, &se) || se.Status != http.StatusBadRequest {
		t.Fatalf("send with the wrong auth secret = %v, want a 400 SendError", err)
	}
	if m := fake.Messages(); len(m) != 1 || !strings.Contains(m[0].Problem, "decrypt") {
		t.Errorf("fake saw %+v", m)
	}
}

// FuzzParseSubscription: any browser-supplied subscription either parses
// into the shape RFC 8291 needs, on an allow-listed https host, or is
// refused with an error that does not quote it.
func FuzzParseSubscription(f *testing.F) {
	pub, priv, err := NewVAPIDKeys()
	if err != nil {
		f.Fatal(err)
	}
	w, err := NewWebPush(WebPushOptions{PublicKey: pub, PrivateKey: priv, Subject: "mailto:ops@example.org"})
	if err != nil {
		f.Fatal(err)
	}
	key := "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	f.Add("https://fcm.googleapis.com/fcm/send/abc", key, "BTBZMqHH6r4Tts7J_aSIgg")
	f.Add("https://wns2-par02p.notify.windows.com/w/?token=x", key, "BTBZMqHH6r4Tts7J_aSIgg==")
	f.Add("https://fcm.googleapis.com.evil.example/x", key, "BTBZMqHH6r4Tts7J_aSIgg")
	f.Add("http://updates.push.services.mozilla.com/wpush/v2/x", key, "")
	f.Add("https://user:pw@web.push.apple.com/x", "", "AAAA")
	f.Add("https://[::1]:443/x", key+key, "BTBZMqHH6r4Tts7J_aSIgg")
	f.Fuzz(func(t *testing.T, endpoint, p256dh, auth string) {
		sub, err := w.ParseSubscription(endpoint, p256dh, auth)
		if err != nil {
			if len(endpoint) > 12 && strings.Contains(err.Error(), endpoint) {
				t.Fatalf("error quotes the endpoint: %v", err)
			}
			return
		}
		if !strings.HasPrefix(sub.Endpoint, "https://") || len(sub.P256dh) != 65 || len(sub.Auth) != 16 {
			t.Fatalf("accepted %q with keys of %d and %d bytes", sub.Endpoint, len(sub.P256dh), len(sub.Auth))
		}
		if err := w.CheckEndpoint(sub.Endpoint); err != nil {
			t.Fatalf("accepted an endpoint CheckEndpoint refuses: %v", err)
		}
	})
}
