package serve

import (
	"net/http"
	"net/http/pprof"
)

// Internal returns the mux of a part's internal listener (--internal-addr,
// loopback by default), where the operational surfaces live rather than
// on the ports players reach: GET /metrics (the given handler), the
// net/http/pprof profiles under /debug/pprof/, GET /healthz, and GET
// /readyz answered by ready (Readyz; give the same check the part's
// public /readyz uses, so the two always agree). Parts add their own
// internal routes (gRPC control services) to it.
func Internal(metrics http.Handler, ready Check) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", Healthz)
	mux.Handle("GET /readyz", Readyz(ready))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// PageCSP is the Content-Security-Policy of the browser game's page: its
// own scripts, styles and images only; network calls to any http(s),
// ws(s) origin (the matchmaker, leaderboard and gameserver may sit on
// other ports or hosts, named in /config.json); no plugins, no <base>
// tricks, and no framing by other sites.
const PageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' http: https: ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets, on every response of h, the headers a browser page
// needs: PageCSP, X-Content-Type-Options: nosniff, X-Frame-Options: DENY
// (frame-ancestors for older browsers) and Referrer-Policy: no-referrer.
func SecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", PageCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// NoSniff sets X-Content-Type-Options: nosniff on every response of h
// (for APIs, whose answers are never pages).
func NoSniff(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// MaxBody bounds the request body h may read to n bytes: a request that
// declares a longer Content-Length is answered 413 at once, unread, and a
// body that turns out longer fails its read after n bytes (the handler
// sees *http.MaxBytesError) and the connection is closed after the
// answer.
func MaxBody(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}
