package httpapi_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// spec checks responses against the schemas of openapi.json: required
// properties are present, no property is undocumented, types match.
type spec struct {
	Paths      map[string]map[string]any
	Components struct {
		Schemas map[string]schema
	}
}

type schema struct {
	Ref        string `json:"$ref"`
	Type       string
	Required   []string
	Properties map[string]schema
	Items      *schema
	Enum       []any
}

func loadSpec(t *testing.T) spec {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return s
}

func (s spec) check(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, err := range s.walk(name, schema{Ref: "#/components/schemas/" + name}, v) {
		t.Errorf("response does not match schema %s: %s", name, err)
	}
}

func (s spec) walk(at string, sc schema, v any) []string {
	if sc.Ref != "" {
		sc = s.Components.Schemas[strings.TrimPrefix(sc.Ref, "#/components/schemas/")]
	}
	if len(sc.Enum) > 0 {
		if !slices.Contains(sc.Enum, v) {
			return []string{at + ": " + jsonText(v) + " is not in the enum"}
		}
		return nil
	}
	var errs []string
	switch sc.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{at + ": not an object"}
		}
		if sc.Properties == nil {
			return nil
		}
		for _, r := range sc.Required {
			if _, ok := obj[r]; !ok {
				errs = append(errs, at+": missing required "+r)
			}
		}
		for k, val := range obj {
			p, ok := sc.Properties[k]
			if !ok {
				errs = append(errs, at+": undocumented property "+k)
				continue
			}
			errs = append(errs, s.walk(at+"."+k, p, val)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{at + ": not an array"}
		}
		for _, item := range arr {
			errs = append(errs, s.walk(at+"[]", *sc.Items, item)...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, at+": not a string")
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, at+": not a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, at+": not a boolean")
		}
	}
	return errs
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSpecCoversRoutes keeps openapi.json and the routes in step.
func TestSpecCoversRoutes(t *testing.T) {
	s := loadSpec(t)
	want := map[string]string{
		"/v1/auth/guest": "post", "/v1/leaderboards": "get", "/v1/leaderboards/{id}/entries": "get",
		"/v1/leaderboards/{id}/players/{player}": "get", "/v1/players/{id}": "get", "/v1/players/{id}/matches": "get",
		"/v1/matches/{id}": "get", "/openapi.json": "get", "/healthz": "get", "/readyz": "get",
		"/v1/leaderboards/{id}/players/{player}/around": "get", "/v1/leaderboards/{id}/seasons": "get",
		"/v1/leaderboards/{id}/seasons/{season}/entries": "get", "/v1/admin/leaderboards/{id}": "put",
		"/v1/admin/leaderboards/{id}/seasons": "post", "/docs": "get",
		"/v1/rating-pools": "get", "/v1/admin/rating-pools/{mode}": "put",
	}
	for path, method := range want {
		if _, ok := s.Paths[path][method]; !ok {
			t.Errorf("openapi.json lacks %s %s", method, path)
		}
	}
	for path := range s.Paths {
		if _, ok := want[path]; !ok {
			t.Errorf("openapi.json documents %s, which the server does not serve", path)
		}
	}
}
