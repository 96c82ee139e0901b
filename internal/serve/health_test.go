package serve

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestInternalProbes: the internal mux answers /healthz and /readyz by
// the one convention (plain text, 200 "ok\n", 503 "not ready: <reason>\n")
// and refuses other methods with 405.
func TestInternalProbes(t *testing.T) {
	down := errors.New("the store does not answer")
	var deadline time.Duration
	checks := map[string]Check{
		"nil":   nil,
		"ready": func(context.Context) error { return nil },
		"down":  func(context.Context) error { return down },
		"deadline": func(ctx context.Context) error {
			d, ok := ctx.Deadline()
			if !ok {
				return errors.New("no deadline")
			}
			deadline = time.Until(d)
			return nil
		},
	}
	tests := []struct {
		check, method, path string
		want                int
		body                string
	}{
		{"nil", "GET", "/healthz", 200, "ok\n"},
		{"nil", "GET", "/readyz", 200, "ok\n"},
		{"ready", "GET", "/readyz", 200, "ok\n"},
		{"ready", "HEAD", "/readyz", 200, ""},
		{"down", "GET", "/readyz", 503, "not ready: the store does not answer\n"},
		{"down", "GET", "/healthz", 200, "ok\n"}, // liveness does not follow readiness
		{"deadline", "GET", "/readyz", 200, "ok\n"},
		{"ready", "POST", "/readyz", 405, ""},
		{"ready", "PUT", "/readyz", 405, ""},
		{"ready", "DELETE", "/healthz", 405, ""},
		{"ready", "POST", "/healthz", 405, ""},
		{"ready", "GET", "/readyz/", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+tt.method+" "+tt.path, func(t *testing.T) {
			srv := httptest.NewServer(Internal(http.NotFoundHandler(), checks[tt.check]))
			t.Cleanup(srv.Close)
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
			}
			switch {
			case tt.want == 405:
				if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
					t.Errorf("%s %s: Allow = %q, want GET in it", tt.method, tt.path, allow)
				}
			case tt.want != 404:
				if string(body) != tt.body {
					t.Errorf("%s %s body = %q, want %q", tt.method, tt.path, body, tt.body)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("%s %s Content-Type = %q, want text/plain", tt.method, tt.path, ct)
				}
			}
		})
	}
	if deadline <= 0 || deadline > ReadyTimeout {
		t.Errorf("a check's context ends in %v, want within ReadyTimeout (%v)", deadline, ReadyTimeout)
	}
}
