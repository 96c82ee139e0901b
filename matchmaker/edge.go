package matchmaker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc"

	"github.com/skirmishgg/skirmish/internal/limits"
	"github.com/skirmishgg/skirmish/internal/serve"
)

// Edge bounds what clients may make the matchmaker hold, on its public
// port. Zero fields take the defaults shown.
type Edge struct {
	// GRPC bounds gRPC calls, native and transcoded from Connect and
	// gRPC-Web: message size (64 KiB), streams per connection (100) and
	// per peer (256), calls per peer (100/s, burst 200), error message size
	// (512 bytes); GRPC.Proxies are the trusted reverse proxies.
	GRPC serve.GRPCLimits
	// MaxBody is the largest Connect or gRPC-Web request body, in bytes
	// (GRPC.MaxRecvMsgSize plus 1 KiB of framing): a longer one is refused
	// with RESOURCE_EXHAUSTED after at most this many bytes are read.
	MaxBody int64
	// ConnsPerPeer is the most TCP connections one peer holds at once
	// (256: many players share an address behind a NAT); trusted proxies
	// are exempt. MaxConns bounds all connections
	// (20000). Negative: no limit.
	ConnsPerPeer, MaxConns int
}

func (e *Edge) fill() {
	if e.GRPC.MaxRecvMsgSize <= 0 {
		e.GRPC.MaxRecvMsgSize = 64 << 10
	}
	if e.MaxBody <= 0 {
		e.MaxBody = int64(e.GRPC.MaxRecvMsgSize) + 1<<10
	}
	if e.ConnsPerPeer == 0 {
		e.ConnsPerPeer = 256
	}
	if e.MaxConns == 0 {
		e.MaxConns = 20000
	}
}

// internalLimits bound the internal listener's gRPC server, which only
// gameservers and operators reach: larger messages, no per-peer rates.
var internalLimits = serve.GRPCLimits{MaxRecvMsgSize: 1 << 20, StreamsPerPeer: -1, PeerRate: -1}

// publicListener bounds the connections of the public port.
func (m *Matchmaker) publicListener(ln net.Listener) net.Listener {
	return limits.Listener(ln, m.cfg.Edge.ConnsPerPeer, m.cfg.Edge.MaxConns, m.cfg.Edge.GRPC.Proxies,
		m.refusedConns.Inc)
}

// internalHandler serves the internal listener: the internal gRPC server
// (GameserverRegistryService, health, reflection) for HTTP/2 gRPC
// requests, and /metrics, /debug/pprof/, /healthz, /readyz.
func (m *Matchmaker) internalHandler(metrics http.Handler) http.Handler {
	mux := serve.Internal(metrics, m.checkReady)
	return serve.WithGRPC(m.internal, mux)
}

// limitRPCBody bounds the request body of Connect and gRPC-Web calls to
// max bytes. A request that declares a longer body is refused unread, in
// its protocol's form (gRPC-Web: grpc-status 8; Connect unary: HTTP 429
// with code resource_exhausted; otherwise HTTP 413), and the connection
// closed; a body that turns out longer fails its read after max bytes.
func limitRPCBody(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.ContentLength > max {
			refuseBody(w, r, max)
			return
		}
		r.Body = tooLargeBody{http.MaxBytesReader(w, r.Body, max)}
		h.ServeHTTP(w, r)
	})
}

// tooLargeBody turns the error of a body read past its limit into a
// Connect RESOURCE_EXHAUSTED error, which the transcoder answers in each
// protocol's form (it would call any other read error Unavailable).
type tooLargeBody struct{ io.ReadCloser }

func (b tooLargeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tl *http.MaxBytesError
	if errors.As(err, &tl) {
		err = connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("request body over the limit of %d bytes", tl.Limit))
	}
	return n, err
}

func refuseBody(w http.ResponseWriter, r *http.Request, max int64) {
	msg := fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, max)
	hd := w.Header()
	hd.Set("Connection", "close")
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		hd.Set("Content-Type", ct)
		hd.Set("Grpc-Status", "8")
		hd.Set("Grpc-Message", msg)
		w.WriteHeader(http.StatusOK)
	case r.Header.Get("Connect-Protocol-Version") != "" && !strings.HasPrefix(ct, "application/connect+"):
		hd.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		json.NewEncoder(w).Encode(map[string]string{"code": "resource_exhausted", "message": msg})
	default:
		http.Error(w, msg, http.StatusRequestEntityTooLarge)
	}
}

// grpcServers builds the public gRPC server (MatchmakerService, health and
// its reflection) and the internal one (GameserverRegistryService, health
// and its reflection), each with its bounds outermost, then the
// interceptors (metrics, logging, recovery, auth).
func grpcServers(public serve.GRPCLimits, inner []grpc.ServerOption) (pub, internal *grpc.Server) {
	pub = grpc.NewServer(append(public.ServerOptions(), inner...)...)
	internal = grpc.NewServer(append(internalLimits.ServerOptions(), inner...)...)
	return pub, internal
}
