package signpost

import (
	"math"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"waymark/postcode"
)

// Index answers directory searches from memory. It is immutable once built
// and safe for any number of concurrent readers; when the directory changes
// the caller builds a new Index and swaps it in atomically
// (atomic.Pointer[Index]).
//
// A spatial grid keeps a search near a postcode from scanning the whole
// directory, an inverted word index serves free text, and everything a
// filter needs (category and audience bit masks, compiled hours,
// lower-cased words) is computed once here.
type Index struct {
	pc  *postcode.Directory
	hol Holidays
	loc *time.Location

	entries []entry

	grid       placeGrid          // every placed location of a local service
	byDistrict map[string][]int32 // services whose area lists a district
	radial     radialGrid         // services whose area is a circle
	local      []int32            // every local (non-national) service, most recently verified first
	byCategory [][]int32          // local services per category (in categories' order), as local
	nationals  []int32

	scratch sync.Pool // *scratch: per-search bitsets, reused

	words    []string  // sorted
	postings [][]int32 // postings[i]: entries containing words[i], ascending

	byORUK map[string]int32 // ORUK ids of services whose own id is not a UUID
}

// VacancyStale is the age after which a refuge's vacancy report is shown
// as stale: refuges report daily.
const VacancyStale = 24 * time.Hour

type entry struct {
	svc          *Service
	cats         uint32
	aud          uint16 // bits of audiences the service meets
	langs        []string
	interpreting bool
	nation       uint8 // the nation whose bank holidays apply
	served       uint8 // nations served (nationals)
	hours        compiledHours
	verified     int32 // yyyymmdd
	district     string
	points       []postcode.Point // where search places it
	area         bool             // it declares a service area
	national     bool
	name         string  // lower-cased, for a stable order
	words        []int32 // indexes into Index.words, ascending
}

// NewIndex builds an index over services. Each service is validated again
// on a copy (a record that fails is left out, and a confidential one is
// stripped of anything that could place it) so that the index never holds
// more than Validate allows whatever its caller passes. pc places districts
// and resolves query postcodes; hol gives bank holidays and Europe/London.
func NewIndex(services []Service, pc *postcode.Directory, hol Holidays) *Index {
	ix := &Index{pc: pc, hol: hol, byDistrict: map[string][]int32{}}
	loc, err := hol.location()
	if err != nil {
		loc = time.UTC // cannot happen with time/tzdata linked in
	}
	ix.loc = loc

	own := make([]Service, 0, len(services))
	for _, s := range services {
		c := cloneService(s)
		if _, err := Validate(&c); err != nil || c.Status != StatusActive {
			continue
		}
		own = append(own, c)
	}
	sort.Slice(own, func(i, j int) bool { return own[i].ID < own[j].ID })

	ix.entries = make([]entry, len(own))
	ix.byORUK = map[string]int32{}
	ix.byCategory = make([][]int32, len(categories))
	var places []placed
	words := map[string][]int32{}
	for i := range own {
		s := &own[i]
		e := ix.newEntry(s)
		ix.entries[i] = e
		id := int32(i)
		if !IsUUID(s.ID) {
			ix.byORUK[ORUKID(s.ID)] = id
		}
		if e.national {
			ix.nationals = append(ix.nationals, id)
		} else {
			ix.local = append(ix.local, id)
			for ci, c := range categories {
				if b, _ := categoryBit(c); e.cats&b != 0 {
					ix.byCategory[ci] = append(ix.byCategory[ci], id)
				}
			}
			for _, p := range e.points {
				places = append(places, placed{id: id, cats: e.cats, aud: e.aud, pt: p})
			}
			for _, d := range s.Area.Districts {
				ix.byDistrict[d] = append(ix.byDistrict[d], id)
			}
		}
		for _, w := range uniqueWords(s.Name, s.ShortName, s.Description, s.Organisation.Name) {
			words[w] = append(words[w], id)
		}
	}
	// Most recently verified first (then by id): a search with no place
	// ranks by verification and can stop early walking lists in this order.
	byVerified := func(ids []int32) {
		sort.SliceStable(ids, func(i, j int) bool { return ix.entries[ids[i]].verified > ix.entries[ids[j]].verified })
	}
	byVerified(ix.local)
	for _, l := range ix.byCategory {
		byVerified(l)
	}
	ix.grid = newPlaceGrid(places)
	ix.radial = newRadialGrid(own, ix.local)
	ix.words = make([]string, 0, len(words))
	for w := range words {
		ix.words = append(ix.words, w)
	}
	sort.Strings(ix.words)
	ix.postings = make([][]int32, len(ix.words))
	for i, w := range ix.words {
		ix.postings[i] = words[w]
		for _, id := range words[w] {
			ix.entries[id].words = append(ix.entries[id].words, int32(i)) // ascending, as i is
		}
	}
	return ix
}

// Len reports how many services the index holds.
func (ix *Index) Len() int { return len(ix.entries) }

// ORUKService returns a service by its Waymark id or its Open Referral UK
// id (ORUKID), as GET /oruk/services/{id} is asked for either.
func (ix *Index) ORUKService(id string) (Service, bool) {
	if s, ok := ix.Service(id); ok {
		return s, true
	}
	if s, ok := ix.Service(strings.ToLower(id)); ok {
		return s, true
	}
	if i, ok := ix.byORUK[strings.ToLower(id)]; ok {
		return cloneService(*ix.entries[i].svc), true
	}
	return Service{}, false
}

// Select pages through the indexed services in id order: it returns copies
// of the services keep accepts, skipping the first offset accepted and
// returning at most n, and how many keep accepted in all. keep is handed
// the index's own copy and must not change it.
func (ix *Index) Select(keep func(*Service) bool, offset, n int) ([]Service, int) {
	var out []Service
	total := 0
	for i := range ix.entries {
		s := ix.entries[i].svc
		if keep != nil && !keep(s) {
			continue
		}
		if total >= offset && len(out) < n {
			out = append(out, cloneService(*s))
		}
		total++
	}
	return out, total
}

// Service returns the indexed (validated) copy of a service by id.
func (ix *Index) Service(id string) (Service, bool) {
	i := sort.Search(len(ix.entries), func(i int) bool { return ix.entries[i].svc.ID >= id })
	if i < len(ix.entries) && ix.entries[i].svc.ID == id {
		return cloneService(*ix.entries[i].svc), true
	}
	return Service{}, false
}

func (ix *Index) newEntry(s *Service) entry {
	e := entry{svc: s, hours: compileHours(s.Hours), interpreting: s.Interpreting, name: strings.ToLower(s.Name), national: s.National()}
	for _, c := range s.Categories {
		b, _ := categoryBit(c)
		e.cats |= b
	}
	e.langs = append(e.langs, s.Languages...)
	for _, ph := range s.Phones {
		e.langs = append(e.langs, ph.Languages...)
	}
	for _, n := range s.Nations {
		e.served |= nationBit(n)
	}
	e.verified, _ = parseDate(s.LastVerified)
	e.area = !s.Area.empty()

	// Placing: a confidential service at its district's centroid; others
	// at their coordinates, or their postcode's sector, or their district.
	for _, l := range s.Locations {
		if e.district == "" {
			e.district = l.District
		}
		var pt postcode.Point
		var ok bool
		switch {
		case s.ConfidentialAddress:
			pt, ok = ix.pc.District(l.District)
		case l.Point != nil:
			pt, ok = *l.Point, true
		case l.Address != nil && l.Address.PostalCode != "":
			if pc, err := postcode.Parse(l.Address.PostalCode); err == nil {
				pt, _, err = ix.pc.Resolve(pc.Area())
				ok = err == nil
			}
		case l.District != "":
			pt, ok = ix.pc.District(l.District)
		}
		if ok {
			e.points = append(e.points, pt)
		}
	}
	if e.district == "" && len(s.Area.Districts) > 0 {
		e.district = s.Area.Districts[0]
	}
	switch {
	case e.district != "":
		e.nation = nationBit(NationOfDistrict(e.district))
	case len(s.Nations) > 0:
		e.nation = nationBit(s.Nations[0])
	}
	if e.nation == 0 && len(e.points) > 0 {
		if sector, _ := ix.pc.Nearest(e.points[0]); sector != "" {
			e.nation = nationBit(NationOfDistrict(strings.Fields(sector)[0]))
		}
	}
	e.aud = audienceBits(s)
	return e
}

func audienceBits(s *Service) uint16 {
	var b uint16
	set := func(a Audience, ok bool) {
		if ok {
			for i, x := range audiences {
				if x == a {
					b |= 1 << i
				}
			}
		}
	}
	el := s.Eligibility
	set(AudienceWomen, el.Gender != GenderMen)
	set(AudienceMen, el.Gender != GenderWomen)
	set(AudienceLGBT, s.Has(CategoryLGBT))
	set(AudienceChildren, s.Has(CategoryChildrenYoungPeople) || el.AcceptsChildren)
	set(AudienceYoungPeople, s.Has(CategoryChildrenYoungPeople) || (el.MinAge > 0 && el.MinAge <= 16))
	set(AudienceNRPF, el.NRPF)
	set(AudienceWheelchair, el.WheelchairAccess)
	deaf := false
	for _, ph := range s.Phones {
		deaf = deaf || ph.Type == PhoneText || ph.Type == PhoneTextphone || ph.Type == PhoneVideo
	}
	for _, l := range s.Languages {
		deaf = deaf || l == "bfi" || l == "sgn"
	}
	set(AudienceDeaf, deaf)
	return b
}

func audienceMask(as []Audience) uint16 {
	var m uint16
	for _, a := range as {
		for i, x := range audiences {
			if x == a {
				m |= 1 << i
			}
		}
	}
	return m
}

// uniqueWords splits text into lower-case words of letters and digits.
func uniqueWords(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, w := range tokenize(t) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// apostrophes are dropped before words are split, so that "Clare's Law"
// and "clares law" are the same words (and "men's" still starts with "men").
var apostrophes = strings.NewReplacer("'", "", "\u2019", "")

func tokenize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(apostrophes.Replace(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// wordRange is the span of ix.words that one query word matches.
type wordRange struct{ lo, hi int32 }

// textRanges reads free text into one range of indexed words per query
// word: a word of three letters or more matches as a prefix ("refug" finds
// "refuge"), a shorter one exactly. ok is false when the text has no words
// at all, meaning no text filter.
func (ix *Index) textRanges(text string) (rs []wordRange, ok bool) {
	for _, t := range tokenize(text) {
		lo := sort.SearchStrings(ix.words, t)
		hi := lo
		for hi < len(ix.words) && (ix.words[hi] == t || (len(t) >= 3 && strings.HasPrefix(ix.words[hi], t))) {
			hi++
		}
		rs = append(rs, wordRange{int32(lo), int32(hi)})
	}
	return rs, len(rs) > 0
}

// hasWords reports whether the entry has a word in every range.
func (e *entry) hasWords(rs []wordRange) bool {
	for _, r := range rs {
		i := 0
		for i < len(e.words) && e.words[i] < r.lo {
			i++
		}
		if i == len(e.words) || e.words[i] >= r.hi {
			return false
		}
	}
	return true
}

// textMatches marks the entries with a word in every range, from the
// postings, for searches with no place to narrow them first.
func (ix *Index) textMatches(rs []wordRange, sc *scratch) bitset {
	all, tok := sc.text, sc.tok
	for n, r := range rs {
		tok.clear()
		for w := r.lo; w < r.hi; w++ {
			for _, id := range ix.postings[w] {
				tok.set(id)
			}
		}
		if n == 0 {
			copy(all, tok)
		} else {
			all.and(tok)
		}
	}
	return all
}

// scratch holds a search's bitsets so that searches do not allocate them.
type scratch struct {
	seen, text, tok bitset
}

func (ix *Index) getScratch() *scratch {
	if sc, ok := ix.scratch.Get().(*scratch); ok {
		sc.seen.clear()
		return sc
	}
	n := len(ix.entries)
	return &scratch{seen: newBitset(n), text: newBitset(n), tok: newBitset(n)}
}

type bitset []uint64

func newBitset(n int) bitset      { return make(bitset, (n+63)/64) }
func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) clear()           { clear(b) }
func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}
func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (b bitset) each(f func(int32)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			f(int32(wi*64 + t))
			w &= w - 1
		}
	}
}

// placed is one position of a local service.
//
// It repeats the service's category and audience masks so that a search
// can reject most of what it reads without touching the entry.
type placed struct {
	id   int32
	cats uint32
	aud  uint16
	pt   postcode.Point
}

// geometry divides the UK's box (the same box Validate and ValidateQuery
// accept coordinates in) into cells of a fixed size in degrees.
type geometry struct {
	cellLat, cellLon float64
	rows, cols       int
	minCellKm        float64 // a lower bound on a cell's width and height anywhere in the box
}

const (
	boxLat0, boxLat1 = 49.0, 61.5
	boxLon0, boxLon1 = -11.0, 2.5
	kmPerDegLat      = 6371.0088 * math.Pi / 180
)

func newGeometry(cellLat, cellLon float64) geometry {
	return geometry{
		cellLat: cellLat, cellLon: cellLon,
		rows:      int((boxLat1-boxLat0)/cellLat) + 1,
		cols:      int((boxLon1-boxLon0)/cellLon) + 1,
		minCellKm: 0.99 * math.Min(cellLat*kmPerDegLat, cellLon*kmPerDegLat*math.Cos(boxLat1*math.Pi/180)),
	}
}

func (g geometry) row(lat float64) int {
	return clampInt(int(math.Floor((lat-boxLat0)/g.cellLat)), 0, g.rows-1)
}

func (g geometry) col(lon float64) int {
	return clampInt(int(math.Floor((lon-boxLon0)/g.cellLon)), 0, g.cols-1)
}

func (g geometry) cell(p postcode.Point) int { return g.row(p.Lat)*g.cols + g.col(p.Lon) }

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

// degreesFor returns how many degrees of latitude and longitude km spans
// around lat, generously.
func degreesFor(lat, km float64) (float64, float64) {
	dLat := km / kmPerDegLat
	return dLat, km / (kmPerDegLat * math.Max(math.Cos((math.Abs(lat)+dLat)*math.Pi/180), 0.01))
}

// placeGrid buckets placed points in cells of about 2 km, stored compactly
// (the points of cell c are items[start[c]:start[c+1]], row by row), so a
// search reads outwards ring by ring and stops once nothing nearer can be
// left.
type placeGrid struct {
	geometry
	start []int32
	items []placed
}

func newPlaceGrid(ps []placed) placeGrid {
	g := placeGrid{geometry: newGeometry(0.02, 0.03)}
	n := g.rows * g.cols
	g.start = make([]int32, n+1)
	g.items = make([]placed, len(ps))
	for _, p := range ps {
		g.start[g.cell(p.pt)+1]++
	}
	for c := 1; c <= n; c++ {
		g.start[c] += g.start[c-1]
	}
	fill := make([]int32, n)
	for _, p := range ps {
		c := g.cell(p.pt)
		g.items[g.start[c]+fill[c]] = p
		fill[c]++
	}
	return g
}

// rings calls visit for the points of the cells around o, one ring of
// cells at a time outwards, until the rings lie beyond km or done reports,
// given the least distance any point not yet visited can have, that the
// search has what it needs. visit checks exact distances itself.
func (g *placeGrid) rings(o postcode.Point, km float64, visit func([]placed), done func(minKm float64) bool) {
	r0, c0 := g.row(o.Lat), g.col(o.Lon)
	dLat, dLon := degreesFor(o.Lat, km)
	maxRing := max(int(dLat/g.cellLat), int(dLon/g.cellLon)) + 1
	for ring := 0; ring <= maxRing; ring++ {
		if ring > 0 && done(float64(ring-1)*g.minCellKm) {
			return
		}
		lo, hi := max(c0-ring, 0), min(c0+ring, g.cols-1)
		for r := r0 - ring; r <= r0+ring; r++ {
			if r < 0 || r >= g.rows {
				continue
			}
			base := r * g.cols
			if r == r0-ring || r == r0+ring {
				visit(g.items[g.start[base+lo]:g.start[base+hi+1]])
				continue
			}
			if c := c0 - ring; c >= 0 {
				visit(g.items[g.start[base+c]:g.start[base+c+1]])
			}
			if c := c0 + ring; ring > 0 && c < g.cols {
				visit(g.items[g.start[base+c]:g.start[base+c+1]])
			}
		}
	}
}

// radialGrid lists, per coarse cell, the services whose circular area
// overlaps the cell.
type radialGrid struct {
	geometry
	cells map[int][]int32
}

func newRadialGrid(svcs []Service, local []int32) radialGrid {
	g := radialGrid{geometry: newGeometry(0.1, 0.15), cells: map[int][]int32{}}
	for _, id := range local {
		a := svcs[id].Area
		if a.Centre == nil {
			continue
		}
		dLat, dLon := degreesFor(a.Centre.Lat, a.RadiusKm)
		for r := g.row(a.Centre.Lat - dLat); r <= g.row(a.Centre.Lat+dLat); r++ {
			for c := g.col(a.Centre.Lon - dLon); c <= g.col(a.Centre.Lon+dLon); c++ {
				g.cells[r*g.cols+c] = append(g.cells[r*g.cols+c], id)
			}
		}
	}
	return g
}

func (g radialGrid) at(p postcode.Point) []int32 { return g.cells[g.cell(p)] }

func cloneService(s Service) Service {
	c := s
	c.Categories = append([]Category(nil), s.Categories...)
	c.Phones = make([]Phone, len(s.Phones))
	for i, p := range s.Phones {
		p.Languages = append([]string(nil), p.Languages...)
		c.Phones[i] = p
	}
	if s.Phones == nil {
		c.Phones = nil
	}
	c.Locations = nil
	for _, l := range s.Locations {
		if l.Point != nil {
			pt := *l.Point
			l.Point = &pt
		}
		if l.Address != nil {
			a := *l.Address
			l.Address = &a
		}
		l.Accessibility = append([]Accessibility(nil), l.Accessibility...)
		c.Locations = append(c.Locations, l)
	}
	if s.Gateway != nil {
		g := *s.Gateway
		c.Gateway = &g
	}
	c.Area.Districts = append([]string(nil), s.Area.Districts...)
	if s.Area.Centre != nil {
		pt := *s.Area.Centre
		c.Area.Centre = &pt
	}
	c.Nations = append([]Nation(nil), s.Nations...)
	c.Hours.Schedules = append([]Schedule(nil), s.Hours.Schedules...)
	c.Languages = append([]string(nil), s.Languages...)
	if s.Vacancies != nil {
		v := *s.Vacancies
		c.Vacancies = &v
	}
	c.Sources = append([]string(nil), s.Sources...)
	c.Area.Records = append([]AreaRecord(nil), s.Area.Records...)
	c.Organisation.Identifiers = append([]OrgIdentifier(nil), s.Organisation.Identifiers...)
	c.Funding = append([]Funding(nil), s.Funding...)
	c.Contacts = append([]Contact(nil), s.Contacts...)
	c.Terms = append([]Term(nil), s.Terms...)
	c.CostOptions = append([]CostOption(nil), s.CostOptions...)
	for i, o := range c.CostOptions {
		if o.Amount != nil {
			a := *o.Amount
			c.CostOptions[i].Amount = &a
		}
	}
	return c
}
