package directory

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"waymark/problem"
	"waymark/signpost"
	"waymark/signpost/oruk"
)

// The Open Referral UK API (WAYMARK_ORUK_API): GET /oruk/services and GET
// /oruk/services/{id}, as the ORUK API specification defines /services and
// /services/{id}, so that other directories and tools can read Waymark's.
// It is public, as the UK profile's compliance rules ask (no key, and
// Access-Control-Allow-Origin: *), and serves only what search serves:
// active services that are not hidden, a refuge without its address.

// ORUK API paging bounds.
const (
	orukDefaultPerPage = 50
	orukMaxPerPage     = 500
)

// orukParams are the query parameters GET /oruk/services understands.
var orukParams = map[string]bool{
	"page": true, "per_page": true, "search": true, "taxonomy_term_id": true,
	"minimum_age": true, "maximum_age": true, "modified_after": true, "full": true,
	"postcode": true, "proximity": true,
}

// ORUKServices is GET /oruk/services?page=&per_page=&search=
// &taxonomy_term_id=&minimum_age=&maximum_age=&modified_after=&postcode=
// &proximity=&full=: one page of services in the ORUK page envelope, each
// item the UK profile's service_list shape (full=true: whole services).
// postcode keeps the services that serve it (signpost.Index.Covering:
// their area covers it, they are placed within proximity metres of it,
// default 25 km, or they are national services for its nation).
// Parameters of the specification Waymark does not implement
// (taxonomy_id, day, start_time, end_time, ...) are refused with 422
// rather than ignored, so a caller never mistakes an unfiltered page for a
// filtered one.
func (s *Handlers) ORUKServices(dir func() *signpost.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		ix := Current(dir)
		if ix == nil {
			s.Out.Error(w, r, ErrNotReady)
			return
		}
		q := r.URL.Query()
		inv := &problem.Invalid{}
		for name := range q {
			if !orukParams[name] {
				inv.Add(name, "not supported by this API")
			}
		}
		intParam := func(name string, def, lo, hi int) int {
			v := q.Get(name)
			if v == "" {
				return def
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				inv.Add(name, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
				return def
			}
			return n
		}
		page := intParam("page", 1, 1, 1_000_000)
		perPage := intParam("per_page", orukDefaultPerPage, 1, orukMaxPerPage)
		minAge := intParam("minimum_age", -1, 0, 130)
		maxAge := intParam("maximum_age", -1, 0, 130)
		var after time.Time
		if v := q.Get("modified_after"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				inv.Add("modified_after", "must be an RFC 3339 date-time")
			}
			after = t
		}
		full := false
		switch v := q.Get("full"); v {
		case "", "false":
		case "true":
			full = true
		default:
			inv.Add("full", "must be true or false")
		}
		search, term := strings.TrimSpace(q.Get("search")), strings.TrimSpace(q.Get("taxonomy_term_id"))
		if len(search) > signpost.MaxTextLen {
			inv.Add("search", fmt.Sprintf("longer than %d bytes", signpost.MaxTextLen))
		}
		proximity := intParam("proximity", 0, 1, signpost.MaxRadiusKm*1000)
		if proximity != 0 && q.Get("postcode") == "" {
			inv.Add("proximity", "needs postcode")
		}
		if err := inv.Err(); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		var near map[string]bool
		if pc := strings.TrimSpace(q.Get("postcode")); pc != "" {
			m, err := ix.Covering(pc, float64(proximity)/1000, s.Now())
			if err != nil {
				inv := &problem.Invalid{}
				inv.Add("postcode", "not a UK postcode, sector or district Waymark knows")
				s.Out.Error(w, r, inv.Err())
				return
			}
			near = m
		}
		keep := func(svc *signpost.Service) bool {
			e := svc.Eligibility
			switch {
			case near != nil && !near[svc.ID]:
				return false
			case search != "" && !svc.MatchesWords(search):
				return false
			case term != "" && !oruk.HasTaxonomyTerm(svc, term):
				return false
			// ORUK: services whose minimum age is at least the value, and
			// whose maximum age is at most it.
			case minAge >= 0 && e.MinAge < minAge:
				return false
			case maxAge >= 0 && (e.MaxAge == 0 || e.MaxAge > maxAge):
				return false
			case !after.IsZero():
				t, err := time.Parse(time.RFC3339Nano, svc.LastModified)
				return err == nil && !t.Before(after)
			}
			return true
		}
		services, total := ix.Select(keep, (page-1)*perPage, perPage)
		var buf bytes.Buffer
		if err := oruk.EncodePage(&buf, services, oruk.Page{Number: page, Size: perPage, Total: total}, full); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		writeORUK(w, buf.Bytes())
	})
}

// ORUKService is GET /oruk/services/{id}: one whole service in the UK
// profile's shape, by its ORUK id or its Waymark id.
func (s *Handlers) ORUKService(dir func() *signpost.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		ix := Current(dir)
		if ix == nil {
			s.Out.Error(w, r, ErrNotReady)
			return
		}
		svc, ok := ix.ORUKService(r.PathValue("id"))
		if !ok {
			s.Out.Error(w, r, fmt.Errorf("server: oruk service: %w", problem.ErrNotFound))
			return
		}
		var buf bytes.Buffer
		if err := oruk.EncodeService(&buf, svc); err != nil {
			s.Out.Error(w, r, err)
			return
		}
		writeORUK(w, buf.Bytes())
	})
}

func writeORUK(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
