package directory

import (
	"context"
	"errors"
	"net/http"

	"waymark/problem"
	"waymark/signpost"
)

// Directory entries for administrators, from the dashboard: list the
// stored records, add or edit one (Waymark's own record shape, checked by
// signpost.Validate exactly as an import is), and retire one (hidden from
// search, the API and exports, as `waymark directory hide` does; the record
// is kept and can be shown again). Every write is audited.

// ServiceStore is what the directory entry routes need from the store.
type ServiceStore interface {
	LoadDirectory(ctx context.Context) ([]signpost.Service, int64, error)
	DirectoryService(ctx context.Context, id string) (signpost.Service, error)
	PutService(ctx context.Context, svc signpost.Service) error
	SetServiceHidden(ctx context.Context, id string, hidden bool) (bool, error)
	HiddenServices(ctx context.Context) ([]string, error)
}

type serviceLine struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Categories []signpost.Category `json:"categories"`
	Retired    bool                `json:"retired"`
}

// ListServices is GET /v1/directory/records (admin): every stored
// service, retired ones marked.
func (s *Handlers) ListServices() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		live, _, err := s.Services.LoadDirectory(r.Context())
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		hidden, err := s.Services.HiddenServices(r.Context())
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		out := []serviceLine{}
		for _, svc := range live {
			out = append(out, serviceLine{ID: svc.ID, Name: svc.Name, Categories: svc.Categories})
		}
		for _, id := range hidden {
			if svc, err := s.Services.DirectoryService(r.Context(), id); err == nil {
				out = append(out, serviceLine{ID: svc.ID, Name: svc.Name, Categories: svc.Categories, Retired: true})
			}
		}
		s.Out.JSON(w, r, http.StatusOK, map[string][]serviceLine{"services": out})
	})
}

// GetServiceRecord is GET /v1/directory/records/{id} (admin): the stored
// record, to edit.
func (s *Handlers) GetServiceRecord() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.Services.DirectoryService(r.Context(), r.PathValue("id"))
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		s.Out.JSON(w, r, http.StatusOK, svc)
	})
}

type serviceWritten struct {
	Service  signpost.Service        `json:"service"`
	Warnings []signpost.FieldProblem `json:"warnings"`
}

// PutServiceRecord is PUT /v1/directory/records/{id} (admin): add or
// replace a service. Refused field by field (422) as an import would
// refuse it, and nothing stored; the fields an import would drop come back
// as warnings.
func (s *Handlers) PutServiceRecord() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var svc signpost.Service
		if err := s.Out.Decode(w, r, &svc); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		id := r.PathValue("id")
		if svc.ID == "" {
			svc.ID = id
		}
		var err error
		if svc.ID != id {
			err = problem.Invalidf("id", "must be the id in the path")
		}
		var warnings []signpost.FieldProblem
		if err == nil {
			c := svc
			warnings, err = signpost.Validate(&c)
			var ve *signpost.ValidationError
			if errors.As(err, &ve) {
				inv := &problem.Invalid{}
				for _, p := range ve.Problems {
					inv.Add(p.Field, p.Problem)
				}
				err = inv.Err()
			}
		}
		if err == nil {
			err = s.Services.PutService(r.Context(), svc)
		}
		s.Audit(r, "directory.put", "service "+id, err)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		stored, err := s.Services.DirectoryService(r.Context(), id)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		if warnings == nil {
			warnings = []signpost.FieldProblem{}
		}
		s.Out.JSON(w, r, http.StatusOK, serviceWritten{Service: stored, Warnings: warnings})
	})
}

type retireRequest struct {
	Retired bool `json:"retired"`
}

// RetireService is PUT /v1/directory/records/{id}/retired (admin):
// {"retired": true} takes the service out of search, the API and exports
// (the record is kept); false brings it back.
func (s *Handlers) RetireService() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req retireRequest
		if err := s.Out.Decode(w, r, &req); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		id := r.PathValue("id")
		_, err := s.Services.DirectoryService(r.Context(), id)
		if err == nil {
			_, err = s.Services.SetServiceHidden(r.Context(), id, req.Retired)
		}
		action := map[bool]string{true: "directory.retire", false: "directory.restore"}[req.Retired]
		s.Audit(r, action, "service "+id, err)
		if err != nil {
			s.Out.Error(w, r, err)
			return
		}
		s.Out.JSON(w, r, http.StatusOK, map[string]any{"id": id, "retired": req.Retired})
	})
}
