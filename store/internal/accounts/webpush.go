package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/problem"
	"waymark/store/internal/kv"
)

// Web Push subscriptions. A responder's browsers each hold one
// subscription: the push service's endpoint (a capability URL that reaches
// that browser) and the keys the message is encrypted to. They are kept in
// one hash per responder, keys.staffWebPush(staff id), one field per
// subscription named by a letter-only tag of its endpoint (so subscribing
// the same browser again replaces it), each value sealed under the
// key-encryption key with AD{Key: the hash, Field: the field}: the
// endpoint identifies a device and the keys decrypt what is sent to it.
//
// Lifetime: the hash expires webPushLifetime after the last subscription
// was saved (the dashboard saves its subscription again on every load);
// at most maxWebPushSubs are kept per responder, the oldest dropped first;
// a subscription the push service calls gone (404, 410) is dropped when a
// send finds out.

const (
	maxWebPushSubs  = 10
	webPushLifetime = 90 * 24 * time.Hour
)

// ErrNoSuchSubscription is DropWebPushEndpoint's answer for an endpoint the
// responder has not subscribed.
var ErrNoSuchSubscription = fmt.Errorf("store: web push subscription: %w", problem.ErrNotFound)

// WebPushSubscription is one browser's push subscription.
type WebPushSubscription struct {
	// ID names the subscription among the responder's (a tag of the
	// endpoint); set by the store.
	ID       string
	Endpoint string
	P256dh   []byte
	Auth     []byte
	Created  time.Time
}

// webPushJSON is the sealed form.
type webPushJSON struct {
	Endpoint string `json:"e"`
	P256dh   []byte `json:"k"`
	Auth     []byte `json:"a"`
	Created  int64  `json:"c"`
}

// webPushID is the subscription's field name.
func (s *conn) webPushID(endpoint string) string { return s.Tag("webpush", endpoint) }

// SaveWebPushSubscription stores (or refreshes) a subscription of staffID
// and returns its id. The oldest subscriptions beyond the cap are dropped.
func (s *WebPush) SaveWebPushSubscription(ctx context.Context, staffID string, sub WebPushSubscription) (string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.staffWebPush(staffID)
	id := s.webPushID(sub.Endpoint)
	b, err := json.Marshal(webPushJSON{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth, Created: s.Now().UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("store: encode web push subscription: %w", err)
	}
	ct, err := s.SealKEK(key, id, b)
	if err != nil {
		return "", err
	}
	var n *redis.IntCmd
	if _, err := s.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, id, ct)
		p.PExpire(ctx, key, webPushLifetime)
		n = p.HLen(ctx, key)
		return nil
	}); err != nil {
		return "", s.Wrap("save web push subscription", err)
	}
	if n.Val() > maxWebPushSubs {
		all, err := s.webPushAll(ctx, staffID)
		if err != nil {
			return "", err
		}
		slices.SortFunc(all, func(a, b WebPushSubscription) int { return b.Created.Compare(a.Created) })
		var drop []string
		for _, old := range all[maxWebPushSubs:] {
			if old.ID != id {
				drop = append(drop, old.ID)
			}
		}
		if len(drop) > 0 {
			if err := s.RDB.HDel(ctx, key, drop...).Err(); err != nil {
				return "", s.Wrap("cap web push subscriptions", err)
			}
		}
	}
	return id, nil
}

// WebPushSubscriptions lists staffID's subscriptions, newest first.
func (s *WebPush) WebPushSubscriptions(ctx context.Context, staffID string) ([]WebPushSubscription, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	all, err := s.webPushAll(ctx, staffID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b WebPushSubscription) int { return b.Created.Compare(a.Created) })
	return all, nil
}

func (s *conn) webPushAll(ctx context.Context, staffID string) ([]WebPushSubscription, error) {
	key := s.k.staffWebPush(staffID)
	h, err := s.RDB.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, s.Wrap("web push subscriptions", err)
	}
	out := make([]WebPushSubscription, 0, len(h))
	for id, ct := range h {
		pt, err := s.OpenKEK(key, id, []byte(ct))
		if err != nil {
			return nil, err
		}
		var j webPushJSON
		if err := json.Unmarshal(pt, &j); err != nil {
			return nil, fmt.Errorf("store: web push subscription %s: %w", id, err)
		}
		out = append(out, WebPushSubscription{ID: id, Endpoint: j.Endpoint, P256dh: j.P256dh, Auth: j.Auth,
			Created: time.UnixMilli(j.Created).UTC()})
	}
	return out, nil
}

// DropWebPushSubscription removes one subscription by id; a missing one is
// not an error (two instances may both find it gone).
func (s *WebPush) DropWebPushSubscription(ctx context.Context, staffID, id string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	return s.Wrap("drop web push subscription", s.RDB.HDel(ctx, s.k.staffWebPush(staffID), id).Err())
}

// DropWebPushEndpoint removes the subscription with this endpoint, as the
// browser unsubscribing asks; ErrNoSuchSubscription if staffID has none.
func (s *WebPush) DropWebPushEndpoint(ctx context.Context, staffID, endpoint string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := s.RDB.HDel(ctx, s.k.staffWebPush(staffID), s.webPushID(endpoint)).Result()
	if err != nil {
		return s.Wrap("drop web push subscription", err)
	}
	if n == 0 {
		return ErrNoSuchSubscription
	}
	return nil
}

// DropAllWebPush removes every subscription of staffID (the account was
// disabled, or they signed out everywhere).
func (s *WebPush) DropAllWebPush(ctx context.Context, staffID string) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	return s.Wrap("drop web push subscriptions", s.RDB.Del(ctx, s.k.staffWebPush(staffID)).Err())
}
