package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestRequestExamples: every operation that takes a request body documents
// an example of it in openapi.json (which /docs shows), and each example
// works as written against a real server: guest sign-in, creating a board,
// ending its season, in that order.
func TestRequestExamples(t *testing.T) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Content map[string]struct {
					Example json.RawMessage
				}
			}
			Security []map[string][]string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{} // "METHOD path" -> example body
	for path, item := range doc.Paths {
		for method, op := range item {
			if op.RequestBody == nil {
				continue
			}
			ex := op.RequestBody.Content["application/json"].Example
			if len(ex) == 0 {
				t.Errorf("%s %s: request body has no example", strings.ToUpper(method), path)
				continue
			}
			examples[strings.ToUpper(method)+" "+path] = string(ex)
		}
	}
	e := start(t)
	steps := []struct {
		op, url string
		admin   bool
		want    int
	}{
		{"POST /v1/auth/guest", "/v1/auth/guest", false, http.StatusCreated},
		{"PUT /v1/admin/leaderboards/{id}", "/v1/admin/leaderboards/weekly", true, http.StatusOK},
		{"POST /v1/admin/leaderboards/{id}/seasons", "/v1/admin/leaderboards/weekly/seasons", true, http.StatusOK},
		{"PUT /v1/admin/rating-pools/{mode}", "/v1/admin/rating-pools/team4", true, http.StatusOK},
	}
	if len(steps) != len(examples) {
		t.Errorf("%d operations take a body, %d are tried here: add the new one", len(examples), len(steps))
	}
	for _, s := range steps {
		body, ok := examples[s.op]
		if !ok {
			t.Errorf("%s: no example in openapi.json", s.op)
			continue
		}
		var hdr []string
		if s.admin {
			hdr = []string{"Authorization", "Bearer " + adminKey}
		}
		method, _, _ := strings.Cut(s.op, " ")
		resp, got := do(t, method, e.url+s.url, body, hdr...)
		if resp.StatusCode != s.want {
			t.Errorf("%s with the documented example %s = %d %s, want %d", s.op, body, resp.StatusCode, got, s.want)
		}
	}
}
