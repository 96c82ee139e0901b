// Package serve runs the HTTP servers of Skirmish parts: plain HTTP/1.1,
// and unencrypted HTTP/2 (h2c) so that gRPC shares the port with HTTP
// endpoints such as /healthz and /metrics.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
)

// Timeouts applied to every server. WriteTimeout is left at zero because
// WebSocket connections and gRPC streams live long; handlers that need a
// deadline set their own.
const (
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// Bounds on what one client may make an HTTP server hold: request header
// bytes (the request line and every header), and HTTP/2 streams open at
// once on one connection (h2c clients: gRPC-Web, Connect, and gRPC when
// it shares the port).
const (
	MaxHeaderBytes       = 32 << 10
	MaxConcurrentStreams = 100
)

// WithGRPC routes gRPC requests (HTTP/2 with a gRPC content type) to g and
// everything else to h.
func WithGRPC(g *grpc.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			g.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// HTTP serves h on ln until ctx ends, then shuts down gracefully: it stops
// accepting, waits up to ten seconds for requests in flight, and returns
// nil. Hijacked connections (WebSockets) are the handler's to close.
func HTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		Protocols:         &protocols,
		MaxHeaderBytes:    MaxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: MaxConcurrentStreams},
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// Listen opens a TCP listener on addr with a clear error naming the setting.
func Listen(setting, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %q: %w", setting, addr, err)
	}
	return ln, nil
}
