package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"waymark/problem"
	"waymark/signpost"
	"waymark/staff"
)

// errDirectoryNotReady answers directory routes before the first index is
// built (Redis away at start-up): 503, try again.
var errDirectoryNotReady = fmt.Errorf("server: directory not loaded yet: %w", problem.ErrUnavailable)

// directoryAccess guards the directory routes: signed-in helpline staff and
// administrators, or anyone when the deployment makes the directory public
// (for the disguised app). The directory is public information, but a
// deployment decides whether to serve it to the world.
func (s *server) directoryAccess(public bool) func(http.Handler) http.Handler {
	if public {
		return func(h http.Handler) http.Handler { return h }
	}
	// Helpline staff search all day; responders and caseworkers signpost
	// during an alert or a case review.
	return s.authed(staff.RoleHelpline, staff.RoleAdmin, staff.RoleResponder, staff.RoleCaseworker)
}

// directorySearch is GET /v1/directory/search?near=&lat=&lon=&radius_km=
// &category=&language=&audience=&open_now=&q=&limit= over the current
// index (dir returns it; nil before the first load). Bad parameters are 422
// naming each one. Results never carry an address or coordinates.
func (s *server) directorySearch(dir func() *signpost.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ix := currentIndex(dir)
		if ix == nil {
			s.error(w, r, errDirectoryNotReady)
			return
		}
		q, probs := signpost.ParseQuery(r.URL.Query())
		if len(probs) > 0 {
			s.error(w, r, invalidQuery(probs))
			return
		}
		res, err := ix.Search(q, s.Now())
		if err != nil {
			s.error(w, r, directoryError(err))
			return
		}
		s.json(w, r, http.StatusOK, res)
	})
}

// directoryService is GET /v1/directory/services/{id}: one service in Open
// Referral UK shape, as `waymark directory export` writes it; a
// confidential service without any address.
func (s *server) directoryService(dir func() *signpost.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ix := currentIndex(dir)
		if ix == nil {
			s.error(w, r, errDirectoryNotReady)
			return
		}
		svc, ok := ix.Service(r.PathValue("id"))
		if !ok {
			s.error(w, r, fmt.Errorf("server: directory service: %w", problem.ErrNotFound))
			return
		}
		var buf bytes.Buffer
		if err := signpost.EncodeORUKService(&buf, svc); err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, json.RawMessage(bytes.TrimSpace(buf.Bytes())))
	})
}

func currentIndex(dir func() *signpost.Index) *signpost.Index {
	if dir == nil {
		return nil
	}
	return dir()
}

// invalidQuery turns signpost's per-parameter problems into the one
// validation error the error mapping knows (422).
func invalidQuery(probs []signpost.FieldProblem) error {
	inv := &problem.Invalid{}
	for _, p := range probs {
		inv.Add(p.Field, p.Problem)
	}
	return inv.Err()
}

func directoryError(err error) error {
	var ve *signpost.ValidationError
	if errors.As(err, &ve) {
		return invalidQuery(ve.Problems)
	}
	return err
}
