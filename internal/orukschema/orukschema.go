// Package orukschema validates JSON against the Open Referral UK profile's
// compiled schemas vendored in signpost/oruk/testdata/oruk-schema (see the
// NOTICE there for their source commit and licence). Tests use it to check
// Waymark's exports and ORUK API answers; nothing in the server does.
//
// Each document is checked twice: against the schema as published, with
// formats asserted (uuid, uri, email, date-time), and against a strict
// reading in which every object may hold only the properties the profile
// defines plus local extension properties named x_* — the profile's own
// schemas do not forbid additional properties, but the profile exists to
// remove fields (service.phones, languages[].code, taxonomy_term.code...),
// and a consumer built on it will not read them.
package orukschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schemas holds the compiled UK profile schemas.
type Schemas struct {
	service, list, serviceStrict, listStrict *jsonschema.Schema
}

// Dir is where the vendored schemas are, found from this file's place in
// the module.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "signpost", "oruk", "testdata", "oruk-schema")
}

// Load compiles service.json and service_list.json, failing tb if they
// cannot be read.
func Load(tb testing.TB) *Schemas {
	tb.Helper()
	var s Schemas
	for _, x := range []struct {
		file          string
		loose, strict **jsonschema.Schema
	}{
		{"service.json", &s.service, &s.serviceStrict},
		{"service_list.json", &s.list, &s.listStrict},
	} {
		raw, err := os.ReadFile(filepath.Join(Dir(), x.file))
		if err != nil {
			tb.Fatal(err)
		}
		for _, strict := range []bool{false, true} {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				tb.Fatalf("%s: %v", x.file, err)
			}
			if strict {
				closeObjects(doc)
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft2020)
			c.AssertFormat()
			url := "https://waymark.invalid/oruk/" + x.file
			if strict {
				url += "?strict"
			}
			if err := c.AddResource(url, doc); err != nil {
				tb.Fatalf("%s: %v", x.file, err)
			}
			sch, err := c.Compile(url)
			if err != nil {
				tb.Fatalf("%s: %v", x.file, err)
			}
			if strict {
				*x.strict = sch
			} else {
				*x.loose = sch
			}
		}
	}
	return &s
}

// closeObjects makes every object schema with properties accept only
// those properties and x_* extensions.
func closeObjects(v any) {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["properties"].(map[string]any); ok {
			t["additionalProperties"] = false
			t["patternProperties"] = map[string]any{"^x_": map[string]any{}}
		}
		for _, c := range t {
			closeObjects(c)
		}
	case []any:
		for _, c := range t {
			closeObjects(c)
		}
	}
}

// Service returns the violations of one service document (JSON bytes or
// a decoded value) against service.json, loose and strict; none when it
// is valid.
func (s *Schemas) Service(doc any) []string { return violations(doc, s.service, s.serviceStrict) }

// ListItem returns the violations of one item of a /services page against
// service_list.json, loose and strict.
func (s *Schemas) ListItem(doc any) []string { return violations(doc, s.list, s.listStrict) }

// Page returns the violations of a whole /services page: its envelope
// (the paging keys the ORUK API specification defines) and each item,
// checked against service.json when full, else service_list.json.
func (s *Schemas) Page(doc []byte, full bool) []string {
	var page map[string]json.RawMessage
	if err := json.Unmarshal(doc, &page); err != nil {
		return []string{"page: " + err.Error()}
	}
	var out []string
	for _, k := range []string{"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"} {
		if _, ok := page[k]; !ok {
			out = append(out, "page: missing "+k)
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(page["contents"], &items); err != nil {
		return append(out, "page: contents: "+err.Error())
	}
	for i, it := range items {
		var v []string
		if full {
			v = s.Service(it)
		} else {
			v = s.ListItem(it)
		}
		for _, m := range v {
			out = append(out, fmt.Sprintf("contents[%d]%s", i, m))
		}
	}
	return out
}

var printer = message.NewPrinter(language.English)

func violations(doc any, schemas ...*jsonschema.Schema) []string {
	if b, ok := doc.([]byte); ok {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return []string{"not JSON: " + err.Error()}
		}
		doc = v
	} else if b, ok := doc.(json.RawMessage); ok {
		return violations([]byte(b), schemas...)
	}
	seen := map[string]bool{}
	var out []string
	for i, sch := range schemas {
		err := sch.Validate(doc)
		if err == nil {
			continue
		}
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			out = append(out, err.Error())
			continue
		}
		for _, leaf := range leaves(ve) {
			m := "/" + strings.Join(leaf.InstanceLocation, "/") + ": " + leaf.ErrorKind.LocalizedString(printer)
			if i > 0 {
				m += " (strict)"
			}
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	sort.Strings(out)
	return out
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
