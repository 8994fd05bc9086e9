package postcode

import "math"

// grid buckets sector centroids into cells of cellLat × cellLon degrees, so a
// nearest-sector lookup reads a handful of cells instead of 12,000 points.
// Cells are stored compactly: the points of cell c are idx[start[c]:start[c+1]].
type grid struct {
	names          []string
	pts            []Point
	minLat, minLon float64
	rows, cols     int
	start          []int32
	idx            []int32
	// minCellKm is a lower bound on the width and height of a cell in km
	// anywhere in the grid, used to stop the ring search early.
	minCellKm float64
}

const (
	cellLat = 0.05 // ≈ 5.6 km
	cellLon = 0.08 // ≈ 5.1 km at 55°N
)

func newGrid(names []string, pts []Point) grid {
	g := grid{names: names, pts: pts}
	if len(pts) == 0 {
		return g
	}
	minLat, maxLat, minLon, maxLon := pts[0].Lat, pts[0].Lat, pts[0].Lon, pts[0].Lon
	for _, p := range pts {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
	}
	g.minLat, g.minLon = minLat, minLon
	g.rows = int((maxLat-minLat)/cellLat) + 1
	g.cols = int((maxLon-minLon)/cellLon) + 1
	maxAbsLat := math.Max(math.Abs(minLat), math.Abs(maxLat))
	// 0.99: the east–west bound below is a first-order approximation.
	g.minCellKm = 0.99 * math.Min(cellLat*kmPerDegree, cellLon*kmPerDegree*math.Cos(maxAbsLat*math.Pi/180))

	counts := make([]int32, g.rows*g.cols+1)
	cells := make([]int, len(pts))
	for i, p := range pts {
		c := g.cell(p)
		cells[i] = c
		counts[c+1]++
	}
	for c := 1; c < len(counts); c++ {
		counts[c] += counts[c-1]
	}
	g.start = counts
	g.idx = make([]int32, len(pts))
	fill := make([]int32, g.rows*g.cols)
	for i, c := range cells {
		g.idx[g.start[c]+fill[c]] = int32(i)
		fill[c]++
	}
	return g
}

func (g *grid) rowCol(p Point) (int, int) {
	return int(math.Floor((p.Lat - g.minLat) / cellLat)), int(math.Floor((p.Lon - g.minLon) / cellLon))
}

func (g *grid) cell(p Point) int {
	r, c := g.rowCol(p)
	return r*g.cols + c
}

func (g *grid) nearest(p Point) (string, float64) {
	if len(g.pts) == 0 {
		return "", math.Inf(1)
	}
	r0, c0 := g.rowCol(p)
	if r0 < 0 || r0 >= g.rows || c0 < 0 || c0 >= g.cols || math.IsNaN(p.Lat) || math.IsNaN(p.Lon) {
		return g.scan(p) // outside the data's box: rare, and the ring bound would not hold
	}
	best, bestKm := -1, math.Inf(1)
	maxRing := max(g.rows, g.cols)
	for ring := 0; ring <= maxRing; ring++ {
		for r := r0 - ring; r <= r0+ring; r++ {
			if r < 0 || r >= g.rows {
				continue
			}
			edge := r == r0-ring || r == r0+ring
			for c := c0 - ring; c <= c0+ring; c++ {
				if c < 0 || c >= g.cols {
					continue
				}
				if !edge && c != c0-ring && c != c0+ring {
					c = c0 + ring - 1 // skip the inside of the ring, already read
					continue
				}
				cell := r*g.cols + c
				for _, i := range g.idx[g.start[cell]:g.start[cell+1]] {
					if km := Distance(p, g.pts[i]); km < bestKm {
						best, bestKm = int(i), km
					}
				}
			}
		}
		// Every point not yet read lies at least ring whole cells away.
		if best >= 0 && bestKm <= float64(ring)*g.minCellKm {
			break
		}
	}
	return g.names[best], bestKm
}

func (g *grid) scan(p Point) (string, float64) {
	best, bestKm := 0, math.Inf(1)
	for i, q := range g.pts {
		if km := Distance(p, q); km < bestKm {
			best, bestKm = i, km
		}
	}
	if math.IsInf(bestKm, 1) {
		return "", bestKm
	}
	return g.names[best], bestKm
}
