package directory

import (
	"context"
	"net/http"
	"slices"
	"time"

	"waymark/audit"
	"waymark/problem"
	"waymark/server/respond"
	"waymark/signpost"
	"waymark/staff"
)

// Refuges: a refuge's own staff keep its vacancies current from the
// dashboard, so a helpline search shows how many spaces it has and how old
// that news is (stale after a day). A refuge account is linked by an
// administrator to exactly one refuge service, and may do nothing else:
// not see alerts, cases or other services' records.

// RefugeStore is what the refuge routes need from the store.
type RefugeStore interface {
	LinkRefuge(ctx context.Context, staffID, serviceID string) error
	RefugeOf(ctx context.Context, staffID string) (string, error)
	DirectoryService(ctx context.Context, id string) (signpost.Service, error)
	SetVacancies(ctx context.Context, serviceID string, count int, at time.Time) (signpost.Service, error)
	LoadDirectory(ctx context.Context) ([]signpost.Service, int64, error)
}

type refugeView struct {
	ServiceID string         `json:"service_id"`
	Name      string         `json:"name"`
	District  string         `json:"district,omitempty"`
	Vacancies *vacanciesView `json:"vacancies,omitempty"`
}

type vacanciesView struct {
	Count     int       `json:"count"`
	UpdatedAt time.Time `json:"updated_at"`
	Stale     bool      `json:"stale"`
}

func (s *Handlers) refugeViewOf(svc signpost.Service) refugeView {
	v := refugeView{ServiceID: svc.ID, Name: svc.Name}
	for _, l := range svc.Locations {
		if l.District != "" {
			v.District = l.District
			break
		}
	}
	if svc.Vacancies != nil {
		v.Vacancies = &vacanciesView{Count: svc.Vacancies.Count, UpdatedAt: svc.Vacancies.UpdatedAt.UTC(),
			Stale: s.Now().Sub(svc.Vacancies.UpdatedAt) > signpost.VacancyStale}
	}
	return v
}

// ListRefuges is GET /v1/refuges (admin): the directory's refuges, to
// link a refuge account to one.
func (s *Handlers) ListRefuges() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, _, err := s.Refuges.LoadDirectory(r.Context())
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		out := []refugeView{}
		for _, svc := range all {
			if slices.Contains(svc.Categories, signpost.CategoryRefuge) {
				out = append(out, s.refugeViewOf(svc))
			}
		}
		s.Out.JSON(w, r, http.StatusOK, map[string][]refugeView{"refuges": out})
	})
}

type refugeLinkRequest struct {
	Service string `json:"service" validate:"required,max=100"`
}

// LinkRefuge is PUT /v1/staff/{id}/refuge (admin): the account, which must
// hold the refuge role, may keep that service's vacancies. Audited.
func (s *Handlers) LinkRefuge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req refugeLinkRequest
		if err := s.Out.Decode(w, r, &req); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		acct, err := s.Staff.ByID(r.Context(), r.PathValue("id"))
		if err == nil && !slices.Contains(acct.Roles, staff.RoleRefuge) {
			err = problem.Invalidf("roles", "the account does not have the refuge role")
		}
		if err == nil {
			err = s.Refuges.LinkRefuge(r.Context(), acct.ID, req.Service)
		}
		s.Audit(r, "refuge.link", "account "+r.PathValue("id")+" to service "+req.Service, err)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		svc, err := s.Refuges.DirectoryService(r.Context(), req.Service)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		s.Out.JSON(w, r, http.StatusOK, s.refugeViewOf(svc))
	})
}

// OwnRefuge is GET /v1/refuge: the caller's refuge and its vacancies.
func (s *Handlers) OwnRefuge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.Refuges.RefugeOf(r.Context(), respond.Principal(r).StaffID)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		svc, err := s.Refuges.DirectoryService(r.Context(), id)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		s.Out.JSON(w, r, http.StatusOK, s.refugeViewOf(svc))
	})
}

type vacanciesRequest struct {
	Count *int `json:"count" validate:"required,min=0,max=999"`
}

// PutVacancies is PUT /v1/refuge/vacancies: the caller's refuge has this
// many spaces now. Audited; every instance's search shows it within its
// directory poll (5 s).
func (s *Handlers) PutVacancies() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req vacanciesRequest
		if err := s.Out.Decode(w, r, &req); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		p := respond.Principal(r)
		id, err := s.Refuges.RefugeOf(r.Context(), p.StaffID)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		svc, err := s.Refuges.SetVacancies(r.Context(), id, *req.Count, s.Now())
		if s.Records != nil {
			outcome := "ok: service " + id
			if err != nil {
				outcome = "failed: service " + id
			}
			s.Records.Audit(r.Context(), audit.AuditEntry{Actor: p.StaffID, Action: "refuge.vacancies", Outcome: outcome})
		}
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		s.Out.JSON(w, r, http.StatusOK, s.refugeViewOf(svc))
	})
}
