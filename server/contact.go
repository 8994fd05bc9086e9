package server

import (
	"context"
	"net/http"

	"waymark/problem"
	"waymark/staff"
)

// errNoContact answers contact through Waymark on an instance without
// Twilio (the demo, or no survivor-facing number configured).
var errNoContact = &problem.Refused{Detail: "Contact through Waymark is not set up here (no Twilio survivor-facing number). Follow the response plan; if they are in danger, call 999."}

// contactFunc is contact.Service's Call or Text.
type contactFunc func(ctx context.Context, p *staff.Principal, id string) (string, error)

// contactAlert is POST /v1/alerts/{id}/call and /text: the owner rings or
// texts the survivor through Waymark when the verdict allows it. A
// refusal is 409 with a detail saying why and what to do instead; the
// answer otherwise is the alert, its timeline showing the contact.
func (s *server) contactAlert(pick func() contactFunc) http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		if s.Contact == nil {
			s.error(w, r, errNoContact)
			return
		}
		if _, err := pick()(r.Context(), principal(r), r.PathValue("id")); err != nil {
			s.error(w, r, err)
			return
		}
		s.answerAlertView(w, r, http.StatusOK)
	})
}

// callSurvivor is POST /v1/alerts/{id}/call.
func (s *server) callSurvivor() http.Handler {
	return s.contactAlert(func() contactFunc { return s.Contact.Call })
}

// textSurvivor is POST /v1/alerts/{id}/text.
func (s *server) textSurvivor() http.Handler {
	return s.contactAlert(func() contactFunc { return s.Contact.Text })
}
