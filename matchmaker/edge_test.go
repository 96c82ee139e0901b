package matchmaker

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// countingListener counts the bytes the server reads from its
// connections.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// edgeEnv is a matchmaker whose public port counts the bytes it reads and
// whose log is kept.
type edgeEnv struct {
	*env
	read *atomic.Int64
	log  *syncBuffer
}

func startEdge(t *testing.T, cfg Config) *edgeEnv {
	t.Helper()
	keys := testKeys(t)
	logs := &syncBuffer{}
	m, err := New(cfg, keys, nil, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	read := &atomic.Int64{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, countingListener{raw, read}, nil) }()
	conn, err := grpc.NewClient(raw.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Run did not return")
		}
	})
	return &edgeEnv{env: &env{addr: raw.Addr().String(), keys: keys, conn: conn,
		mm: skirmishv1.NewMatchmakerServiceClient(conn)}, read: read, log: logs}
}

// endless yields n bytes of zeros, counting what was taken.
type endless struct {
	left  int64
	taken atomic.Int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), e.left))
	clear(p[:n])
	e.left -= int64(n)
	e.taken.Add(int64(n))
	return n, nil
}

// TestConnectBodyBounded: a 300 MB Connect request to GetTicket, with no
// token, is refused with resource_exhausted after the server read at most
// a few hundred KiB of it, whether it declares its length or streams it.
func TestConnectBodyBounded(t *testing.T) {
	const size = 300 << 20
	const maxRead = 1 << 20 // the body limit is 65 KiB; allow for headers and socket buffers
	for _, declared := range []bool{true, false} {
		name := "chunked"
		if declared {
			name = "content-length"
		}
		t.Run(name, func(t *testing.T) {
			e := startEdge(t, Config{})
			body := &endless{left: size}
			req, err := http.NewRequest(http.MethodPost, "http://"+e.addr+"/skirmish.v1.MatchmakerService/GetTicket", body)
			if err != nil {
				t.Fatal(err)
			}
			if declared {
				req.ContentLength = size
			} else {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", "application/proto")
			req.Header.Set("Connect-Protocol-Version", "1")
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			resp, err := http.DefaultClient.Do(req.WithContext(ctx))
			if err != nil {
				// The server may close the connection while the client is
				// still writing; what matters is what it read.
				t.Logf("POST: %v", err)
			} else {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK || !strings.Contains(string(b), "resource_exhausted") {
					t.Errorf("POST 300 MB = %d %q, want a resource_exhausted error", resp.StatusCode, b)
				}
			}
			if got := e.read.Load(); got > maxRead {
				t.Errorf("server read %d bytes of a 300 MB body, want at most %d", got, maxRead)
			}
			t.Logf("server read %d bytes; client handed the transport %d", e.read.Load(), body.taken.Load())
		})
	}
}

// TestStreamsPerPeerBounded: one connection opening 2,000 health Watch
// streams, no token, gets at most StreamsPerPeer (32) of them open; the
// others are refused with RESOURCE_EXHAUSTED.
func TestStreamsPerPeerBounded(t *testing.T) {
	e := startEdge(t, Config{})
	health := healthgrpc.NewHealthClient(e.conn)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	const tries = 2000
	var open, refused atomic.Int64
	var wg sync.WaitGroup
	streams := make(chan grpc.ServerStreamingClient[healthgrpc.HealthCheckResponse], tries)
	for range tries {
		wg.Go(func() {
			s, err := health.Watch(ctx, &healthgrpc.HealthCheckRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			switch status.Code(err) {
			case codes.OK:
				open.Add(1)
				streams <- s
			case codes.ResourceExhausted:
				refused.Add(1)
			default:
				t.Errorf("Watch: %v", err)
			}
		})
	}
	wg.Wait()
	if got := open.Load(); got != 32 {
		t.Errorf("%d Watch streams open from one peer, want 32", got)
	}
	if got := refused.Load(); got != tries-32 {
		t.Errorf("%d Watch streams refused, want %d", got, tries-32)
	}
}

// TestClientValueBounded: CreateTicket with a 4 MiB mode is refused as
// too large, before decoding, with a short message; with a mode just
// under the message limit, the error and the log line quote at most a
// clipped part of it.
func TestClientValueBounded(t *testing.T) {
	e := startEdge(t, Config{PlayerRequestRate: -1})
	ctx := e.as(t, "mallory")
	for _, tt := range []struct {
		size int
		code codes.Code
	}{
		{4 << 20, codes.ResourceExhausted},
		{60 << 10, codes.InvalidArgument},
	} {
		before := e.log.Len()
		_, err := e.mm.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: strings.Repeat("m", tt.size)})
		st := status.Convert(err)
		if st.Code() != tt.code && !(tt.code == codes.InvalidArgument && st.Code() == codes.NotFound) {
			t.Errorf("CreateTicket(mode of %d bytes) = %v, want %v", tt.size, st.Code(), tt.code)
		}
		if n := len(st.Message()); n > 1024 {
			t.Errorf("CreateTicket(mode of %d bytes): error message of %d bytes, want at most 1024", tt.size, n)
		}
		if n := e.log.Len() - before; n > 4096 {
			t.Errorf("CreateTicket(mode of %d bytes): %d bytes logged, want at most 4096", tt.size, n)
		}
	}
}

// TestRegistryNotOnPublicPort: the gameserver registry answers only on
// the internal listener.
func TestRegistryNotOnPublicPort(t *testing.T) {
	e := startMatchmaker(t, Config{})
	pub := skirmishv1.NewGameserverRegistryServiceClient(e.conn)
	_, err := pub.Heartbeat(e.asService(t), &skirmishv1.HeartbeatRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("Heartbeat on the public port = %v, want Unimplemented", err)
	}
	resp, err := http.Get("http://" + e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public port = %d, want 404", resp.StatusCode)
	}
}
