package postcode

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// loadOnce shares one Directory between tests in this package; Load itself
// keeps no state.
var loadOnce = sync.OnceValues(Load)

func testDirectory(t testing.TB) *Directory {
	t.Helper()
	d, err := loadOnce()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return d
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestResolveNoticeChecks(t *testing.T) {
	d := testDirectory(t)
	tests := []struct {
		in       string
		lat, lon float64
		kind     Kind
	}{
		{"SO14", 50.90776, -1.39660, District},
		{"SO14 7", 50.90796, -1.40325, Sector},
		{"SO14 7DU", 50.90796, -1.40325, Sector}, // a full postcode resolves to its sector
		{"so147du", 50.90796, -1.40325, Sector},
		{"SO14 4", 50.90776, -1.39660, District}, // no such sector: falls back to the district
		{"SO14 4ZZ", 50.90776, -1.39660, District},
	}
	for _, tt := range tests {
		a, err := ParseArea(tt.in)
		if err != nil {
			t.Fatalf("ParseArea(%q): %v", tt.in, err)
		}
		p, kind, err := d.Resolve(a)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.in, err)
			continue
		}
		if !near(p.Lat, tt.lat) || !near(p.Lon, tt.lon) || kind != tt.kind {
			t.Errorf("Resolve(%q) = %v %v, want %v,%v %v", tt.in, p, kind, tt.lat, tt.lon, tt.kind)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	d := testDirectory(t)
	tests := []struct {
		in   string
		want error
	}{
		{"BT1 5GS", ErrNorthernIreland},
		{"BT1", ErrNorthernIreland},
		{"bt48 6", ErrNorthernIreland},
		{"YY99 9ZZ", ErrUnknown},
		{"YY99", ErrUnknown},
		{"GIR 0AA", ErrUnknown},
		{"JE2 3AB", ErrUnknown}, // Channel Islands: no coordinates in the source
	}
	for _, tt := range tests {
		a, err := ParseArea(tt.in)
		if err != nil {
			t.Fatalf("ParseArea(%q): %v", tt.in, err)
		}
		if _, _, err := d.Resolve(a); !errors.Is(err, tt.want) {
			t.Errorf("Resolve(%q) error = %v, want %v", tt.in, err, tt.want)
		} else if strings.Contains(err.Error(), strings.ToUpper(tt.in)) {
			t.Errorf("Resolve(%q) error %q repeats the area", tt.in, err)
		}
	}
	if _, _, err := d.Resolve(Area{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Resolve(zero Area) error = %v, want ErrInvalid", err)
	}
}

func TestDistrictLookups(t *testing.T) {
	d := testDirectory(t)
	if p, ok := d.District(" so14 "); !ok || !near(p.Lat, 50.90776) {
		t.Errorf("District(so14) = %v, %v", p, ok)
	}
	for code, want := range map[string]bool{"SO14": true, "SO19": true, "so15": true, "EC1A": true, "SO99": false, "BT1": false, "": false} {
		if got := d.HasDistrict(code); got != want {
			t.Errorf("HasDistrict(%q) = %v, want %v", code, got, want)
		}
	}
	if p, ok := d.Sector("so147"); !ok || !near(p.Lon, -1.40325) {
		t.Errorf("Sector(so147) = %v, %v", p, ok)
	}
	if _, ok := d.Sector("SO14"); ok {
		t.Error("Sector(SO14) found a district")
	}
}

// TestDataDistrictsParse checks that every live district in the data has a
// shape ParseArea accepts, so a team area copied from the data validates.
// Retired London sub-districts (W1N, W1P, ...) and Newport's NPT predate the
// current rules and are allowed to fail.
func TestDataDistrictsParse(t *testing.T) {
	d := testDirectory(t)
	var bad []string
	for code := range d.districts {
		if a, err := ParseArea(code); err != nil || a.Kind != District || a.String() != code {
			bad = append(bad, code)
		}
	}
	retired := map[string]bool{"W1M": true, "W1N": true, "W1P": true, "W1R": true, "W1V": true, "W1X": true, "W1Y": true}
	for _, code := range bad {
		if !retired[code] {
			t.Errorf("district %q from the data does not parse", code)
		}
	}
}

func TestNearest(t *testing.T) {
	d := testDirectory(t)
	// SO14 7DU itself, per the NOTICE.
	if s, km := d.Nearest(Point{Lat: 50.90785, Lon: -1.40435}); s != "SO14 7" || km > 0.2 {
		t.Errorf("Nearest(SO14 7DU) = %q %.3f km, want SO14 7", s, km)
	}
	// Every sector's own centroid is its nearest (or a tie at distance 0).
	for name, p := range d.sectors {
		if s, km := d.Nearest(p); km != 0 {
			t.Fatalf("Nearest(centroid of %s) = %q at %.3f km", name, s, km)
		}
	}
	// Random points agree with a linear scan, inside and outside the grid.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		p := Point{Lat: 49 + rng.Float64()*13, Lon: -9 + rng.Float64()*12}
		gs, gkm := d.Nearest(p)
		ss, skm := d.grid.scan(p)
		if gs != ss && !near(gkm, skm) {
			t.Fatalf("Nearest(%v) = %q %.4f, scan says %q %.4f", p, gs, gkm, ss, skm)
		}
	}
	if s, km := (&Directory{}).Nearest(Point{}); s != "" || !math.IsInf(km, 1) {
		t.Errorf("empty Nearest = %q %v", s, km)
	}
	if s, _ := d.Nearest(Point{Lat: math.NaN(), Lon: 0}); s != "" {
		t.Errorf("Nearest(NaN) = %q", s)
	}
}

func TestDistance(t *testing.T) {
	// London (Charing Cross) to Edinburgh (Waverley): about 534 km.
	got := Distance(Point{51.5073, -0.1276}, Point{55.9520, -3.1890})
	if got < 530 || got > 538 {
		t.Errorf("Distance(London, Edinburgh) = %.1f km", got)
	}
	if got := Distance(Point{50, -1}, Point{50, -1}); got != 0 {
		t.Errorf("Distance(p, p) = %v", got)
	}
	// One degree of latitude.
	if got := Distance(Point{50, 0}, Point{51, 0}); math.Abs(got-111.195) > 0.01 {
		t.Errorf("one degree = %.3f km", got)
	}
}

func BenchmarkNearest(b *testing.B) {
	d := testDirectory(b)
	rng := rand.New(rand.NewPCG(3, 4))
	pts := make([]Point, 1024)
	for i := range pts {
		pts[i] = Point{Lat: 50.5 + rng.Float64()*4.5, Lon: -4 + rng.Float64()*5}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.Nearest(pts[i%len(pts)])
	}
}

func BenchmarkNearestLinearScan(b *testing.B) {
	d := testDirectory(b)
	p := Point{Lat: 50.9, Lon: -1.4}
	for b.Loop() {
		d.grid.scan(p)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
