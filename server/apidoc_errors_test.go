package server

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAPIDocErrorBodies: docs/api.yaml documents what every error answer
// carries ({error, request_id}, as errors.go writes it), the 413 and 415
// of every route with a JSON body, the 401 of every route that needs a
// session or device token, the WebSocket's refused handshakes, a body for
// every 2xx answer but 204, and a security requirement on every operation
// (an empty list for the public ones); and every schema's required names
// are properties it has (a YAML 1.1 tool once turned the Duty frame's "on"
// into true).
func TestAPIDocErrorBodies(t *testing.T) {
	raw, err := os.ReadFile("../docs/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/api.yaml does not parse: %v", err)
	}
	components, _ := doc["components"].(map[string]any)
	responses, _ := components["responses"].(map[string]any)
	resolve := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			m, _ = responses[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
		}
		return m
	}
	paths, _ := doc["paths"].(map[string]any)
	for p, v := range paths {
		ops, _ := v.(map[string]any)
		for method, v := range ops {
			if !slices.Contains([]string{"get", "post", "put", "patch", "delete"}, method) {
				continue
			}
			op, _ := v.(map[string]any)
			name := strings.ToUpper(method) + " " + p
			if _, ok := op["security"]; !ok {
				t.Errorf("%s: no security (use [] for a public route)", name)
			}
			rs, _ := op["responses"].(map[string]any)
			if body, _ := op["requestBody"].(map[string]any); body != nil {
				content, _ := body["content"].(map[string]any)
				if _, ok := content["application/json"]; ok {
					// respond.Decode answers both, on every JSON route.
					for _, code := range []string{"413", "415"} {
						if rs[code] == nil {
							t.Errorf("%s takes JSON but documents no %s", name, code)
						}
					}
				}
			}
			if needsCredential(op["security"]) && rs["401"] == nil {
				t.Errorf("%s needs a session or device token but documents no 401", name)
			}
			for code, r := range rs {
				if n, _ := strconv.Atoi(code); n >= 200 && n < 300 && n != 204 && resolve(r)["content"] == nil {
					t.Errorf("%s: %s documents no content", name, code)
				}
			}
			for code, r := range rs {
				if n, _ := strconv.Atoi(code); n < 400 {
					continue
				}
				content, _ := resolve(r)["content"].(map[string]any)
				js, _ := content["application/json"].(map[string]any)
				want := "map[$ref:#/components/schemas/Error]"
				if p == "/readyz" {
					want = "map[$ref:#/components/schemas/Readiness]" // {"status":"unavailable"}
				}
				if fmt.Sprint(js["schema"]) != want {
					t.Errorf("%s: %s documents no Error body", name, code)
				}
			}
		}
	}
	// A refused WebSocket handshake answers with the error body too
	// (server.refuseSocket): not a WebSocket request, a foreign Origin, a
	// hub that is not running.
	ws, _ := paths["/v1/ws"].(map[string]any)
	wsGet, _ := ws["get"].(map[string]any)
	wsResponses, _ := wsGet["responses"].(map[string]any)
	for _, code := range []string{"400", "403", "503"} {
		if wsResponses[code] == nil {
			t.Errorf("GET /v1/ws documents no %s", code)
		}
	}
	schemas, _ := components["schemas"].(map[string]any)
	for name, v := range schemas {
		s, _ := v.(map[string]any)
		if s["properties"] == nil {
			continue
		}
		props, ok := s["properties"].(map[string]any)
		if !ok {
			t.Errorf("schema %s: a property name is not a string", name)
			continue
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			k, isString := r.(string)
			if _, has := props[k]; !isString || !has {
				t.Errorf("schema %s requires %v (%T), which is not one of its properties", name, r, r)
			}
		}
	}
}

// needsCredential reports whether an operation's security holds only
// session or device requirements (no empty alternative): such a route
// answers 401 without one. Twilio's signature is refused with 403.
func needsCredential(security any) bool {
	reqs, _ := security.([]any)
	if len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		m, _ := r.(map[string]any)
		if m["session"] == nil && m["device"] == nil {
			return false
		}
	}
	return true
}
