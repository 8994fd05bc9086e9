package postcode

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The centroid files and their attribution travel inside the binary.
//
//go:embed data/outcode_centroids_gb.csv data/sector_centroids_gb.csv data/NOTICE.md
var dataFS embed.FS

// Attribution is the notice that must ship with any product using the
// embedded centroids (Open Government Licence v3.0).
const Attribution = "Contains OS data © Crown copyright and database right 2025. " +
	"Contains Royal Mail data © Royal Mail copyright and database right 2025. " +
	"Source: Office for National Statistics licensed under the Open Government Licence v.3.0."

var (
	// ErrUnknown reports a well-formed area that is not in the data.
	ErrUnknown = errors.New("postcode: unknown area")
	// ErrNorthernIreland reports a BT area: the ONS publishes Northern
	// Ireland postcodes under different terms, so there is no data for them.
	// Callers fall back to services for the whole nation and say why.
	ErrNorthernIreland = errors.New("postcode: no data for Northern Ireland")
)

// Point is a WGS84 position in decimal degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Directory resolves districts and sectors to their centroids and points to
// their nearest sector. It is immutable after Load and safe for concurrent
// use; the caller keeps the one it loaded.
type Directory struct {
	districts     map[string]Point
	sectors       map[string]Point
	districtOrder []string
	grid          grid
}

// Load parses the embedded centroid files. It takes a few milliseconds, so
// callers load once and share the Directory.
func Load() (*Directory, error) {
	districts, districtOrder, err := readCentroids("data/outcode_centroids_gb.csv")
	if err != nil {
		return nil, err
	}
	sectors, order, err := readCentroids("data/sector_centroids_gb.csv")
	if err != nil {
		return nil, err
	}
	d := &Directory{districts: districts, sectors: sectors}
	names := make([]string, len(order))
	pts := make([]Point, len(order))
	for i, name := range order {
		names[i], pts[i] = name, sectors[name]
	}
	d.grid = newGrid(names, pts)
	d.districtOrder = districtOrder
	return d, nil
}

func readCentroids(name string) (map[string]Point, []string, error) {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("postcode: load %s: %w", name, err)
	}
	lines := bytes.Split(raw, []byte("\n"))
	m := make(map[string]Point, len(lines))
	order := make([]string, 0, len(lines))
	for i, line := range lines {
		line = bytes.TrimSpace(line)
		if i == 0 || len(line) == 0 { // header
			continue
		}
		f := strings.Split(string(line), ",")
		if len(f) != 4 {
			return nil, nil, fmt.Errorf("postcode: load %s line %d: want 4 fields, got %d", name, i+1, len(f))
		}
		lat, err1 := strconv.ParseFloat(f[1], 64)
		lon, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
			return nil, nil, fmt.Errorf("postcode: load %s line %d: bad coordinates", name, i+1)
		}
		m[f[0]] = Point{Lat: lat, Lon: lon}
		order = append(order, f[0])
	}
	return m, order, nil
}

// Resolve returns a point for the area and the precision actually used. A
// full postcode resolves to its sector's centroid (there is no data for
// single postcodes) and a sector to its own; either falls back to its
// district's centroid when the sector is missing (new or retired sectors). A
// district resolves to its centroid. Northern Ireland gives
// ErrNorthernIreland; anything else not in the data gives ErrUnknown.
func (d *Directory) Resolve(a Area) (Point, Kind, error) {
	if a.out == "" {
		return Point{}, 0, ErrInvalid
	}
	if isNI(a.out) {
		return Point{}, 0, ErrNorthernIreland
	}
	if a.Kind == Full || a.Kind == Sector {
		if p, ok := d.sectors[a.Sector()]; ok {
			return p, Sector, nil
		}
	}
	if p, ok := d.districts[a.out]; ok {
		return p, District, nil
	}
	return Point{}, 0, ErrUnknown
}

// District returns the centroid of a postcode district such as "SO14"
// (case and surrounding space ignored).
func (d *Directory) District(code string) (Point, bool) {
	p, ok := d.districts[strings.ToUpper(strings.TrimSpace(code))]
	return p, ok
}

// HasDistrict reports whether code is a known district; team areas are
// validated with it.
func (d *Directory) HasDistrict(code string) bool {
	_, ok := d.District(code)
	return ok
}

// Sector returns the centroid of a sector such as "SO14 7" (in any case,
// with or without the space).
func (d *Directory) Sector(code string) (Point, bool) {
	a, err := ParseArea(code)
	if err != nil || a.Kind != Sector {
		return Point{}, false
	}
	p, ok := d.sectors[a.String()]
	return p, ok
}

// Nearest returns the sector whose centroid is closest to p and its distance
// in km, for describing a location without a map. It returns "" and +Inf
// for an empty directory.
func (d *Directory) Nearest(p Point) (sector string, km float64) {
	return d.grid.nearest(p)
}

// Distance returns the great-circle distance between a and b in km
// (haversine, mean Earth radius).
func Distance(a, b Point) float64 {
	const r = earthRadiusKm
	φ1, φ2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dφ := φ2 - φ1
	dλ := (b.Lon - a.Lon) * math.Pi / 180
	s1, s2 := math.Sin(dφ/2), math.Sin(dλ/2)
	h := s1*s1 + math.Cos(φ1)*math.Cos(φ2)*s2*s2
	if h > 1 {
		h = 1
	}
	return 2 * r * math.Asin(math.Sqrt(h))
}

const earthRadiusKm = 6371.0088

// kmPerDegree is the length of one degree of latitude (and of longitude at
// the equator) on the sphere Distance uses.
const kmPerDegree = earthRadiusKm * math.Pi / 180

// Districts returns every district code in the data, in file order.
func (d *Directory) Districts() []string { return append([]string(nil), d.districtOrder...) }

// Sectors returns every sector code in the data ("SO14 7"), in file order.
func (d *Directory) Sectors() []string { return append([]string(nil), d.grid.names...) }
