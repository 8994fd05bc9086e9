package server

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAPIDocMatchesRoutes keeps docs/api.yaml honest: it parses, every
// $ref resolves inside it, no value is an accidental null (a description
// with a comma that YAML read as a mapping), and it documents exactly the
// API routes that routes.go serves (the dashboard's static files aside).
func TestAPIDocMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("../docs/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/api.yaml does not parse: %v", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("docs/api.yaml: null at %s", path)
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					ref, _ := c.(string)
					if !resolves(doc, ref) {
						t.Errorf("docs/api.yaml: %s: $ref %q does not resolve", path, ref)
					}
					continue
				}
				walk(path+"/"+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path+"[]", c)
			}
		}
	}
	walk("", doc)

	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	for _, m := range regexp.MustCompile(`s\.handle\(mux, "(\w+) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		// The dashboard's own pages and files are not API.
		if !slices.Contains([]string{"/{$}", "/setup", "/sw.js", "/assets/"}, m[2]) {
			routed = append(routed, m[1]+" "+m[2])
		}
	}
	var documented []string
	paths, _ := doc["paths"].(map[string]any)
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete"}, m) {
				documented = append(documented, strings.ToUpper(m)+" "+p)
			}
		}
	}
	if len(routed) < 40 {
		t.Fatalf("found only %d routes in routes.go: has its shape changed?", len(routed))
	}
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in docs/api.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("docs/api.yaml documents %s, which routes.go does not serve", d)
		}
	}
}

// resolves reports whether a local $ref ("#/a/b") names a node of doc.
func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var node any = doc
	for part := range strings.SplitSeq(rest, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return false
		}
		if node, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
