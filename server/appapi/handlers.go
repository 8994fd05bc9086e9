// Package appapi is the disguised app's API (/v1/app/*), on the app's own
// listener and on the staff listener: enrolment, signals, check-ins, the
// hidden settings, forgetting the phone and the directory search.
// server/routes.go lists the routes; every accepted request answers the
// same whatever its PIN turned out to be (signal.go).
package appapi

import (
	"log/slog"
	"net/http"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/server/respond"
	"waymark/signpost"
)

// Deps is what the app's handlers need. A nil Cases or Alerts answers
// every app route as for an unknown device.
type Deps struct {
	Out    *respond.Responder
	Logger *slog.Logger
	Now    func() time.Time
	Cases  *casework.Cases
	Alerts *alert.Service
	// Directory returns the current signposting index (nil before the
	// first load), searched by GET /v1/app/find.
	Directory func() *signpost.Index
	// ClientAddr is the address wrong enrolment codes are counted against.
	ClientAddr func(*http.Request) string
	// EnrolFailures is how many wrong enrolment codes one client address
	// may send per window before 429 (0: 10; negative: no limit).
	EnrolFailures int
}

// Handlers serve the app's routes.
type Handlers struct {
	Deps
	enrol *enrolLimiter
}

// New returns the app's handlers around d.
func New(d Deps) *Handlers {
	return &Handlers{Deps: d, enrol: newEnrolLimiter(d.EnrolFailures, d.Now)}
}

// withCases answers 404 when no case service is wired.
func (s *Handlers) withCases(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Cases == nil {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		h(w, r)
	})
}

// The handlers' shorthands for the shared Responder.

func (s *Handlers) json(w http.ResponseWriter, r *http.Request, status int, v any) {
	s.Out.JSON(w, r, status, v)
}

func (s *Handlers) error(w http.ResponseWriter, r *http.Request, err error) { s.Out.Error(w, r, err) }

func (s *Handlers) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return s.Out.Decode(w, r, v)
}
