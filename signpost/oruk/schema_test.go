package oruk

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"waymark/internal/orukschema"
	"waymark/signpost"
)

// TestExportMatchesUKProfile validates the export of every shipped seed
// service — as one /services page, as single services and as list items
// — against the Open Referral UK compiled schemas (formats asserted, and
// in the strict reading that allows only the profile's properties and
// x_* extensions): zero violations.
func TestExportMatchesUKProfile(t *testing.T) {
	sch := orukschema.Load(t)
	services := allSeeds(t)
	if len(services) < 31 {
		t.Fatalf("%d seed services, want at least 31", len(services))
	}
	var page bytes.Buffer
	if err := Encode(&page, services); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range sch.Page(page.Bytes(), true) {
		t.Error(v)
		total++
	}
	for _, s := range services {
		var b bytes.Buffer
		if err := EncodeService(&b, s); err != nil {
			t.Fatal(err)
		}
		for _, v := range sch.Service(b.Bytes()) {
			t.Errorf("%s: %s", s.ID, v)
			total++
		}
	}
	var list bytes.Buffer
	if err := EncodePage(&list, services[:5], Page{Number: 2, Size: 5, Total: len(services)}, false); err != nil {
		t.Fatal(err)
	}
	for _, v := range sch.Page(list.Bytes(), false) {
		t.Error(v)
		total++
	}
	t.Logf("%d services exported, %d violations", len(services), total)
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite seed/*.json in the current export format")

// TestRewriteSeeds rewrites the seed files through the importer and
// exporter (with -update-seeds), so that they stay exactly what `waymark
// directory export` writes; the services they hold must not change.
func TestRewriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite seed/*.json")
	}
	for _, name := range []string{"national.json", "demo.json"} {
		path := filepath.Join("seed", name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		items, err := Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var services []signpost.Service
		for _, it := range items {
			if it.Err != nil {
				t.Fatalf("%s: %s: %v", name, it.ID, it.Err)
			}
			services = append(services, *it.Service)
		}
		var out bytes.Buffer
		if err := Encode(&out, services); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSeedFilesMatchUKProfile: the seed files are themselves valid Open
// Referral UK pages, so anyone can read them.
func TestSeedFilesMatchUKProfile(t *testing.T) {
	sch := orukschema.Load(t)
	for _, name := range []string{"national.json", "demo.json"} {
		b, err := os.ReadFile(filepath.Join("seed", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range sch.Page(b, true) {
			t.Errorf("%s: %s", name, v)
		}
	}
}

// officialExamples are the upstream example files, unmodified.
var officialExamples = []string{
	"uk-profile-3.0_service_full.json", "uk-profile-3.0_service_list.json",
	"hsds-3.0_service_full.json", "hsds-3.0_service_list.json",
}

// TestImportRoundTripOfficialExamples imports the UK profile's and HSDS
// 3.0's own examples, exports them again, and checks that: nothing is
// rejected; the export is valid UK profile; the service id and every
// sub-record id survive; and every value of the input is either in the
// export or named by an import warning (the field, or a parent of it).
func TestImportRoundTripOfficialExamples(t *testing.T) {
	sch := orukschema.Load(t)
	for _, name := range officialExamples {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "oruk", name))
			if err != nil {
				t.Fatal(err)
			}
			items, err := Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Err != nil {
				t.Fatalf("import: %d items, first error %v", len(items), items[0].Err)
			}
			it := items[0]
			var out bytes.Buffer
			if err := EncodeService(&out, *it.Service); err != nil {
				t.Fatal(err)
			}
			// A valid record gives a valid record: the UK example as
			// published is checked too, and its re-export must be valid.
			if strings.HasPrefix(name, "uk-profile") && strings.HasSuffix(name, "_full.json") {
				for _, v := range sch.Service(raw) {
					t.Errorf("the published example is not valid, so proves nothing: %s", v)
				}
			}
			exportViolations := sch.Service(out.Bytes())
			for _, v := range exportViolations {
				t.Errorf("export: %s", v)
			}
			t.Logf("re-exported: %d violations", len(exportViolations))

			var in any
			if err := json.Unmarshal(raw, &in); err != nil {
				t.Fatal(err)
			}
			if m, ok := in.(map[string]any); ok && m["contents"] != nil {
				in = m["contents"].([]any)[0]
			}
			var got any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.(map[string]any)["id"] != in.(map[string]any)["id"] {
				t.Errorf("id %v, want %v", got.(map[string]any)["id"], in.(map[string]any)["id"])
			}
			// Each value of the input must be matched by its own occurrence
			// in the export (a date said five times is kept five times), or
			// be named by a warning. Values no warning covers are matched
			// first, so that a copy the importer dropped with a warning (a
			// location's own phones, say) cannot stand in for one it kept.
			have := map[string]int{}
			for _, l := range leafValues("", got) {
				have[l.value]++
			}
			var warned []leaf
			lost, named := 0, 0
			for _, l := range leafValues("", in) {
				if _, ok := warnedFor(l.path, it.Warnings); ok {
					warned = append(warned, l)
					continue
				}
				if have[l.value] > 0 {
					have[l.value]--
					continue
				}
				lost++
				t.Errorf("lost without a warning: %s = %s", l.path, l.value)
			}
			for _, l := range warned {
				if have[l.value] > 0 {
					have[l.value]--
					continue
				}
				w, _ := warnedFor(l.path, it.Warnings)
				named++
				t.Logf("dropped, named: %s (%s)", l.path, w)
			}
			t.Logf("%d values in, %d dropped with a warning, %d lost unreported", len(leafValues("", in)), named, lost)
		})
	}
}

type leaf struct{ path, value string }

func leafValues(path string, v any) []leaf {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []leaf
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = append(out, leafValues(p, t[k])...)
		}
		return out
	case []any:
		var out []leaf
		for i, e := range t {
			out = append(out, leafValues(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
		return out
	case string:
		if t == "" {
			return nil
		}
		// Waymark strips the stray quotes of HSDS's example phone number
		// and writes times as HH:MM:SS: compare what the value says.
		return []leaf{{path, strings.TrimSpace(strings.Trim(t, "\""))}}
	case nil:
		return nil
	default:
		return []leaf{{path, fmt.Sprint(t)}}
	}
}

// warnedFor finds the warning naming path or one of its parents.
func warnedFor(path string, ws []signpost.FieldProblem) (signpost.FieldProblem, bool) {
	for _, w := range ws {
		if path == w.Field || strings.HasPrefix(path, w.Field+".") || strings.HasPrefix(path, w.Field+"[") {
			return w, true
		}
	}
	return signpost.FieldProblem{}, false
}
