package benchlab

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRampSVG writes a ramp chart and reads it back as XML: one series
// per target, each with a p99 and a p50 line through every step.
func TestRampSVG(t *testing.T) {
	rep := func(name string, p99 ...float64) *benchReport {
		r := &benchReport{Target: name}
		for i, v := range p99 {
			r.Steps = append(r.Steps, stepResult{Rate: float64(500 * (i + 1)), P50: v / 3, P99: v})
		}
		return r
	}
	wm, fl, dfl := rep("waymark", 2, 5, 140), rep("floor", 0.6, 1, 2, 4), rep("durable", 1, 3, 60)
	wm.Steps[2].Lost = 1
	path := filepath.Join(t.TempDir(), "ramp.svg")
	if err := writeRampSVG(path, wm, fl, dfl, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	var series []string
	lines := map[string]int{}
	cur, root := "", ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch {
		case se.Name.Local == "g" && attr["class"] == "series":
			cur = attr["data-target"]
			series = append(series, cur)
		case se.Name.Local == "polyline":
			lines[cur+"/"+attr["class"]]++
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	if want := []string{"waymark", "durable", "floor"}; !slices.Equal(series, want) {
		t.Fatalf("series %v, want %v", series, want)
	}
	for _, s := range series {
		if lines[s+"/p99"] != 1 || lines[s+"/p50"] != 1 {
			t.Errorf("series %s: lines %v, want one p99 and one p50", s, lines)
		}
	}
	if !bytes.Contains(b, []byte(`fill="white"`)) {
		t.Error("the lossy step is not marked")
	}
}
