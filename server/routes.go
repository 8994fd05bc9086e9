package server

import "net/http"

// routes is the table of contents: every route Waymark serves, one line
// each, with its middleware visible. A route not in this file does not exist.
func (s *server) routes(mux *http.ServeMux) {
	// Operators.
	s.handle(mux, "GET /healthz", s.healthz())
	s.handle(mux, "GET /readyz", s.readyz())
	s.handle(mux, "GET /metrics", s.metricsHandler())

	// Staff sign-in and sessions.

	// Teams.

	// Cases (caseworkers) and app enrolment.

	// The disguised app.

	// Alerts (responders).

	// Directory (signposting).
}
