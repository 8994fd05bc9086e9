package server

import (
	"context"
	"errors"
	"net/http"

	"waymark/problem"
	"waymark/push"
)

// PushSubscriptions keeps responders' Web Push subscriptions (the store,
// through cmd/waymark's adapter).
type PushSubscriptions interface {
	// SaveWebPush stores or refreshes a subscription and returns its id.
	SaveWebPush(ctx context.Context, staffID string, sub push.Subscription) (string, error)
	// DropWebPushEndpoint removes the subscription with endpoint; an error
	// wrapping problem.ErrNotFound if the responder has none.
	DropWebPushEndpoint(ctx context.Context, staffID, endpoint string) error
}

// pushKeys are the keys of a browser's PushSubscription.toJSON().
type pushKeys struct {
	P256dh string `json:"p256dh" validate:"required,max=200"`
	Auth   string `json:"auth" validate:"required,max=100"`
}

// pushSubscribeRequest is PushSubscription.toJSON() as the dashboard
// posts it. expirationTime is accepted and ignored: browsers send null.
type pushSubscribeRequest struct {
	Endpoint       string   `json:"endpoint" validate:"required,max=2048"`
	ExpirationTime *float64 `json:"expirationTime"`
	Keys           pushKeys `json:"keys"`
}

type pushUnsubscribeRequest struct {
	Endpoint string `json:"endpoint" validate:"required,max=2048"`
}

// vapidKey is GET /v1/push/vapid-key: the applicationServerKey the
// dashboard subscribes with.
func (s *server) vapidKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.json(w, r, http.StatusOK, map[string]string{"public_key": s.WebPush.PublicKey()})
	})
}

// subscribePush is POST /v1/push/subscriptions (responders): stores the
// browser's subscription so escalation can reach it while the dashboard is
// closed. The endpoint must be on a push service of the allow-list.
func (s *server) subscribePush() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req pushSubscribeRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.WebPush.CheckEndpoint(req.Endpoint); err != nil {
			msg := "must be an https URL of a browser push service"
			if errors.Is(err, push.ErrEndpointForbidden) {
				msg = "is not on a push service this deployment allows"
			}
			s.error(w, r, problem.Invalidf("endpoint", msg))
			return
		}
		sub, err := s.WebPush.ParseSubscription(req.Endpoint, req.Keys.P256dh, req.Keys.Auth)
		if err != nil {
			s.error(w, r, problem.Invalidf("keys", "must hold p256dh (a P-256 public key) and auth (16 bytes), base64url"))
			return
		}
		id, err := s.WebPushSubs.SaveWebPush(r.Context(), principal(r).StaffID, sub)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusCreated, map[string]string{"id": id})
	})
}

// unsubscribePush is DELETE /v1/push/subscriptions: the browser
// unsubscribed (or the responder turned alerts on this device off).
func (s *server) unsubscribePush() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req pushUnsubscribeRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.WebPushSubs.DropWebPushEndpoint(r.Context(), principal(r).StaffID, req.Endpoint); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
