package server

import (
	"fmt"
	"net/http"

	"waymark/problem"
	"waymark/server/respond"
)

// errNoHub answers GET /v1/ws on a server built without a hub (a nil
// dependency turns its route off).
var errNoHub = fmt.Errorf("server: no live hub: %w", problem.ErrNotFound)

// refuseSocket answers a handshake the hub refused with the usual error
// body: 403 for the Origin, 503 for a stopped hub, 400 otherwise.
func (s *server) refuseSocket(w http.ResponseWriter, r *http.Request, status int) {
	switch status {
	case http.StatusForbidden:
		s.error(w, r, respond.ErrCrossOrigin)
	case http.StatusServiceUnavailable:
		s.error(w, r, fmt.Errorf("server: live hub not running: %w", problem.ErrUnavailable))
	case http.StatusBadRequest:
		s.error(w, r, respond.ErrNotWebSocket)
	default:
		s.error(w, r, fmt.Errorf("server: websocket handshake refused with %d", status))
	}
}

// ws is GET /v1/ws: the responders' live connection. The hub checks the
// Origin against AllowedOrigins before upgrading (403 otherwise); the
// ticket comes in the first frame, never in the URL, so this route needs
// no cookie and no CSRF check of its own.
func (s *server) ws() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Hub == nil {
			s.error(w, r, errNoHub)
			return
		}
		s.Hub.Accept(w, r, s.AllowedOrigins, s.refuseSocket)
	})
}
