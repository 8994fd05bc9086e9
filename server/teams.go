package server

import (
	"net/http"
	"time"

	"waymark/audit"
	"waymark/staff"
)

type teamRequest struct {
	ID    string   `json:"id" validate:"required,max=32"`
	Name  string   `json:"name" validate:"required,max=80"`
	Areas []string `json:"areas" validate:"max=1000,dive,max=8"`
}

type teamResponse struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Areas   []string  `json:"areas"`
	Created time.Time `json:"created"`
}

func teamOf(t staff.Team) teamResponse {
	r := teamResponse{ID: t.ID, Name: t.Name, Areas: t.Areas, Created: t.Created.UTC()}
	if r.Areas == nil {
		r.Areas = []string{}
	}
	return r
}

// createTeam is POST /v1/teams (admin): areas must be known postcode
// districts.
func (s *server) createTeam() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req teamRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		t, err := s.Staff.AddTeam(r.Context(), staff.Team{ID: req.ID, Name: req.Name, Areas: req.Areas})
		if err == nil && s.Records != nil {
			s.Records.Audit(r.Context(), audit.AuditEntry{Actor: principal(r).StaffID, Action: "config.team.add", Outcome: "ok: team " + t.ID})
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusCreated, teamOf(t))
	})
}

// listTeams is GET /v1/teams.
func (s *server) listTeams() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, err := s.Staff.Teams(r.Context())
		if err != nil {
			s.error(w, r, err)
			return
		}
		out := make([]teamResponse, len(all))
		for i, t := range all {
			out[i] = teamOf(t)
		}
		s.json(w, r, http.StatusOK, map[string][]teamResponse{"teams": out})
	})
}

// getTeam is GET /v1/teams/{id}.
func (s *server) getTeam() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.Staff.Team(r.Context(), r.PathValue("id"))
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, teamOf(t))
	})
}
