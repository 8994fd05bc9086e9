package server

import (
	"net/http"
	"strconv"
	"time"

	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
	"waymark/wallclock"
)

// On call: who is on call in a team at an instant, the gaps ahead, the
// rota and policies in force (staff of the team and admins), and going off
// duty with hand-overs (responders).

// mayReadTeam reports whether the principal may see a team's on-call
// arrangements: a member of the team, or an admin. Anyone else gets the
// same 404 as a team that does not exist.
func mayReadTeam(r *http.Request, team string) bool {
	p := principal(r)
	return p != nil && (p.InTeam(team) || p.Has(staff.RoleAdmin))
}

// oncallNow is GET /v1/teams/{id}/oncall?at=: who is on call in each tier
// at an instant (RFC 3339, or Europe/London 2026-10-25T09:00; default now).
func (s *server) oncallNow() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team := r.PathValue("id")
		if !mayReadTeam(r, team) {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		at := s.Now()
		if q := r.URL.Query().Get("at"); q != "" {
			t, bad := wallclock.ParseLondonTime(q)
			if bad != "" {
				s.error(w, r, problem.Invalidf("at", bad))
				return
			}
			at = t
		}
		who, err := s.OnCall.Who(r.Context(), team, at)
		if err != nil {
			s.error(w, r, err)
			return
		}
		who.At = who.At.UTC()
		s.json(w, r, http.StatusOK, who)
	})
}

type gapsResponse struct {
	From time.Time    `json:"from"`
	To   time.Time    `json:"to"`
	Gaps []oncall.Gap `json:"gaps"`
	// Fallback says a 24/7 fallback covers the gaps.
	Fallback     bool   `json:"fallback"`
	FallbackName string `json:"fallback_name,omitempty"`
	// NoFallbackReason is why the deployment runs without one, as its
	// operator gave it.
	NoFallbackReason string `json:"no_fallback_reason,omitempty"`
}

// oncallGaps is GET /v1/teams/{id}/gaps?days=: the spans ahead (default
// 14 days, at most 92) in which nobody is on call in any tier.
func (s *server) oncallGaps() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team := r.PathValue("id")
		if !mayReadTeam(r, team) {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		days := 14
		if q := r.URL.Query().Get("days"); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 1 || n > 92 {
				s.error(w, r, problem.Invalidf("days", "must be a whole number from 1 to 92"))
				return
			}
			days = n
		}
		from := s.Now()
		to := from.Add(time.Duration(days) * 24 * time.Hour)
		gaps, err := s.OnCall.Gaps(r.Context(), team, from, to)
		if err != nil {
			s.error(w, r, err)
			return
		}
		for i := range gaps {
			gaps[i].From, gaps[i].To = gaps[i].From.UTC(), gaps[i].To.UTC()
		}
		fb := s.OnCall.Fallback()
		s.json(w, r, http.StatusOK, gapsResponse{From: from.UTC(), To: to.UTC(), Gaps: gaps, Fallback: fb.Set(), FallbackName: fb.Name, NoFallbackReason: s.NoFallbackReason})
	})
}

// teamRota is GET /v1/teams/{id}/rota: the rota in force (staff ids).
func (s *server) teamRota() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team := r.PathValue("id")
		if !mayReadTeam(r, team) {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		rota, err := s.OnCall.Rota(r.Context(), team)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if rota == nil {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		s.json(w, r, http.StatusOK, rota)
	})
}

// teamPolicies is GET /v1/teams/{id}/policies: the escalation policies new
// alerts of the team follow.
func (s *server) teamPolicies() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team := r.PathValue("id")
		if !mayReadTeam(r, team) {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		ps, err := s.OnCall.Policies(r.Context(), team)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, ps)
	})
}

type handoverItem struct {
	Alert string `json:"alert" validate:"required,max=64"`
	To    string `json:"to" validate:"required,max=64"`
	Note  string `json:"note" validate:"required,max=4000"`
}

type handoverRequest struct {
	Handovers []handoverItem `json:"handovers" validate:"max=200,dive"`
}

type handoverResponse struct {
	Results []oncall.HandoverResult `json:"results"`
}

// goOffDuty is POST /v1/handover: the responder goes off duty, handing
// each claimed alert listed to a named colleague with a note; every claimed
// alert not listed returns to the queue at once.
func (s *server) goOffDuty() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req handoverRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		hs := make([]oncall.Handover, len(req.Handovers))
		for i, h := range req.Handovers {
			hs[i] = oncall.Handover{Alert: h.Alert, To: h.To, Note: pii.NewText(h.Note)}
		}
		res, err := s.Alerts.GoOffDuty(r.Context(), principal(r), hs)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if res == nil {
			res = []oncall.HandoverResult{}
		}
		s.json(w, r, http.StatusOK, handoverResponse{Results: res})
	})
}
