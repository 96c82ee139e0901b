package gameserver

import (
	"io"
	"net/http"
	"testing"
)

// TestPages: a page of Config.Pages is served at its prefix (the handler
// sees paths from its own root), with the security headers, and
// /config.json is served for it even without Web.
func TestPages(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("dice " + r.URL.Path)) })
	ts := startServer(t, Config{Pages: map[string]http.Handler{"/dice/": page}})
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/dice/", http.StatusOK, "dice /"},
		{"/dice/app.js", http.StatusOK, "dice /app.js"},
		{"/config.json", http.StatusOK, ""},
		{"/", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		resp, err := http.Get("http://" + ts.addr + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || tt.body != "" && string(b) != tt.body {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, b, tt.status, tt.body)
		}
		if tt.status == http.StatusOK && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no security headers", tt.path)
		}
	}
}
