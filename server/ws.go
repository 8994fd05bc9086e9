package server

import (
	"fmt"
	"net/http"

	"waymark/problem"
)

// errNoHub answers GET /v1/ws on a server built without a hub (a nil
// dependency turns its route off).
var errNoHub = fmt.Errorf("server: no live hub: %w", problem.ErrNotFound)

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
		s.Hub.Accept(w, r, s.AllowedOrigins)
	})
}
