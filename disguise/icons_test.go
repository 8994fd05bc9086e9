package disguise

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"testing"
)

// shape reports whether a point (in a 0..1 square) is inside it.
type shape func(x, y float64) bool

func rrect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

// tri is a triangle given by its corners.
func tri(ax, ay, bx, by, cx, cy float64) shape {
	side := func(px, py, qx, qy, x, y float64) float64 { return (qx-px)*(y-py) - (qy-py)*(x-px) }
	return func(x, y float64) bool {
		a, b, c := side(ax, ay, bx, by, x, y), side(bx, by, cx, cy, x, y), side(cx, cy, ax, ay, x, y)
		return (a >= 0 && b >= 0 && c >= 0) || (a <= 0 && b <= 0 && c <= 0)
	}
}

type layer struct {
	c color.NRGBA
	s shape
}

func hex(s string) color.NRGBA {
	var r, g, b uint8
	fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b)
	return color.NRGBA{r, g, b, 255}
}

// iconLayers draws the three icons: a dark calculator keypad, a light
// calculator on orange, and two arrows for the converter. Everything
// that matters sits inside the middle 80%, so a mask cannot cut it.
func iconLayers(n string) []layer {
	full := func(x, y float64) bool { return true }
	var ls []layer
	switch n {
	case "1":
		ls = append(ls, layer{hex("#1c1c1e"), full})
		for r := range 4 {
			for c := range 3 {
				col := hex("#5a5a5e")
				if r == 0 {
					col = hex("#a5a5a5")
				}
				if c == 2 {
					col = hex("#ff9f0a")
				}
				ls = append(ls, layer{col, circle(0.3+float64(c)*0.2, 0.24+float64(r)*0.175, 0.075)})
			}
		}
	case "2":
		ls = append(ls, layer{hex("#ff9f0a"), full},
			layer{hex("#ffffff"), rrect(0.24, 0.16, 0.76, 0.84, 0.07)},
			layer{hex("#3a3a3c"), rrect(0.3, 0.22, 0.7, 0.36, 0.03)})
		for r := range 4 {
			for c := range 3 {
				ls = append(ls, layer{hex("#8e8e93"), rrect(0.3+float64(c)*0.14, 0.42+float64(r)*0.1, 0.3+float64(c)*0.14+0.11, 0.42+float64(r)*0.1+0.07, 0.015)})
			}
		}
	default:
		ls = append(ls, layer{hex("#2e6b4f"), full},
			layer{hex("#ffffff"), rrect(0.22, 0.34, 0.66, 0.42, 0.02)},
			layer{hex("#ffffff"), tri(0.64, 0.26, 0.64, 0.5, 0.8, 0.38)},
			layer{hex("#ffffff"), rrect(0.34, 0.58, 0.78, 0.66, 0.02)},
			layer{hex("#ffffff"), tri(0.36, 0.5, 0.36, 0.74, 0.2, 0.62)})
	}
	return ls
}

// drawIcon renders icon n at size px, 4×4 samples a pixel.
func drawIcon(n string, px int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	ls := iconLayers(n)
	const ss = 4
	for y := range px {
		for x := range px {
			var r, g, b float64
			for sy := range ss {
				for sx := range ss {
					fx := (float64(x) + (float64(sx)+0.5)/ss) / float64(px)
					fy := (float64(y) + (float64(sy)+0.5)/ss) / float64(px)
					var c color.NRGBA
					for _, l := range ls {
						if l.s(fx, fy) {
							c = l.c
						}
					}
					r, g, b = r+float64(c.R), g+float64(c.G), b+float64(c.B)
				}
			}
			k := float64(ss * ss)
			img.SetNRGBA(x, y, color.NRGBA{uint8(r/k + 0.5), uint8(g/k + 0.5), uint8(b/k + 0.5), 255})
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// TestIcons checks the home-screen icons in static/a are the ones drawn
// here (pixel for pixel), and with -update draws them.
func TestIcons(t *testing.T) {
	for _, n := range icons {
		for _, s := range iconSizes {
			p := fmt.Sprintf("static/a/i%s-%d.png", n, s)
			if *update {
				if err := os.WriteFile(p, drawIcon(n, s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			gi, err := png.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if b := gi.Bounds(); b.Dx() != s || b.Dy() != s {
				t.Fatalf("%s: size %v, want %dx%d", p, b, s, s)
			}
			// Drawing the large sizes takes seconds: the small one stands
			// for them, pixel for pixel.
			if s == iconSizes[0] {
				wi, _ := png.Decode(bytes.NewReader(drawIcon(n, s)))
				for y := range s {
					for x := range s {
						if gi.At(x, y) != wi.At(x, y) {
							t.Fatalf("%s differs at %d,%d: run with -update", p, x, y)
						}
					}
				}
			}
			if w, ok := Clean(got); !ok {
				t.Errorf("%s holds %q: change the drawing a little", p, w)
			}
		}
	}
}
