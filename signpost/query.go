package signpost

import (
	"math"
	"strconv"
	"strings"

	"waymark/postcode"
)

// Query is a directory search. Every filter given must hold; within
// Categories any one is enough, and every Audience must be met.
type Query struct {
	Near       string   // a postcode, sector or district
	Lat, Lon   *float64 // a point, instead of Near
	RadiusKm   float64  // 0: DefaultRadiusKm
	Categories []Category
	Language   string // ISO 639 code
	Audience   []Audience
	OpenNow    bool
	Text       string // words matched, case-insensitively, against name, description and organisation
	Limit      int    // 0: DefaultLimit
}

// Query bounds.
const (
	DefaultRadiusKm = 25
	MaxRadiusKm     = 200
	DefaultLimit    = 10
	MaxLimit        = 50
	MaxTextLen      = 200
)

// queryParams are the HTTP query-string names, which FieldProblem.Field
// uses for queries.
var queryParams = []string{"near", "lat", "lon", "radius_km", "category", "language", "audience", "open_now", "q", "limit"}

// ValidateQuery returns a problem per bad parameter, named as in the HTTP
// query string (near, lat, lon, radius_km, category, language, audience,
// open_now, q, limit).
func ValidateQuery(q Query) []FieldProblem {
	var p problems
	validateQuery(&p, q)
	return p.hard
}

func validateQuery(p *problems, q Query) {
	if strings.TrimSpace(q.Near) != "" {
		if _, err := postcode.ParseArea(q.Near); err != nil {
			p.fail("near", "not a UK postcode, sector or district")
		}
		if q.Lat != nil || q.Lon != nil {
			p.fail("near", "give near or lat and lon, not both")
		}
	}
	switch {
	case q.Lat != nil && q.Lon == nil:
		p.fail("lon", "required with lat")
	case q.Lon != nil && q.Lat == nil:
		p.fail("lat", "required with lon")
	}
	if q.Lat != nil && (math.IsNaN(*q.Lat) || *q.Lat < 49 || *q.Lat > 61.5) {
		p.fail("lat", "must be between 49 and 61.5 (the UK)")
	}
	if q.Lon != nil && (math.IsNaN(*q.Lon) || *q.Lon < -11 || *q.Lon > 2.5) {
		p.fail("lon", "must be between -11 and 2.5 (the UK)")
	}
	if math.IsNaN(q.RadiusKm) || q.RadiusKm < 0 || q.RadiusKm > MaxRadiusKm {
		p.fail("radius_km", "must be between 0 and %d", MaxRadiusKm)
	}
	for _, c := range q.Categories {
		if _, ok := categoryBit(c); !ok {
			p.fail("category", "unknown category; use one of %s", joinCategories())
			break
		}
	}
	if q.Language != "" && !ValidLanguage(strings.ToLower(strings.TrimSpace(q.Language))) {
		p.fail("language", "not an ISO 639 language code")
	}
	for _, a := range q.Audience {
		if !validAudience(a) {
			p.fail("audience", "unknown audience; use one of %s", joinAudiences())
			break
		}
	}
	if len(q.Text) > MaxTextLen {
		p.fail("q", "longer than %d bytes", MaxTextLen)
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		p.fail("limit", "must be between 1 and %d", MaxLimit)
	}
}

func joinCategories() string {
	s := make([]string, len(categories))
	for i, c := range categories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func joinAudiences() string {
	s := make([]string, len(audiences))
	for i, a := range audiences {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// ParseQuery reads a query from URL query values (as net/url.Values holds
// them). Lists may be repeated or comma-separated (category=refuge,outreach).
// Unknown parameters are problems too, so that a misspelt filter is not
// silently ignored. A nil problem list means the Query is valid.
func ParseQuery(v map[string][]string) (Query, []FieldProblem) {
	var q Query
	var p problems
	for name := range v {
		known := false
		for _, k := range queryParams {
			known = known || k == name
		}
		if !known {
			p.fail(name, "unknown parameter")
		}
	}
	one := func(name string) string {
		vals := v[name]
		if len(vals) > 1 {
			p.fail(name, "given more than once")
		}
		if len(vals) == 0 {
			return ""
		}
		return strings.TrimSpace(vals[0])
	}
	list := func(name string) []string {
		var out []string
		for _, val := range v[name] {
			for _, f := range strings.Split(val, ",") {
				if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
					out = append(out, f)
				}
			}
		}
		return out
	}
	float := func(name string) *float64 {
		s := one(name)
		if s == "" {
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			p.fail(name, "not a number")
			return nil
		}
		return &f
	}
	q.Near = one("near")
	q.Lat, q.Lon = float("lat"), float("lon")
	if r := float("radius_km"); r != nil {
		q.RadiusKm = *r
		if *r == 0 {
			p.fail("radius_km", "must be between 0 and %d", MaxRadiusKm)
		}
	}
	for _, c := range list("category") {
		cat, ok := ParseCategory(c)
		if !ok {
			cat = Category(c) // reported by validateQuery
		}
		q.Categories = append(q.Categories, cat)
	}
	q.Language = strings.ToLower(one("language"))
	for _, a := range list("audience") {
		q.Audience = append(q.Audience, Audience(a))
	}
	switch s := strings.ToLower(one("open_now")); s {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		q.OpenNow = true
	default:
		p.fail("open_now", "must be true or false")
	}
	q.Text = one("q")
	if s := one("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			p.fail("limit", "not a whole number")
		case n == 0:
			p.fail("limit", "must be between 1 and %d", MaxLimit)
		default:
			q.Limit = n
		}
	}
	validateQuery(&p, q)
	return q, dedupeProblems(p.hard)
}

// dedupeProblems keeps the first problem of each parameter: the later
// ones usually follow from it ("lat: not a number" makes lon look alone).
func dedupeProblems(in []FieldProblem) []FieldProblem {
	var out []FieldProblem
	seen := map[string]bool{}
	for _, f := range in {
		if !seen[f.Field] {
			seen[f.Field] = true
			out = append(out, f)
		}
	}
	return out
}

// queryError is what Search returns for an invalid query: a
// *ValidationError the server maps to 422 with its problems.
func queryError(probs []FieldProblem) error {
	return &ValidationError{What: "query", Problems: probs}
}

func (q Query) withDefaults() Query {
	if q.RadiusKm == 0 {
		q.RadiusKm = DefaultRadiusKm
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	q.Language = strings.ToLower(strings.TrimSpace(q.Language))
	return q
}
