package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"waymark/internal/testenv"
	"waymark/push"
	"waymark/staff"
	"waymark/store"
)

// storeSubs adapts the store to PushSubscriptions and to push's
// SubscriptionStore, as cmd/waymark does.
type storeSubs struct{ s *testStore }

func (a storeSubs) SaveWebPush(ctx context.Context, staffID string, sub push.Subscription) (string, error) {
	return a.s.SaveWebPushSubscription(ctx, staffID, store.WebPushSubscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth})
}

func (a storeSubs) DropWebPushEndpoint(ctx context.Context, staffID, endpoint string) error {
	return a.s.DropWebPushEndpoint(ctx, staffID, endpoint)
}

func (a storeSubs) WebPushSubscriptions(ctx context.Context, staffID string) ([]push.Subscription, error) {
	list, err := a.s.WebPushSubscriptions(ctx, staffID)
	out := make([]push.Subscription, len(list))
	for i, s := range list {
		out[i] = push.Subscription{ID: s.ID, Endpoint: s.Endpoint, P256dh: s.P256dh, Auth: s.Auth}
	}
	return out, err
}

func (a storeSubs) DropWebPushSubscription(ctx context.Context, staffID, id string) error {
	return a.s.DropWebPushSubscription(ctx, staffID, id)
}

// TestWebPushSubscriptionsAPI: a responder's dashboard fetches the VAPID
// key and subscribes; an escalation's Notify then reaches the browser
// (the fake push service decrypts {"t":"alert"}); the browser's
// subscription expiring drops it; unsubscribing removes it.
func TestWebPushSubscriptionsAPI(t *testing.T) {
	env := newTestEnv(t)
	fake := testenv.StartPushService(t)
	pub, priv, err := push.NewVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	wp, err := push.NewWebPush(push.WebPushOptions{PublicKey: pub, PrivateKey: priv, Subject: "mailto:ops@example.org",
		AllowedHosts: append([]string{fake.Host()}, push.DefaultPushHosts()...), Client: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	subs := storeSubs{env.Store}
	env.Server = httptest.NewTLSServer(publicHandler(Deps{Logger: discard(), Now: env.Clock.Now, Staff: env.Staff,
		WebPush: wp, WebPushSubs: subs}))
	t.Cleanup(env.Server.Close)
	robin := env.login(t, "robin", []staff.Role{staff.RoleResponder}, []string{"south"})
	helpline := env.login(t, "hal", []staff.Role{staff.RoleHelpline}, nil)
	ctx := context.Background()

	status, _, b := env.call(t, helpline, "GET", "/v1/push/vapid-key", nil)
	if status != http.StatusOK || jsonField(t, b, "public_key") != pub {
		t.Fatalf("vapid-key = %d %s", status, b)
	}
	if status, _, _ := env.call(t, env.client(), "GET", "/v1/push/vapid-key", nil); status != http.StatusUnauthorized {
		t.Errorf("vapid-key without a session = %d, want 401", status)
	}

	browser := fake.Subscribe()
	body := map[string]any{"endpoint": browser.Endpoint, "expirationTime": nil,
		"keys": map[string]string{"p256dh": browser.P256dh, "auth": browser.Auth}}
	status, _, b = env.call(t, robin, "POST", "/v1/push/subscriptions", body)
	if status != http.StatusCreated || jsonField(t, b, "id") == "" {
		t.Fatalf("subscribe = %d %s", status, b)
	}
	if status, _, _ := env.call(t, helpline, "POST", "/v1/push/subscriptions", body); status != http.StatusForbidden {
		t.Errorf("helpline subscribing = %d, want 403 (responders only)", status)
	}

	// Refusals name the field and never echo the endpoint.
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"push service not allowed", map[string]any{"endpoint": "https://push.example.net/x", "keys": body["keys"]}, "endpoint"},
		{"plain http", map[string]any{"endpoint": strings.Replace(browser.Endpoint, "https", "http", 1), "keys": body["keys"]}, "endpoint"},
		{"bad keys", map[string]any{"endpoint": browser.Endpoint, "keys": map[string]string{"p256dh": browser.Auth, "auth": browser.Auth}}, "keys"},
		{"unknown field", map[string]any{"endpoint": browser.Endpoint, "keys": body["keys"], "title": "New alert"}, "title"},
		{"no endpoint", map[string]any{"keys": body["keys"]}, "endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := env.call(t, robin, "POST", "/v1/push/subscriptions", tc.body)
			if status != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"`+tc.field+`"`) {
				t.Errorf("= %d %s, want 422 naming %s", status, b, tc.field)
			}
			if strings.Contains(string(b), "/push/") {
				t.Errorf("answer echoes the endpoint: %s", b)
			}
		})
	}

	// Escalation reaches the browser while the dashboard is closed.
	robinID := env.users["robin"].ID
	if n, err := wp.Notify(ctx, subs, robinID, []byte(push.AlertPayload)); err != nil || n != 1 {
		t.Fatalf("Notify = %d, %v", n, err)
	}
	got := fake.Wait(t, 1, 5*time.Second)[0]
	if got.Status != http.StatusCreated || string(got.Payload) != `{"t":"alert"}` {
		t.Errorf("push service saw %d %q (%s)", got.Status, got.Payload, got.Problem)
	}

	// The browser's subscription expires: the next send drops it.
	fake.Expire(browser.Endpoint)
	if n, err := wp.Notify(ctx, subs, robinID, []byte(push.AlertPayload)); n != 0 || err != nil {
		t.Errorf("Notify to an expired subscription = %d, %v", n, err)
	}
	if list, _ := env.Store.WebPushSubscriptions(ctx, robinID); len(list) != 0 {
		t.Errorf("%d subscriptions left after 410, want 0", len(list))
	}

	// Unsubscribe: 204, then 404.
	second := fake.Subscribe()
	body = map[string]any{"endpoint": second.Endpoint, "keys": map[string]string{"p256dh": second.P256dh, "auth": second.Auth}}
	if status, _, b := env.call(t, robin, "POST", "/v1/push/subscriptions", body); status != http.StatusCreated {
		t.Fatalf("subscribe = %d %s", status, b)
	}
	del := map[string]string{"endpoint": second.Endpoint}
	if status, _, b := env.call(t, robin, "DELETE", "/v1/push/subscriptions", del); status != http.StatusNoContent {
		t.Errorf("unsubscribe = %d %s", status, b)
	}
	if status, _, _ := env.call(t, robin, "DELETE", "/v1/push/subscriptions", del); status != http.StatusNotFound {
		t.Errorf("second unsubscribe = %d, want 404", status)
	}
	var v map[string]any
	_, _, b = env.call(t, robin, "GET", "/v1/push/vapid-key", nil)
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 1 {
		t.Errorf("vapid-key answer %s: want exactly public_key", b)
	}
}
