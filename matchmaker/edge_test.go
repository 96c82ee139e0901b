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
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/internal/limits"
	"github.com/skirmishgg/skirmish/internal/serve"
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
// streams, no token, gets at most StreamsPerPeer (here 32; 256 by
// default) of them open; the others are refused with RESOURCE_EXHAUSTED.
func TestStreamsPerPeerBounded(t *testing.T) {
	e := startEdge(t, Config{Edge: Edge{GRPC: serve.GRPCLimits{StreamsPerPeer: 32}}})
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

// TestBadInputEveryMethod: a table of bad calls with the status each
// must get, covering every method of both services (checked against
// their service descriptors) and the health service.
func TestBadInputEveryMethod(t *testing.T) {
	e := startMatchmaker(t, Config{PlayerRequestRate: -1})
	player := e.as(t, "alice")
	service := e.asService(t)
	none := withToken(t, "")
	long := strings.Repeat("x", 10<<10)
	huge := strings.Repeat("x", 1<<20)
	recv := func(s grpc.ServerStreamingClient[skirmishv1.WatchTicketResponse], err error) error {
		if err == nil {
			_, err = s.Recv()
		}
		return err
	}
	health := healthgrpc.NewHealthClient(e.conn)
	tests := []struct {
		method string // full method name
		name   string
		call   func() error
		code   codes.Code
	}{
		{"/skirmish.v1.MatchmakerService/CreateTicket", "no token", func() error {
			_, err := e.mm.CreateTicket(none, &skirmishv1.CreateTicketRequest{Mode: "duel"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.MatchmakerService/CreateTicket", "mode over the message limit", func() error {
			_, err := e.mm.CreateTicket(player, &skirmishv1.CreateTicketRequest{Mode: huge})
			return err
		}, codes.ResourceExhausted},
		{"/skirmish.v1.MatchmakerService/CreateTicket", "10 KiB mode", func() error {
			_, err := e.mm.CreateTicket(player, &skirmishv1.CreateTicketRequest{Mode: long})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.MatchmakerService/GetTicket", "no token", func() error {
			_, err := e.mm.GetTicket(none, &skirmishv1.GetTicketRequest{TicketId: "x"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.MatchmakerService/GetTicket", "unknown ticket", func() error {
			_, err := e.mm.GetTicket(player, &skirmishv1.GetTicketRequest{TicketId: "nope"})
			return err
		}, codes.NotFound},
		{"/skirmish.v1.MatchmakerService/GetTicket", "over the message limit", func() error {
			_, err := e.mm.GetTicket(player, &skirmishv1.GetTicketRequest{TicketId: huge})
			return err
		}, codes.ResourceExhausted},
		{"/skirmish.v1.MatchmakerService/WatchTicket", "no token", func() error {
			return recv(e.mm.WatchTicket(none, &skirmishv1.WatchTicketRequest{TicketId: "x"}))
		}, codes.Unauthenticated},
		{"/skirmish.v1.MatchmakerService/WatchTicket", "unknown ticket", func() error {
			return recv(e.mm.WatchTicket(player, &skirmishv1.WatchTicketRequest{TicketId: "nope"}))
		}, codes.NotFound},
		{"/skirmish.v1.MatchmakerService/CancelTicket", "no token", func() error {
			_, err := e.mm.CancelTicket(none, &skirmishv1.CancelTicketRequest{TicketId: "x"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.MatchmakerService/CancelTicket", "unknown ticket", func() error {
			_, err := e.mm.CancelTicket(player, &skirmishv1.CancelTicketRequest{TicketId: "nope"})
			return err
		}, codes.NotFound},
		{"/skirmish.v1.MatchmakerService/CreatePartyInvite", "no token", func() error {
			_, err := e.mm.CreatePartyInvite(none, &skirmishv1.CreatePartyInviteRequest{LeaderId: "bob", Mode: "team"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.MatchmakerService/CreatePartyInvite", "10 KiB leader id", func() error {
			_, err := e.mm.CreatePartyInvite(player, &skirmishv1.CreatePartyInviteRequest{LeaderId: long, Mode: "team"})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.MatchmakerService/CreatePartyInvite", "unknown mode", func() error {
			_, err := e.mm.CreatePartyInvite(player, &skirmishv1.CreatePartyInviteRequest{LeaderId: "bob", Mode: long})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.MatchmakerService/RefreshJoinToken", "no token", func() error {
			_, err := e.mm.RefreshJoinToken(none, &skirmishv1.RefreshJoinTokenRequest{JoinToken: "x"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.MatchmakerService/RefreshJoinToken", "not a join token", func() error {
			_, err := e.mm.RefreshJoinToken(player, &skirmishv1.RefreshJoinTokenRequest{JoinToken: "x"})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.MatchmakerService/RefreshJoinToken", "10 KiB join token", func() error {
			_, err := e.mm.RefreshJoinToken(player, &skirmishv1.RefreshJoinTokenRequest{JoinToken: long})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.GameserverRegistryService/Heartbeat", "session token", func() error {
			_, err := e.gsreg.Heartbeat(player, &skirmishv1.HeartbeatRequest{})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.GameserverRegistryService/Heartbeat", "no gameserver", func() error {
			_, err := e.gsreg.Heartbeat(service, &skirmishv1.HeartbeatRequest{})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.GameserverRegistryService/Deregister", "no token", func() error {
			_, err := e.gsreg.Deregister(none, &skirmishv1.DeregisterRequest{GameserverId: "gs"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.GameserverRegistryService/Deregister", "no id", func() error {
			_, err := e.gsreg.Deregister(service, &skirmishv1.DeregisterRequest{})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.GameserverRegistryService/ReportRoom", "no token", func() error {
			_, err := e.gsreg.ReportRoom(none, &skirmishv1.ReportRoomRequest{GameserverId: "gs", RoomId: "r"})
			return err
		}, codes.Unauthenticated},
		{"/skirmish.v1.GameserverRegistryService/ReportRoom", "no room id", func() error {
			_, err := e.gsreg.ReportRoom(service, &skirmishv1.ReportRoomRequest{GameserverId: "gs"})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.GameserverRegistryService/ReportRoom", "10 KiB room id", func() error {
			_, err := e.gsreg.ReportRoom(service, &skirmishv1.ReportRoomRequest{GameserverId: "gs", RoomId: long})
			return err
		}, codes.InvalidArgument},
		{"/skirmish.v1.GameserverRegistryService/ReportRoom", "backfill of an unknown mode", func() error {
			_, err := e.gsreg.ReportRoom(service, &skirmishv1.ReportRoomRequest{GameserverId: "gs", RoomId: "r",
				Event: skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED, Mode: "chess"})
			return err
		}, codes.InvalidArgument},
		{"/grpc.health.v1.Health/Check", "unknown service", func() error {
			_, err := health.Check(t.Context(), &healthgrpc.HealthCheckRequest{Service: "nope"})
			return err
		}, codes.NotFound},
		{"/grpc.health.v1.Health/Check", "over the message limit", func() error {
			_, err := health.Check(t.Context(), &healthgrpc.HealthCheckRequest{Service: huge})
			return err
		}, codes.ResourceExhausted},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.method] = true
		t.Run(tt.method+" "+tt.name, func(t *testing.T) {
			err := tt.call()
			if got := status.Code(err); got != tt.code {
				t.Fatalf("%s (%s) = %v (%.200v), want %v", tt.method, tt.name, got, err, tt.code)
			}
			if n := len(status.Convert(err).Message()); n > 1024 {
				t.Errorf("%s (%s): error message of %d bytes", tt.method, tt.name, n)
			}
		})
	}
	for _, sd := range []grpc.ServiceDesc{skirmishv1.MatchmakerService_ServiceDesc, skirmishv1.GameserverRegistryService_ServiceDesc} {
		for _, m := range sd.Methods {
			if name := "/" + sd.ServiceName + "/" + m.MethodName; !covered[name] {
				t.Errorf("no bad input for %s", name)
			}
		}
		for _, s := range sd.Streams {
			if name := "/" + sd.ServiceName + "/" + s.StreamName; !covered[name] {
				t.Errorf("no bad input for %s", name)
			}
		}
	}
}

// TestBadConnectRequests: what browsers' protocols get for bad requests
// on the public port, HTTP status and Connect code.
func TestBadConnectRequests(t *testing.T) {
	e := startMatchmaker(t, Config{})
	base := "http://" + e.addr
	tests := []struct {
		name, method, path, ctype, body string
		length                          int64 // declared Content-Length; 0: the body's
		noVersion                       bool  // no Connect-Protocol-Version header
		want                            int
		code                            string // Connect error code in the body
	}{
		{"garbage protobuf", "POST", "/skirmish.v1.MatchmakerService/GetTicket", "application/proto", "\xff\xff\xff", 0, false, 400, "invalid_argument"},
		{"garbage JSON", "POST", "/skirmish.v1.MatchmakerService/GetTicket", "application/json", "{", 0, false, 400, "invalid_argument"},
		{"no token", "POST", "/skirmish.v1.MatchmakerService/GetTicket", "application/json", `{"ticket_id":"x"}`, 0, false, 401, "unauthenticated"},
		{"unknown method", "POST", "/skirmish.v1.MatchmakerService/Nope", "application/json", "{}", 0, false, 404, ""},
		{"registry is internal", "POST", "/skirmish.v1.GameserverRegistryService/Heartbeat", "application/json", "{}", 0, false, 404, ""},
		{"unsupported content type", "POST", "/skirmish.v1.MatchmakerService/GetTicket", "text/plain", "{}", 0, false, 415, ""},
		{"no Connect-Protocol-Version header: taken as version 1", "POST", "/skirmish.v1.MatchmakerService/GetTicket", "application/json", `{"ticket_id":"x"}`, 0, true, 401, "unauthenticated"},
		{"no Connect-Protocol-Version header, garbage JSON", "POST", "/skirmish.v1.MatchmakerService/GetTicket", "application/json", "{", 0, true, 400, "invalid_argument"},
		{"declared body over the limit", "POST", "/skirmish.v1.MatchmakerService/CreateTicket", "application/json", "{}", 300 << 20, false, 429, "resource_exhausted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.length > 0 {
				req.ContentLength = tt.length
				req.Body = io.NopCloser(io.MultiReader(strings.NewReader(tt.body), &endless{left: tt.length - int64(len(tt.body))}))
			}
			req.Header.Set("Content-Type", tt.ctype)
			if !tt.noVersion {
				req.Header.Set("Connect-Protocol-Version", "1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.code) {
				t.Errorf("%s %s = %d %q, want %d with %q", tt.method, tt.path, resp.StatusCode, body, tt.want, tt.code)
			}
		})
	}
}

// TestStreamsPerPeerBehindProxy: behind a trusted proxy, each forwarded
// client (x-forwarded-for) has its own stream bound; clients that share a
// /64 share it.
func TestStreamsPerPeerBehindProxy(t *testing.T) {
	proxies, err := limits.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := startEdge(t, Config{Edge: Edge{GRPC: serve.GRPCLimits{Proxies: proxies, StreamsPerPeer: 3}}})
	health := healthgrpc.NewHealthClient(e.conn)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	watch := func(client string) codes.Code {
		s, err := health.Watch(metadata.AppendToOutgoingContext(ctx, "x-forwarded-for", client), &healthgrpc.HealthCheckRequest{})
		if err == nil {
			_, err = s.Recv()
		}
		return status.Code(err)
	}
	for _, tt := range []struct {
		client string
		want   codes.Code
	}{
		{"2001:db8:1:1::1", codes.OK},
		{"2001:db8:1:1::2", codes.OK},
		{"2001:db8:1:1::3", codes.OK},
		{"2001:db8:1:1::4", codes.ResourceExhausted}, // same /64
		{"198.51.100.1", codes.OK},                   // another client
	} {
		if got := watch(tt.client); got != tt.want {
			t.Errorf("Watch as %s = %v, want %v", tt.client, got, tt.want)
		}
	}
}
