package signpost

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"waymark/postcode"
)

// Results is the answer to a search: local services first, then national
// ones that fit the need, and notes saying how the query was read.
type Results struct {
	Origin  *Origin  `json:"origin,omitempty"`
	Results []Result `json:"results"`
	Notes   []string `json:"notes,omitempty"`
}

// Origin is where a search was taken from. It names an area, never the
// coordinates a caller sent.
type Origin struct {
	Area      string `json:"area"`      // "SO14 7" or "SO14"
	Precision string `json:"precision"` // "sector", "district" or "point"
	Nation    Nation `json:"nation,omitempty"`
}

// Result is one service in a search answer. It has no field for an address
// or coordinates at all: a result says which district a service is in and
// how far away it is (never for a confidential service), and the full
// public record of a non-confidential service is one lookup away.
type Result struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	ShortName         string         `json:"short_name,omitempty"`
	Organisation      string         `json:"organisation,omitempty"`
	Description       string         `json:"description,omitempty"`
	Categories        []Category     `json:"categories,omitempty"`
	RespectAccredited bool           `json:"respect_accredited,omitempty"`
	Phones            []Phone        `json:"phones,omitempty"`
	URL               string         `json:"url,omitempty"`
	Email             string         `json:"email,omitempty"`
	District          string         `json:"district,omitempty"`
	DistanceKm        *float64       `json:"distance_km,omitempty"`
	Confidential      bool           `json:"confidential_address,omitempty"`
	Gateway           *Gateway       `json:"gateway,omitempty"`
	OpenNow           bool           `json:"open_now"`
	OpenKnown         bool           `json:"open_known"`
	Hours             Hours          `json:"hours"`
	Languages         []string       `json:"languages,omitempty"`
	Interpreting      bool           `json:"interpreting,omitempty"`
	Eligibility       Eligibility    `json:"eligibility"`
	Referral          Referral       `json:"referral"`
	Vacancies         *VacancyStatus `json:"vacancies,omitempty"`
	National          bool           `json:"national,omitempty"`
	Nations           []Nation       `json:"nations,omitempty"`
	LastVerified      string         `json:"last_verified,omitempty"`
	Reverify          bool           `json:"reverify,omitempty"`
	Example           bool           `json:"example,omitempty"`
	// Alert is the service's own short-term notice ("closed this week"),
	// as its record gives it.
	Alert string   `json:"alert,omitempty"`
	Why   []string `json:"why"`
}

// VacancyStatus is a refuge's last vacancy report as a result shows it.
type VacancyStatus struct {
	Count     int       `json:"count"`
	UpdatedAt time.Time `json:"updated_at"`
	Stale     bool      `json:"stale"`
}

// Notes Search may add.
const (
	NoteNorthernIreland = "Waymark has no postcode data for Northern Ireland: showing services for Northern Ireland and the whole UK."
	NoteUnknownArea     = "Postcode area not recognised: showing national services."
	NoteNoLocal         = "No local service matched: showing national services."
)

// Search answers q at instant now. An invalid query returns a
// *ValidationError naming each bad parameter.
//
// Local services within the radius (or whose service area covers the
// origin) are ranked by distance (to 0.1 km, as shown), then open now,
// then most recently verified; confidential services rank by their
// district centroid and show no distance. When fewer than Limit local
// services match, national services that fit the need follow, ordered by
// open now, a direct category match, how many of the asked categories
// they match, general domestic-abuse lines, then most recently verified. A query with no place ranks every local service
// by open now and verification.
func (ix *Index) Search(q Query, now time.Time) (Results, error) {
	if probs := ValidateQuery(q); len(probs) > 0 {
		return Results{}, queryError(probs)
	}
	q = q.withDefaults()
	q, reading := q.interpret()
	s := searcher{ix: ix, q: q, clock: clockAt(now, ix.loc, ix.hol), now: now, limit: q.Limit}
	s.cats = maskOf(q.Categories)
	s.aud = audienceMask(q.Audience)
	sc := ix.getScratch()
	defer ix.scratch.Put(sc)
	s.seen = sc.seen
	s.words, s.hasText = ix.textRanges(q.Text)
	s.scratch = sc
	var res Results
	if reading != "" {
		res.Notes = append(res.Notes, reading)
	}
	s.resolve(&res)
	switch {
	case s.hasPoint:
		s.searchNear()
	case s.district != "": // Northern Ireland: only services that list the district
		for _, id := range ix.byDistrict[s.district] {
			s.consider(id, -1, true)
		}
	case !s.placeGiven:
		s.searchEverywhere()
	}
	res.Results = make([]Result, 0, q.Limit)
	for _, c := range s.top {
		res.Results = append(res.Results, s.result(c))
	}
	if len(res.Results) < q.Limit {
		if len(res.Results) == 0 && s.hasPoint {
			res.Notes = append(res.Notes, NoteNoLocal)
		}
		for _, c := range s.nationalsFor() {
			if len(res.Results) == q.Limit {
				break
			}
			res.Results = append(res.Results, s.result(c))
		}
	}
	return res, nil
}

type searcher struct {
	ix    *Index
	q     Query
	clock clock
	now   time.Time
	limit int

	cats    uint32
	aud     uint16
	hasText bool        // a text filter applies
	words   []wordRange // what each query word matches
	scratch *scratch

	placeGiven bool
	hasPoint   bool
	origin     postcode.Point
	district   string // origin's district, "" when unknown
	nation     uint8  // origin's nation, 0 when unknown

	seen bitset
	top  []cand // best first, at most limit
}

type cand struct {
	id      int32
	dist    float64 // km to the nearest placement; -1 when none
	rankKm  int64   // dist in tenths of a km for ranking; 0 without a place
	open    bool
	known   bool
	covers  bool
	catsHit uint32
	viaDA   bool // a national general line offered for a specific need
}

// resolve reads the query's place.
func (s *searcher) resolve(res *Results) {
	q := s.q
	switch {
	case strings.TrimSpace(q.Near) != "":
		s.placeGiven = true
		area, _ := postcode.ParseArea(q.Near) // validated already
		pt, kind, err := s.ix.pc.Resolve(area)
		switch {
		case errors.Is(err, postcode.ErrNorthernIreland):
			s.district, s.nation = area.District(), nationBit(NorthernIreland)
			res.Origin = &Origin{Area: area.District(), Precision: "district", Nation: NorthernIreland}
			res.Notes = append(res.Notes, NoteNorthernIreland)
		case err != nil:
			res.Notes = append(res.Notes, NoteUnknownArea)
		default:
			s.hasPoint, s.origin, s.district = true, pt, area.District()
			n := NationOfDistrict(s.district)
			s.nation = nationBit(n)
			shown := area.District()
			if kind == postcode.Sector {
				shown = area.Sector()
			}
			res.Origin = &Origin{Area: shown, Precision: kind.String(), Nation: n}
		}
	case q.Lat != nil && q.Lon != nil:
		s.placeGiven, s.hasPoint = true, true
		s.origin = postcode.Point{Lat: *q.Lat, Lon: *q.Lon}
		if sector, _ := s.ix.pc.Nearest(s.origin); sector != "" {
			s.district = strings.Fields(sector)[0]
			n := NationOfDistrict(s.district)
			s.nation = nationBit(n)
			res.Origin = &Origin{Area: sector, Precision: "point", Nation: n}
		}
	}
}

// searchEverywhere ranks every local service that passes the filters, when
// the query names no place: by open now, then most recently verified. It
// walks a list that holds every match — the text matches when they are
// few, else the one category asked for, else all local services — and the
// lists in verification order stop as soon as the results are full of
// open services, since nothing later can rank higher.
func (s *searcher) searchEverywhere() {
	ix := s.ix
	if s.hasText {
		if matched := ix.textMatches(s.words, s.scratch); matched.count() <= 4096 {
			matched.each(func(id int32) {
				if !ix.entries[id].national {
					s.consider(id, -1, false)
				}
			})
			return
		}
	}
	list := ix.local
	if bits.OnesCount32(s.cats) == 1 {
		list = ix.byCategory[bits.TrailingZeros32(s.cats)]
	}
	for _, id := range list {
		if len(s.top) == s.limit && s.top[len(s.top)-1].open {
			return
		}
		s.consider(id, -1, false)
	}
}

// searchNear collects services covering the origin, then those placed
// within the radius.
func (s *searcher) searchNear() {
	ix := s.ix
	for _, id := range ix.byDistrict[s.district] {
		s.consider(id, s.nearestKm(id), true)
	}
	for _, id := range ix.radial.at(s.origin) {
		if s.coversOrigin(id) {
			s.consider(id, s.nearestKm(id), true)
		}
	}
	radius := s.q.RadiusKm
	// Selective text: check the few services it matches rather than every
	// service in the radius.
	if s.hasText {
		if matched := ix.textMatches(s.words, s.scratch); matched.count() <= 4096 {
			matched.each(func(id int32) {
				e := &ix.entries[id]
				if e.national || e.area || s.seen.has(id) {
					return // covering services were considered above
				}
				if d := s.nearestKm(id); d >= 0 && d <= radius {
					s.consider(id, d, false)
				}
			})
			return
		}
	}
	dLat, dLon := degreesFor(s.origin.Lat, radius)
	cosLat := math.Cos(s.origin.Lat * math.Pi / 180)
	ix.grid.rings(s.origin, radius, func(ps []placed) {
		for i := range ps {
			p := &ps[i]
			if (s.cats != 0 && p.cats&s.cats == 0) || p.aud&s.aud != s.aud {
				continue
			}
			if s.seen.has(p.id) || math.Abs(p.pt.Lat-s.origin.Lat) > dLat || math.Abs(p.pt.Lon-s.origin.Lon) > dLon {
				continue
			}
			e := &ix.entries[p.id]
			if !s.matches(e) {
				s.seen.set(p.id)
				continue
			}
			// A flat-earth estimate (good to well under 1% at these
			// distances) rejects most points before the exact distance.
			dy := (p.pt.Lat - s.origin.Lat) * kmPerDegLat
			dx := (p.pt.Lon - s.origin.Lon) * kmPerDegLat * cosLat
			est := math.Sqrt(dx*dx+dy*dy) * 0.99
			if est > radius || (len(s.top) == s.limit && int64(est*10) > s.top[len(s.top)-1].rankKm) {
				continue // another of its places may be nearer
			}
			d := postcode.Distance(s.origin, p.pt)
			if d > radius {
				continue
			}
			if e.area && !s.coversOrigin(p.id) {
				s.seen.set(p.id) // it does not take people from here
				continue
			}
			if len(e.points) > 1 {
				d = s.nearestKm(p.id)
			}
			s.consider(p.id, d, false)
		}
	}, func(minKm float64) bool {
		if minKm > radius {
			return true
		}
		// Full, and the worst kept is nearer than anything left.
		return len(s.top) == s.limit && float64(s.top[len(s.top)-1].rankKm)/10+0.05 < minKm
	})
}

func (s *searcher) nearestKm(id int32) float64 {
	best := -1.0
	for _, p := range s.ix.entries[id].points {
		if d := postcode.Distance(s.origin, p); best < 0 || d < best {
			best = d
		}
	}
	return best
}

func (s *searcher) coversOrigin(id int32) bool {
	a := s.ix.entries[id].svc.Area
	for _, d := range a.Districts {
		if d == s.district {
			return true
		}
	}
	return a.Centre != nil && s.hasPoint && postcode.Distance(*a.Centre, s.origin) <= a.RadiusKm
}

// matches applies the filters that do not depend on the clock.
func (s *searcher) matches(e *entry) bool {
	if s.cats != 0 && e.cats&s.cats == 0 {
		return false
	}
	if e.aud&s.aud != s.aud {
		return false
	}
	if s.q.Language != "" && !e.speaks(s.q.Language) {
		return false
	}
	return !s.hasText || e.hasWords(s.words)
}

func (e *entry) speaks(lang string) bool {
	if lang == "en" || e.interpreting {
		return true
	}
	for _, l := range e.langs {
		if l == lang {
			return true
		}
	}
	return false
}

func (s *searcher) consider(id int32, dist float64, covers bool) {
	if s.seen.has(id) {
		return
	}
	s.seen.set(id)
	e := &s.ix.entries[id]
	if !s.matches(e) {
		return
	}
	c := cand{id: id, dist: dist, covers: covers}
	if dist > 0 {
		c.rankKm = int64(math.Round(dist * 10))
	}
	// Skip the clock when this one cannot make the list anyway: it is
	// further than the worst kept, or as far but verified no later than a
	// worst kept that is open.
	if len(s.top) == s.limit {
		w := s.top[len(s.top)-1]
		wv := s.ix.entries[w.id].verified
		if c.rankKm > w.rankKm || (c.rankKm == w.rankKm && w.open && (e.verified < wv || (e.verified == wv && id > w.id))) {
			return
		}
	}
	c.open, c.known = e.hours.openAt(s.clock, s.nationFor(e))
	if s.q.OpenNow && !c.open {
		return
	}
	s.insert(c)
}

// nationFor picks whose bank holidays apply: a national service's answer
// is given for the searcher's nation when it serves it.
func (s *searcher) nationFor(e *entry) uint8 {
	if e.served&s.nation != 0 {
		return s.nation
	}
	if e.nation != 0 {
		return e.nation
	}
	if s.nation != 0 {
		return s.nation
	}
	return nationBit(England)
}

func (s *searcher) less(a, b cand) bool {
	if a.rankKm != b.rankKm {
		return a.rankKm < b.rankKm
	}
	if a.open != b.open {
		return a.open
	}
	ea, eb := &s.ix.entries[a.id], &s.ix.entries[b.id]
	if ea.verified != eb.verified {
		return ea.verified > eb.verified
	}
	return a.id < b.id // entries are in id order: stable
}

func (s *searcher) insert(c cand) {
	n := len(s.top)
	if n == s.limit && !s.less(c, s.top[n-1]) {
		return
	}
	i := sort.Search(n, func(i int) bool { return s.less(c, s.top[i]) })
	if n < s.limit {
		s.top = append(s.top, cand{})
	}
	copy(s.top[i+1:], s.top[i:len(s.top)-1])
	s.top[i] = c
}

// daFallback are the needs a general domestic-abuse helpline (one in both
// CategoryHelpline and CategoryDomesticAbuse) can refer on for when no
// local service matched. Never mutated.
var daFallback = []Category{CategoryRefuge, CategoryIDVAISVA, CategoryOutreach, CategorySanctuaryScheme, CategoryLegal, CategoryHousing}

func maskOf(cats []Category) uint32 {
	var m uint32
	for _, c := range cats {
		b, _ := categoryBit(c)
		m |= b
	}
	return m
}

func (s *searcher) nationalsFor() []cand {
	var out []cand
	daBit, _ := categoryBit(CategoryDomesticAbuse)
	daLine := maskOf([]Category{CategoryHelpline, CategoryDomesticAbuse})
	fallback := maskOf(daFallback)
	for _, id := range s.ix.nationals {
		e := &s.ix.entries[id]
		if s.nation != 0 && e.served&s.nation == 0 {
			continue
		}
		c := cand{id: id, dist: -1, catsHit: e.cats & s.cats}
		if s.cats != 0 && c.catsHit == 0 {
			if e.cats&daLine != daLine || s.cats&fallback == 0 {
				continue
			}
			c.viaDA = true
		}
		if e.aud&s.aud != s.aud || (s.q.Language != "" && !e.speaks(s.q.Language)) || (s.hasText && !e.hasWords(s.words)) {
			continue
		}
		c.open, c.known = e.hours.openAt(s.clock, s.nationFor(e))
		if s.q.OpenNow && !c.open {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.open != b.open {
			return a.open
		}
		if a.viaDA != b.viaDA {
			return !a.viaDA
		}
		// More of the asked categories first: for "men", the Men's Advice
		// Line (male victims and domestic abuse) before a general scheme.
		if na, nb := bits.OnesCount32(a.catsHit), bits.OnesCount32(b.catsHit); na != nb {
			return na > nb
		}
		ea, eb := &s.ix.entries[a.id], &s.ix.entries[b.id]
		if da, db := ea.cats&daBit != 0, eb.cats&daBit != 0; da != db {
			return da
		}
		if ea.verified != eb.verified {
			return ea.verified > eb.verified
		}
		return ea.name < eb.name
	})
	return out
}

// result builds the public view of a candidate. For a confidential service
// it reads only the district, the gateway and public descriptive fields.
func (s *searcher) result(c cand) Result {
	e := &s.ix.entries[c.id]
	svc := e.svc
	r := Result{
		ID: svc.ID, Name: svc.Name, ShortName: svc.ShortName, Organisation: svc.Organisation.Name,
		Description: svc.Description, Categories: slices.Clone(svc.Categories), RespectAccredited: svc.RespectAccredited,
		URL: svc.URL, Email: svc.Email, District: e.district,
		Confidential: svc.ConfidentialAddress, OpenNow: c.open, OpenKnown: c.known,
		Hours: svc.Hours, Languages: slices.Clone(svc.Languages), Interpreting: svc.Interpreting,
		Eligibility: svc.Eligibility, Referral: svc.Referral,
		National: svc.National(), Nations: slices.Clone(svc.Nations),
		LastVerified: svc.LastVerified, Reverify: svc.Reverify, Example: svc.Example, Alert: svc.Alert,
	}
	// Copies, so that no caller can change the shared index.
	r.Hours.Schedules = slices.Clone(svc.Hours.Schedules)
	for _, ph := range svc.Phones {
		ph.Languages = slices.Clone(ph.Languages)
		r.Phones = append(r.Phones, ph)
	}
	if svc.Gateway != nil {
		g := *svc.Gateway
		r.Gateway = &g
	}
	if c.dist >= 0 && !svc.ConfidentialAddress {
		d := math.Round(c.dist*10) / 10
		r.DistanceKm = &d
	}
	if v := svc.Vacancies; v != nil {
		r.Vacancies = &VacancyStatus{Count: v.Count, UpdatedAt: v.UpdatedAt, Stale: s.now.Sub(v.UpdatedAt) > VacancyStale}
	}
	r.Why = s.why(c, e)
	return r
}

func (s *searcher) why(c cand, e *entry) []string {
	var why []string
	for _, cat := range s.q.Categories {
		if b, _ := categoryBit(cat); e.cats&b != 0 {
			why = append(why, "category:"+string(cat))
		}
	}
	if c.viaDA {
		why = append(why, "national domestic-abuse line: can refer on")
	}
	svc := e.svc
	switch {
	case svc.National():
		why = append(why, "national service")
	case svc.ConfidentialAddress && e.district != "":
		why = append(why, "in "+e.district+" (address confidential)")
	case c.dist >= 0 && s.hasPoint:
		why = append(why, fmt.Sprintf("within %.1f km", c.dist))
	}
	if c.covers && s.district != "" {
		why = append(why, "covers "+s.district)
	}
	if l := s.q.Language; l != "" && l != "en" {
		spoken := false
		for _, x := range e.langs {
			spoken = spoken || x == l
		}
		if spoken {
			why = append(why, "speaks "+l)
		} else if e.interpreting {
			why = append(why, "interpreting available")
		}
	}
	for _, a := range s.q.Audience {
		why = append(why, "audience:"+string(a))
	}
	if s.q.OpenNow {
		why = append(why, "open now")
	}
	if s.hasText {
		why = append(why, "matches text")
	}
	return why
}

// Covering returns the ids of the services that serve near (a postcode,
// sector or district): local ones whose service area covers it or that are
// placed within radiusKm of it (0: DefaultRadiusKm), and national ones
// serving its nation. It answers the ORUK API's postcode and proximity
// filters, which page through every match rather than rank the best few.
func (ix *Index) Covering(near string, radiusKm float64, now time.Time) (map[string]bool, error) {
	q := Query{Near: near, RadiusKm: radiusKm}
	if probs := ValidateQuery(q); len(probs) > 0 {
		return nil, queryError(probs)
	}
	q = q.withDefaults()
	s := searcher{ix: ix, q: q, clock: clockAt(now, ix.loc, ix.hol), now: now, limit: len(ix.entries) + 1}
	sc := ix.getScratch()
	defer ix.scratch.Put(sc)
	s.seen, s.scratch = sc.seen, sc
	var res Results
	s.resolve(&res)
	switch {
	case s.hasPoint:
		s.searchNear()
	case s.district != "":
		for _, id := range ix.byDistrict[s.district] {
			s.consider(id, -1, true)
		}
	default:
		return nil, queryError([]FieldProblem{{Field: "near", Problem: "not a postcode area Waymark knows"}})
	}
	out := make(map[string]bool, len(s.top))
	for _, c := range s.top {
		out[ix.entries[c.id].svc.ID] = true
	}
	for _, id := range ix.nationals {
		if e := &ix.entries[id]; e.served&s.nation != 0 {
			out[e.svc.ID] = true
		}
	}
	return out, nil
}
