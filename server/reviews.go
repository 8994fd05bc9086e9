package server

import (
	"net/http"
	"time"

	"waymark/casework"
)

type phoneReviewView struct {
	Case   string             `json:"case"`
	Team   string             `json:"team"`
	HeldAt time.Time          `json:"held_at"`
	Others []casework.CaseRef `json:"other_cases"`
}

// phoneReviews is GET /v1/reviews/phones (admin): cases whose phone is
// held because it is on a case their caseworker may not see. Ids and
// teams only.
func (s *server) phoneReviews() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		rs, err := s.Cases.PhoneReviews(r.Context(), principal(r))
		if err != nil {
			s.error(w, r, err)
			return
		}
		out := make([]phoneReviewView, 0, len(rs))
		for _, x := range rs {
			if x.Others == nil {
				x.Others = []casework.CaseRef{}
			}
			out = append(out, phoneReviewView{Case: x.Case, Team: x.Team, HeldAt: x.HeldAt, Others: x.Others})
		}
		s.json(w, r, http.StatusOK, map[string]any{"reviews": out})
	})
}

type phoneDecisionRequest struct {
	Decision string `json:"decision" validate:"required,oneof=link keep_apart"`
}

// decidePhoneReview is POST /v1/reviews/phones/{id} (admin): link the
// held case with the case its phone is on (both then show the link, and
// the phone reaches both), or keep them apart (the phone stays held).
func (s *server) decidePhoneReview() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req phoneDecisionRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.Cases.DecidePhoneReview(r.Context(), principal(r), r.PathValue("id"), req.Decision == "link"); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
