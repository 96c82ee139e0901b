package gameserver

import (
	"io"
	"net/http"
	"testing"
)

// TestPages: a page of Config.Pages is served at its prefix (the handler
// sees paths from its own root), with the security headers, and
// /config.json is served for it even without Web. The pages take GET
// only: another method is answered 405 on every path, the probes' too,
// rather than handed to a page.
func TestPages(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page " + r.URL.Path)) })
	ts := startServer(t, Config{Web: page, Pages: map[string]http.Handler{"/dice/": page}})
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/dice/", http.StatusOK, "page /"},
		{"GET", "/dice/app.js", http.StatusOK, "page /app.js"},
		{"GET", "/config.json", http.StatusOK, ""},
		{"GET", "/", http.StatusOK, "page /"},
		{"GET", "/app.js", http.StatusOK, "page /app.js"},
		{"POST", "/", http.StatusMethodNotAllowed, ""},
		{"POST", "/dice/", http.StatusMethodNotAllowed, ""},
		{"POST", "/readyz", http.StatusMethodNotAllowed, ""},
		{"DELETE", "/healthz", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, "http://"+ts.addr+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || tt.body != "" && string(b) != tt.body {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.body)
		}
		if tt.status == http.StatusOK && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no security headers", tt.method, tt.path)
		}
	}
}
