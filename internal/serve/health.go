package serve

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Every part answers its probes the same way, on its internal listener
// and, where it has one, on its public port:
//
//	GET /healthz  200 "ok\n" while the process serves HTTP at all (liveness)
//	GET /readyz   200 "ok\n" when the part can take work now, else
//	              503 "not ready: <reason>\n" (readiness)
//
// Both are plain text; any other method is answered 405 by the mux.

// Check reports whether a part can take work now: nil when it can, else
// an error whose text is the reason /readyz gives. That answer may reach
// anyone who reaches the port, so the text names the condition
// ("draining", "the store does not answer"), never an internal cause; a
// check that meets a cause worth keeping logs it itself.
type Check func(ctx context.Context) error

// ReadyTimeout bounds one readiness check: a check that waits on a
// backend (a database ping) answers not ready once it has taken this long.
const ReadyTimeout = 2 * time.Second

// Healthz answers GET /healthz: 200 "ok\n". It checks nothing beyond
// the process serving HTTP; readiness is Readyz's.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// Readyz returns the handler of GET /readyz: 200 "ok\n" when check
// returns nil, else 503 "not ready: <its error's text>\n". The check gets
// the request's context, bounded by ReadyTimeout. A nil check is always
// ready (a part with no notion of readiness beyond serving).
func Readyz(check Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if check != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			err := check(ctx)
			cancel()
			if err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	}
}
