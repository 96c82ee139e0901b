package matchmaker

import (
	"fmt"
	"net/http"
	"strings"

	connectcors "connectrpc.com/cors"
	"connectrpc.com/vanguard/vanguardgrpc"
	"github.com/rs/cors"
)

// handler routes the matchmaker's one port: native gRPC (HTTP/2 with an
// application/grpc content type) straight to the gRPC server; Connect and
// gRPC-Web calls (what browsers send, over HTTP/1.1 or HTTP/2) through the
// vanguard transcoder, which turns them into gRPC calls on the same server
// and interceptors, behind CORS for the configured browser origins;
// everything else (/healthz, /readyz, /metrics) to web.
func (m *Matchmaker) handler(web http.Handler) (http.Handler, error) {
	transcoder, err := vanguardgrpc.NewTranscoder(m.grpc)
	if err != nil {
		return nil, fmt.Errorf("vanguard transcoder: %w", err)
	}
	browsers := cors.New(cors.Options{
		AllowedOrigins: m.cfg.AllowedOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		// Authorization carries the session token.
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         7200,
	}).Handler(transcoder)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		switch {
		case r.ProtoMajor == 2 && strings.HasPrefix(ct, "application/grpc") && !strings.HasPrefix(ct, "application/grpc-web"):
			m.grpc.ServeHTTP(w, r)
		case isRPCPath(r.URL.Path):
			browsers.ServeHTTP(w, r)
		default:
			web.ServeHTTP(w, r)
		}
	}), nil
}

// isRPCPath reports whether the path names a method of a gRPC service the
// matchmaker serves: /package.Service/Method.
func isRPCPath(path string) bool {
	return strings.HasPrefix(path, "/skirmish.v1.") || strings.HasPrefix(path, "/grpc.")
}
