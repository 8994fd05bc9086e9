package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"waymark/problem"
	"waymark/records"
	"waymark/signpost"
	"waymark/signpost/oruk"
)

// ErrNotReady answers directory routes before the first index is
// built (Redis away at start-up): 503, try again.
var ErrNotReady = fmt.Errorf("server: directory not loaded yet: %w", problem.ErrUnavailable)

// Search is GET /v1/directory/search?near=&lat=&lon=&radius_km=
// &category=&language=&audience=&open_now=&q=&limit= over the current
// index (dir returns it; nil before the first load). Bad parameters are 422
// naming each one. Results never carry an address or coordinates.
func (s *Handlers) Search(dir func() *signpost.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ix := Current(dir)
		if ix == nil {
			s.Out.Error(w, r, ErrNotReady)
			return
		}
		q, probs := signpost.ParseQuery(r.URL.Query())
		if len(probs) > 0 {
			s.Out.Error(w, r, InvalidQuery(probs))
			return
		}
		res, err := ix.Search(q, s.Now())
		if err != nil {
			s.Out.Error(w, r, SearchError(err))
			return
		}
		// A need typed in words ("refuge") counts as the category would.
		district, cats, unmet := unmetSearch(q.Interpreted(), res)
		if !unmet || s.Records == nil {
			s.Out.JSON(w, r, http.StatusOK, res)
			return
		}
		// The answer goes out whole first (with its length, flushed), so
		// counting the unmet need never delays or fails the search.
		b, err := json.Marshal(res)
		if err != nil {
			s.Out.Error(w, r, fmt.Errorf("server: encode answer: %w", err))
			return
		}
		b = append(b, '\n')
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b)
		http.NewResponseController(w).Flush()
		s.countUnmet(r, district, cats)
	})
}

// unmetSearch reports whether a search named a category and a place and
// found no local service: only national ones (or nothing). It returns the
// searched postcode district ("" if unknown) and the category codes, the
// only things the count keeps besides the day.
func unmetSearch(q signpost.Query, res signpost.Results) (string, []string, bool) {
	if len(q.Categories) == 0 || (strings.TrimSpace(q.Near) == "" && q.Lat == nil) {
		return "", nil, false
	}
	for _, x := range res.Results {
		if !x.National {
			return "", nil, false
		}
	}
	district := ""
	if res.Origin != nil {
		if f := strings.Fields(res.Origin.Area); len(f) > 0 {
			district = f[0]
		}
	}
	cats := make([]string, len(q.Categories))
	for i, c := range q.Categories {
		cats[i] = string(c)
	}
	return district, cats, true
}

// UnmetCountTimeout bounds counting an unmet search after the answer.
const UnmetCountTimeout = 500 * time.Millisecond

// countUnmet counts an unmet search under the area (team) covering the
// district. A failure is logged, never answered: the search is done.
func (s *Handlers) countUnmet(r *http.Request, district string, cats []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), UnmetCountTimeout)
	defer cancel()
	area := ""
	if s.Staff != nil && district != "" {
		teams, err := s.Staff.Teams(ctx)
		if err != nil {
			s.Logger.Warn("unmet search not counted", "err", err)
			return
		}
		area = records.UnmetArea(district, teams)
	}
	if err := s.Records.CountUnmetSearch(ctx, s.Now(), area, cats); err != nil {
		s.Logger.Warn("unmet search not counted", "err", err)
	}
}

// Service is GET /v1/directory/services/{id}: one service, by its
// Waymark id or its Open Referral UK id, in Open Referral UK shape as
// `waymark directory export` writes it; a confidential service without any
// address.
func (s *Handlers) Service(dir func() *signpost.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ix := Current(dir)
		if ix == nil {
			s.Out.Error(w, r, ErrNotReady)
			return
		}
		svc, ok := ix.ORUKService(r.PathValue("id")) // its Waymark id or its ORUK id
		if !ok {
			s.Out.Error(w, r, fmt.Errorf("server: directory service: %w", problem.ErrNotFound))
			return
		}
		var buf bytes.Buffer
		if err := oruk.EncodeService(&buf, svc); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		s.Out.JSON(w, r, http.StatusOK, json.RawMessage(bytes.TrimSpace(buf.Bytes())))
	})
}

// Current is the index dir returns, or nil before the first load (or
// with no directory at all).
func Current(dir func() *signpost.Index) *signpost.Index {
	if dir == nil {
		return nil
	}
	return dir()
}

// InvalidQuery turns signpost's per-parameter problems into the one
// validation error the error mapping knows (422).
func InvalidQuery(probs []signpost.FieldProblem) error {
	inv := &problem.Invalid{}
	for _, p := range probs {
		inv.Add(p.Field, p.Problem)
	}
	return inv.Err()
}

// SearchError is a search's error as the error mapping knows it: a
// refused query is 422 naming each parameter.
func SearchError(err error) error {
	var ve *signpost.ValidationError
	if errors.As(err, &ve) {
		return InvalidQuery(ve.Problems)
	}
	return err
}
