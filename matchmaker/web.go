package matchmaker

import (
	"fmt"
	"net/http"
	"strings"

	connectcors "connectrpc.com/cors"
	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"github.com/rs/cors"
)

// handler routes the matchmaker's one port: native gRPC (HTTP/2 with an
// application/grpc content type) straight to the gRPC server; Connect and
// gRPC-Web calls (what browsers send, over HTTP/1.1 or HTTP/2) through the
// vanguard transcoder, which turns them into gRPC calls on the same server
// and interceptors, behind CORS for the configured browser origins;
// everything else (/healthz, /readyz) to web. Behind trusted proxies, the
// request's RemoteAddr becomes the forwarded client's, so gRPC's peer
// (and the per-peer limits) see the client.
func (m *Matchmaker) handler(web http.Handler) (http.Handler, error) {
	// The transcoder buffers each message whole: bound it to the body
	// limit (its default is 4 GiB).
	transcoder, err := vanguardgrpc.NewTranscoder(m.grpc, vanguard.WithDefaultServiceOptions(
		vanguard.WithMaxMessageBufferBytes(uint32(m.cfg.Edge.MaxBody))))
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
	}).Handler(limitRPCBody(checkConnectUnary(transcoder), m.cfg.Edge.MaxBody))
	return m.cfg.Edge.GRPC.Proxies.RealAddr(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		switch {
		case r.ProtoMajor == 2 && strings.HasPrefix(ct, "application/grpc") && !strings.HasPrefix(ct, "application/grpc-web"):
			m.grpc.ServeHTTP(w, r)
		case isRPCPath(r.URL.Path):
			browsers.ServeHTTP(w, r)
		default:
			web.ServeHTTP(w, r)
		}
	})), nil
}

// isRPCPath reports whether the path names a method of a gRPC service the
// matchmaker serves: /package.Service/Method.
func isRPCPath(path string) bool {
	return strings.HasPrefix(path, "/skirmish.v1.") || strings.HasPrefix(path, "/grpc.")
}
