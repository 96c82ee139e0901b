package httpapi

import (
	_ "embed"
	"net/http"
)

// docs.html renders /openapi.json in the browser with a few lines of
// script: no CDN, so it works offline.
//
//go:embed docs.html
var docsPage []byte

func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
	serveCached(w, r, cacheSpecDocs, "text/html; charset=utf-8", docsPage)
}
