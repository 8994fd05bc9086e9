package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/config"
	"waymark/push"
	"waymark/server"
	"waymark/store"
)

// Web Push wiring: the sender from configuration, and the adapter between
// the store's subscriptions and what push and server consume.

var (
	_ push.SubscriptionStore   = webPushSubs{}
	_ server.PushSubscriptions = webPushSubs{}
)

// newWebPush makes the Web Push sender when VAPID keys are configured
// (config checks that all three settings come together); without them it
// returns nil and /v1/push is off.
func newWebPush(cfg *config.Config, now func() time.Time, log *slog.Logger, reg *prometheus.Registry) (*push.WebPush, error) {
	if cfg.VAPIDPublicKey == "" {
		return nil, nil
	}
	wp, err := push.NewWebPush(push.WebPushOptions{
		PublicKey:    cfg.VAPIDPublicKey,
		PrivateKey:   cfg.VAPIDPrivateKey,
		Subject:      cfg.VAPIDSubject,
		AllowedHosts: cfg.PushAllowedHosts,
		Now:          now,
		Logger:       log.With("component", "webpush"),
		Registry:     reg,
	})
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("waymark: WAYMARK_VAPID_*: %w", err)}
	}
	return wp, nil
}

// webPushSubs adapts the store's subscriptions to push.SubscriptionStore
// (escalation's Notify) and server.PushSubscriptions (the API).
type webPushSubs struct{ s *store.WebPush }

func (w webPushSubs) SaveWebPush(ctx context.Context, staffID string, sub push.Subscription) (string, error) {
	return w.s.SaveWebPushSubscription(ctx, staffID, store.WebPushSubscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth})
}

func (w webPushSubs) DropWebPushEndpoint(ctx context.Context, staffID, endpoint string) error {
	return w.s.DropWebPushEndpoint(ctx, staffID, endpoint)
}

func (w webPushSubs) WebPushSubscriptions(ctx context.Context, staffID string) ([]push.Subscription, error) {
	list, err := w.s.WebPushSubscriptions(ctx, staffID)
	if err != nil {
		return nil, err
	}
	out := make([]push.Subscription, len(list))
	for i, s := range list {
		out[i] = push.Subscription{ID: s.ID, Endpoint: s.Endpoint, P256dh: s.P256dh, Auth: s.Auth}
	}
	return out, nil
}

func (w webPushSubs) DropWebPushSubscription(ctx context.Context, staffID, id string) error {
	return w.s.DropWebPushSubscription(ctx, staffID, id)
}

// keysVAPID prints a fresh VAPID key pair for an env file.
func keysVAPID(c *cli) error {
	pub, priv, err := push.NewVAPIDKeys()
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "# Web Push (VAPID) keys: the private key is a secret; set WAYMARK_VAPID_SUBJECT too.")
	fmt.Fprintln(c.stdout, "WAYMARK_VAPID_PUBLIC_KEY="+pub)
	fmt.Fprintln(c.stdout, "WAYMARK_VAPID_PRIVATE_KEY="+priv)
	return nil
}
