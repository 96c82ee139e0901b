package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

const waitTimeout = 10 * time.Second

// env is a running matchmaker on a loopback port with a client to it.
type env struct {
	addr string
	// internalAddr is the internal listener: the registry, /metrics.
	internalAddr string
	keys         *auth.Keys
	conn         *grpc.ClientConn // public port
	iconn        *grpc.ClientConn // internal listener
	mm           skirmishv1.MatchmakerServiceClient
	gsreg        skirmishv1.GameserverRegistryServiceClient
	stop         func() error // cancels Run and waits for it
	prom         *prometheus.Registry
}

func testKeys(t testing.TB) *auth.Keys {
	t.Helper()
	text, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// fastConfig has short waits so that tests end quickly.
func fastConfig() Config {
	return Config{FormationInterval: 10 * time.Millisecond, WaitScale: 0.01} // duel: 600ms wait, 150ms grace
}

func startMatchmaker(t testing.TB, cfg Config) *env {
	t.Helper()
	return startMatchmakerWith(t, cfg, nil)
}

func startMatchmakerWith(t testing.TB, cfg Config, ratings RatingSource, opts ...Option) *env {
	t.Helper()
	return startMatchmakerKeys(t, cfg, testKeys(t), ratings, opts...)
}

// startMatchmakerKeys runs a matchmaker with the given keys and options:
// replicas of one deployment share keys.
func startMatchmakerKeys(t testing.TB, cfg Config, keys *auth.Keys, ratings RatingSource, opts ...Option) *env {
	t.Helper()
	prom := prometheus.NewRegistry()
	m, err := New(cfg, keys, ratings, prom, testLog(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	internal, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, ln, internal) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(waitTimeout):
				runErr = errors.New("Run did not return after its context ended")
			}
		})
		return runErr
	}
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	iconn, err := grpc.NewClient(internal.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		iconn.Close()
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &env{
		addr: ln.Addr().String(), internalAddr: internal.Addr().String(), keys: keys, conn: conn, iconn: iconn, stop: stop, prom: prom,
		mm:    skirmishv1.NewMatchmakerServiceClient(conn),
		gsreg: skirmishv1.NewGameserverRegistryServiceClient(iconn),
	}
}

// as returns a context carrying a session token for the player.
func (e *env) as(t testing.TB, player string) context.Context {
	t.Helper()
	tok, err := e.keys.IssueSession(auth.Session{PlayerID: player, Name: "name-" + player}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return withToken(t, tok)
}

// asService returns a context carrying a service token.
func (e *env) asService(t testing.TB) context.Context {
	t.Helper()
	tok, err := e.keys.IssueService(auth.KindRegistry, "gameserver", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return withToken(t, tok)
}

func withToken(t testing.TB, tok string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// roomServer is a real RoomService gRPC server that records its calls and
// fails the first failures of them.
type roomServer struct {
	skirmishv1.UnimplementedRoomServiceServer
	keys     *auth.Keys
	calls    chan *skirmishv1.CreateRoomRequest
	adds     chan *skirmishv1.AddSeatsRequest
	mu       sync.Mutex
	failures int
	rooms    int
	info     *skirmishv1.Gameserver // what it heartbeats
	stop     func()                 // stops serving at once (a crash); idempotent
	answered sync.Map               // match id -> time.Time CreateRoom answered
}

func (r *roomServer) CreateRoom(ctx context.Context, req *skirmishv1.CreateRoomRequest) (*skirmishv1.CreateRoomResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if svc, err := r.keys.VerifyService(auth.KindControl, auth.BearerToken(strings.Join(md.Get("authorization"), ""))); err != nil || svc != "matchmaker" {
		return nil, status.Error(codes.Unauthenticated, "bad service token")
	}
	select {
	case r.calls <- req:
	default: // a benchmark's hundreds of rooms: record the first ones only
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures > 0 {
		r.failures--
		return nil, status.Error(codes.Unavailable, "room service failing on purpose")
	}
	r.rooms++
	r.answered.Store(req.GetMatchId(), time.Now())
	return &skirmishv1.CreateRoomResponse{RoomId: fmt.Sprintf("room-%d", r.rooms)}, nil
}

func (r *roomServer) AddSeats(ctx context.Context, req *skirmishv1.AddSeatsRequest) (*skirmishv1.AddSeatsResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if svc, err := r.keys.VerifyService(auth.KindControl, auth.BearerToken(strings.Join(md.Get("authorization"), ""))); err != nil || svc != "matchmaker" {
		return nil, status.Error(codes.Unauthenticated, "bad service token")
	}
	r.adds <- req
	return &skirmishv1.AddSeatsResponse{}, nil
}

// startGameserver runs a RoomService on loopback and registers it with a
// real Heartbeat call (once: see heartbeatUntil).
func (e *env) startGameserver(t testing.TB, id string, failures int) *roomServer {
	t.Helper()
	return e.startGameserverCap(t, id, failures, 100)
}

// startGameserverCap is startGameserver with a capacity.
func (e *env) startGameserverCap(t testing.TB, id string, failures int, capacity uint32) *roomServer {
	t.Helper()
	rs := &roomServer{keys: e.keys, calls: make(chan *skirmishv1.CreateRoomRequest, 100), adds: make(chan *skirmishv1.AddSeatsRequest, 100), failures: failures}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	skirmishv1.RegisterRoomServiceServer(srv, rs)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var once sync.Once
	rs.stop = func() {
		once.Do(func() {
			srv.Stop()
			if err := <-served; err != nil {
				t.Errorf("room server: %v", err)
			}
		})
	}
	t.Cleanup(rs.stop)
	rs.info = &skirmishv1.Gameserver{
		Id: id, Region: "local", ControlAddress: ln.Addr().String(),
		WebsocketUrl: "ws://" + id + "/ws", WebtransportUrl: "https://" + id + "/wt", Capacity: capacity,
	}
	e.heartbeat(t, rs)
	return rs
}

// heartbeat sends the room server's heartbeat.
func (e *env) heartbeat(t testing.TB, rs *roomServer) {
	t.Helper()
	if _, err := e.gsreg.Heartbeat(e.asService(t), &skirmishv1.HeartbeatRequest{Gameserver: rs.info}); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
}

// watch streams a ticket's updates into a channel, closed at the end.
func (e *env) watch(t testing.TB, ctx context.Context, id string) <-chan *skirmishv1.Ticket {
	t.Helper()
	stream, err := e.mm.WatchTicket(ctx, &skirmishv1.WatchTicketRequest{TicketId: id})
	if err != nil {
		t.Fatalf("WatchTicket: %v", err)
	}
	ch := make(chan *skirmishv1.Ticket, 16)
	go func() {
		defer close(ch)
		for {
			resp, err := stream.Recv()
			if err != nil {
				if err != io.EOF {
					ch <- &skirmishv1.Ticket{FailureReason: "stream error: " + err.Error()}
				}
				return
			}
			ch <- resp.GetTicket()
		}
	}()
	return ch
}

// waitFinal reads a watch channel until the stream ends and returns the
// last ticket, checking that only the last one is final.
func waitFinal(t testing.TB, ch <-chan *skirmishv1.Ticket) *skirmishv1.Ticket {
	t.Helper()
	var last *skirmishv1.Ticket
	timeout := time.After(waitTimeout)
	for {
		select {
		case tk, ok := <-ch:
			if !ok {
				if last == nil {
					t.Fatal("watch stream ended without a ticket")
				}
				return last
			}
			if last != nil && last.GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
				t.Fatalf("update %v after final state %v", tk, last.GetState())
			}
			last = tk
		case <-timeout:
			t.Fatalf("no final state within %v; last %v", waitTimeout, last)
		}
	}
}

func (e *env) create(t testing.TB, ctx context.Context, mode string) *skirmishv1.Ticket {
	t.Helper()
	resp, err := e.mm.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: mode})
	if err != nil {
		t.Fatalf("CreateTicket(%q): %v", mode, err)
	}
	if resp.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		t.Fatalf("new ticket state = %v, want SEARCHING", resp.GetTicket().GetState())
	}
	return resp.GetTicket()
}

func TestDuelMatch(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond}, nil)
		rs := e.startGameserver(t, "gs1", 0)
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		ta, tb := e.create(t, alice, "duel"), e.create(t, bob, "duel")
		wa, wb := e.watch(t, alice, ta.GetId()), e.watch(t, bob, tb.GetId())
		fa, fb := waitFinal(t, wa), waitFinal(t, wb)

		teams := map[uint32]string{}
		for player, tk := range map[string]*skirmishv1.Ticket{"alice": fa, "bob": fb} {
			if tk.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
				t.Fatalf("%s's ticket ended %v (%s), want MATCHED", player, tk.GetState(), tk.GetFailureReason())
			}
			as := tk.GetAssignment()
			join, err := e.keys.VerifyJoin(as.GetJoinToken())
			if err != nil {
				t.Fatalf("VerifyJoin(%s's token): %v", player, err)
			}
			if age := time.Since(join.FirstIssued); age < -time.Second || age > waitTimeout {
				t.Errorf("join token first issued %v ago, want about now", age)
			}
			want := auth.Join{PlayerID: player, Name: "name-" + player, MatchID: fa.GetAssignment().GetMatchId(), RoomID: "room-1", Team: as.GetTeam(), GameserverID: "gs1",
				FirstIssued: join.FirstIssued}
			if join != want {
				t.Errorf("join token = %+v, want %+v", join, want)
			}
			if as.GetWebsocketUrl() != "ws://gs1/ws" || as.GetWebtransportUrl() != "https://gs1/wt" {
				t.Errorf("assignment urls = %q, %q", as.GetWebsocketUrl(), as.GetWebtransportUrl())
			}
			teams[as.GetTeam()] = player
		}
		if len(teams) != 2 {
			t.Errorf("teams = %v, want the players on two teams", teams)
		}
		req := <-rs.calls
		if req.GetMode() != "duel" || len(req.GetSeats()) != 2 || req.GetMatchId() != fa.GetAssignment().GetMatchId() {
			t.Errorf("CreateRoom(%v), want a duel with two seats and the assignment's match id", req)
		}
		got, err := e.mm.GetTicket(alice, &skirmishv1.GetTicketRequest{TicketId: ta.GetId()})
		if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
			t.Errorf("GetTicket after match = %v, %v; want MATCHED", got, err)
		}
		// The match ended the tickets: a new search may start.
		e.create(t, alice, "duel")
	})
}

func TestOneActiveTicketPerPlayer(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{}, nil)
		alice := e.as(t, "alice")
		tk := e.create(t, alice, "duel")
		_, err := e.mm.CreateTicket(alice, &skirmishv1.CreateTicketRequest{Mode: "ffa"})
		if status.Code(err) != codes.AlreadyExists {
			t.Fatalf("second CreateTicket = %v, want AlreadyExists", err)
		}
		if _, err := e.mm.CancelTicket(alice, &skirmishv1.CancelTicketRequest{TicketId: tk.GetId()}); err != nil {
			t.Fatalf("CancelTicket: %v", err)
		}
		e.create(t, alice, "ffa")
	})
}

func TestCancel(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{}, nil)
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		tk := e.create(t, alice, "duel")
		w := e.watch(t, alice, tk.GetId())

		for _, call := range []func() error{
			func() error {
				_, err := e.mm.GetTicket(bob, &skirmishv1.GetTicketRequest{TicketId: tk.GetId()})
				return err
			},
			func() error {
				_, err := e.mm.CancelTicket(bob, &skirmishv1.CancelTicketRequest{TicketId: tk.GetId()})
				return err
			},
		} {
			if err := call(); status.Code(err) != codes.NotFound {
				t.Errorf("bob reaching alice's ticket = %v, want NotFound", err)
			}
		}
		resp, err := e.mm.CancelTicket(alice, &skirmishv1.CancelTicketRequest{TicketId: tk.GetId()})
		if err != nil || resp.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
			t.Fatalf("CancelTicket = %v, %v; want CANCELLED", resp, err)
		}
		if final := waitFinal(t, w); final.GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
			t.Errorf("watcher's final state = %v (%s), want CANCELLED", final.GetState(), final.GetFailureReason())
		}
	})
}

func TestExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, fastConfig(), nil)
		e.startGameserver(t, "gs1", 0)
		alice := e.as(t, "alice")
		tk := e.create(t, alice, "duel")
		if final := waitFinal(t, e.watch(t, alice, tk.GetId())); final.GetState() != skirmishv1.TicketState_TICKET_STATE_EXPIRED {
			t.Errorf("lonely ticket ended %v, want EXPIRED", final.GetState())
		}
	})
}

func TestCreateRoomFailureRequeues(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond}, nil)
		rs := e.startGameserver(t, "gs1", 1)
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		ta, tb := e.create(t, alice, "duel"), e.create(t, bob, "duel")
		wa, wb := e.watch(t, alice, ta.GetId()), e.watch(t, bob, tb.GetId())
		first := <-rs.calls
		// The failure made the gameserver suspect; its next heartbeat shows it
		// alive and the retry goes to it.
		waitCounter(t, e, "skirmish_matchmaker_allocation_failures_total", "create_room")
		e.heartbeat(t, rs)
		for _, w := range []<-chan *skirmishv1.Ticket{wa, wb} {
			if final := waitFinal(t, w); final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
				t.Errorf("ticket ended %v (%s), want MATCHED after the retry", final.GetState(), final.GetFailureReason())
			}
		}
		second := <-rs.calls
		if first.GetMatchId() == second.GetMatchId() {
			t.Errorf("retry reused match id %s", first.GetMatchId())
		}
	})
}

// TestGameserverTTL: a gameserver whose last heartbeat is older than the
// TTL gets no room, so the tickets fail at their deadline.
func TestGameserverTTL(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		cfg := fastConfig()
		cfg.GameserverTTL = time.Nanosecond
		e := start(t, cfg, nil)
		rs := e.startGameserver(t, "gs1", 0)
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		ta, tb := e.create(t, alice, "duel"), e.create(t, bob, "duel")
		for _, w := range []<-chan *skirmishv1.Ticket{e.watch(t, alice, ta.GetId()), e.watch(t, bob, tb.GetId())} {
			final := waitFinal(t, w)
			if final.GetState() != skirmishv1.TicketState_TICKET_STATE_FAILED || !strings.Contains(final.GetFailureReason(), "no gameserver") {
				t.Errorf("ticket ended %v (%q), want FAILED for want of a gameserver", final.GetState(), final.GetFailureReason())
			}
		}
		select {
		case req := <-rs.calls:
			t.Errorf("CreateRoom(%v) on a gameserver past its TTL", req)
		default:
		}
	})
}

func TestBadRequests(t *testing.T) {
	e := startMatchmaker(t, Config{})
	player := e.as(t, "alice")
	service := e.asService(t)
	none := withToken(t, "")
	bad := withToken(t, "not-a-token")
	gs := func(f func(*skirmishv1.Gameserver)) *skirmishv1.HeartbeatRequest {
		g := &skirmishv1.Gameserver{Id: "gs", ControlAddress: "127.0.0.1:1", WebsocketUrl: "ws://x/ws", Capacity: 10}
		f(g)
		return &skirmishv1.HeartbeatRequest{Gameserver: g}
	}
	tests := []struct {
		name  string
		call  func() error
		code  codes.Code
		field string
	}{
		{"create without token", func() error {
			_, err := e.mm.CreateTicket(none, &skirmishv1.CreateTicketRequest{Mode: "duel"})
			return err
		}, codes.Unauthenticated, ""},
		{"create with bad token", func() error {
			_, err := e.mm.CreateTicket(bad, &skirmishv1.CreateTicketRequest{Mode: "duel"})
			return err
		}, codes.Unauthenticated, ""},
		{"create with service token", func() error {
			_, err := e.mm.CreateTicket(service, &skirmishv1.CreateTicketRequest{Mode: "duel"})
			return err
		}, codes.Unauthenticated, ""},
		{"create without mode", func() error { _, err := e.mm.CreateTicket(player, &skirmishv1.CreateTicketRequest{}); return err }, codes.InvalidArgument, "mode"},
		{"create with unknown mode", func() error {
			_, err := e.mm.CreateTicket(player, &skirmishv1.CreateTicketRequest{Mode: "chess"})
			return err
		}, codes.InvalidArgument, "mode"},
		{"create with empty region", func() error {
			_, err := e.mm.CreateTicket(player, &skirmishv1.CreateTicketRequest{Mode: "duel", LatenciesMs: map[string]uint32{"": 10}})
			return err
		}, codes.InvalidArgument, "latencies_ms"},
		{"create with huge latency", func() error {
			_, err := e.mm.CreateTicket(player, &skirmishv1.CreateTicketRequest{Mode: "duel", LatenciesMs: map[string]uint32{"eu": 1 << 30}})
			return err
		}, codes.InvalidArgument, "latencies_ms"},
		{"get without id", func() error { _, err := e.mm.GetTicket(player, &skirmishv1.GetTicketRequest{}); return err }, codes.InvalidArgument, "ticket_id"},
		{"get unknown", func() error {
			_, err := e.mm.GetTicket(player, &skirmishv1.GetTicketRequest{TicketId: "nope"})
			return err
		}, codes.NotFound, "ticket_id"},
		{"cancel without id", func() error { _, err := e.mm.CancelTicket(player, &skirmishv1.CancelTicketRequest{}); return err }, codes.InvalidArgument, "ticket_id"},
		{"watch without id", func() error {
			s, err := e.mm.WatchTicket(player, &skirmishv1.WatchTicketRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		}, codes.InvalidArgument, "ticket_id"},
		{"watch without token", func() error {
			s, err := e.mm.WatchTicket(none, &skirmishv1.WatchTicketRequest{TicketId: "x"})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		}, codes.Unauthenticated, ""},
		{"heartbeat with session token", func() error { _, err := e.gsreg.Heartbeat(player, gs(func(*skirmishv1.Gameserver) {})); return err }, codes.Unauthenticated, ""},
		{"heartbeat without token", func() error { _, err := e.gsreg.Heartbeat(none, gs(func(*skirmishv1.Gameserver) {})); return err }, codes.Unauthenticated, ""},
		{"heartbeat without gameserver", func() error { _, err := e.gsreg.Heartbeat(service, &skirmishv1.HeartbeatRequest{}); return err }, codes.InvalidArgument, "gameserver"},
		{"heartbeat without id", func() error {
			_, err := e.gsreg.Heartbeat(service, gs(func(g *skirmishv1.Gameserver) { g.Id = "" }))
			return err
		}, codes.InvalidArgument, "gameserver.id"},
		{"heartbeat without capacity", func() error {
			_, err := e.gsreg.Heartbeat(service, gs(func(g *skirmishv1.Gameserver) { g.Capacity = 0 }))
			return err
		}, codes.InvalidArgument, "gameserver.capacity"},
		{"heartbeat with bad address", func() error {
			_, err := e.gsreg.Heartbeat(service, gs(func(g *skirmishv1.Gameserver) { g.ControlAddress = "nowhere" }))
			return err
		}, codes.InvalidArgument, "gameserver.control_address"},
		{"deregister without id", func() error { _, err := e.gsreg.Deregister(service, &skirmishv1.DeregisterRequest{}); return err }, codes.InvalidArgument, "gameserver_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if status.Code(err) != tt.code {
				t.Fatalf("code = %v (%v), want %v", status.Code(err), err, tt.code)
			}
			if !strings.HasPrefix(status.Convert(err).Message(), tt.field) {
				t.Errorf("message %q does not start with the field %q", status.Convert(err).Message(), tt.field)
			}
		})
	}
}

func TestHealthAndHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		for _, conn := range []*grpc.ClientConn{e.conn, e.iconn} {
			health := healthgrpc.NewHealthClient(conn)
			for _, svc := range []string{"", "skirmish.v1.MatchmakerService", "skirmish.v1.GameserverRegistryService"} {
				resp, err := health.Check(ctx, &healthgrpc.HealthCheckRequest{Service: svc})
				if err != nil || resp.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
					t.Errorf("Check(%q) = %v, %v; want SERVING", svc, resp, err)
				}
			}
		}
		e.create(t, e.as(t, "alice"), "duel")
		for _, tt := range []struct{ addr, path, want string }{
			{e.addr, "/healthz", "ok\n"},
			{e.addr, "/readyz", "ok\n"},
			{e.internalAddr, "/healthz", "ok\n"},
			{e.internalAddr, "/readyz", "ok\n"},
			{e.internalAddr, "/metrics", `skirmish_matchmaker_tickets_total{mode="duel",state="searching"} 1`},
			{e.internalAddr, "/debug/pprof/cmdline", ""},
		} {
			addr, path, want := tt.addr, tt.path, tt.want
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("GET %s%s = %d, body lacks %q", addr, path, resp.StatusCode, want)
			}
			if path == "/metrics" && !strings.Contains(string(body), `skirmish_matchmaker_grpc_server_handled_total{grpc_code="OK",grpc_method="CreateTicket"`) {
				t.Errorf("/metrics lacks the gRPC request count of CreateTicket")
			}
		}
		resp, err := http.Get("http://" + e.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /metrics on the public port = %d, want 404", resp.StatusCode)
		}
	})
}

// TestShutdownEndsStreams: when Run's context ends, open WatchTicket
// streams end with Unavailable and Run returns.
func TestShutdownEndsStreams(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{}, nil)
		alice := e.as(t, "alice")
		tk := e.create(t, alice, "duel")
		w := e.watch(t, alice, tk.GetId())
		if first := <-w; first.GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
			t.Fatalf("first update = %v, want SEARCHING", first)
		}
		if err := e.stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		select {
		case last, ok := <-w:
			if !ok || !strings.Contains(last.GetFailureReason(), "Unavailable") {
				t.Errorf("stream ended with %q, want Unavailable", last.GetFailureReason())
			}
		case <-time.After(waitTimeout):
			t.Fatal("watch stream still open after shutdown")
		}
	})
}

func TestRateLimit(t *testing.T) {
	e := startMatchmaker(t, Config{PlayerRequestRate: 0.001, PlayerRequestBurst: 2})
	alice, bob := e.as(t, "alice"), e.as(t, "bob")
	get := func(ctx context.Context) error {
		_, err := e.mm.GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: "x"})
		return err
	}
	for i, want := range []codes.Code{codes.NotFound, codes.NotFound, codes.ResourceExhausted} {
		if err := get(alice); status.Code(err) != want {
			t.Errorf("call %d = %v, want %v", i+1, err, want)
		}
	}
	if err := get(bob); status.Code(err) != codes.NotFound {
		t.Errorf("another player's call = %v, want NotFound", err)
	}
}

// ratingTable is an in-memory RatingSource with one rating pool.
type ratingTable map[string]float64

func (r ratingTable) Ratings(_ context.Context, _ string, ids []string) (map[string]float64, error) {
	out := make(map[string]float64, len(ids))
	for _, id := range ids {
		if v, ok := r[id]; ok {
			out[id] = v
		}
	}
	return out, nil
}

// poolTable is an in-memory RatingSource with a pool per mode.
type poolTable map[string]ratingTable

func (p poolTable) Ratings(ctx context.Context, mode string, ids []string) (map[string]float64, error) {
	return p[mode].Ratings(ctx, mode, ids)
}

// TestTeamMatchBalanced: four players of a 2v2 get balanced teams, by
// their ratings in the pool of the ticket's mode.
func TestTeamMatchBalanced(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		cfg := Config{FormationInterval: 10 * time.Millisecond, Modes: map[string]Mode{
			"team": {Teams: 2, TeamSize: 2, MinPlayers: 4, MaxWait: time.Minute, Window: SkillWindow{Initial: 500, Max: 500}},
		}}
		ratings := ratingTable{"a": 1400, "b": 1450, "c": 1550, "d": 1600}
		// By the duel pool's ratings the teams would be a+b against c+d.
		e := start(t, cfg, poolTable{"team": ratings, "duel": {"a": 1400, "b": 1600, "c": 1450, "d": 1550}})
		rs := e.startGameserver(t, "gs1", 0)
		watches := map[string]<-chan *skirmishv1.Ticket{}
		for player := range ratings {
			ctx := e.as(t, player)
			watches[player] = e.watch(t, ctx, e.create(t, ctx, "team").GetId())
		}
		teamOf := map[string]uint32{}
		for player, w := range watches {
			final := waitFinal(t, w)
			if final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
				t.Fatalf("%s's ticket ended %v, want MATCHED", player, final.GetState())
			}
			teamOf[player] = final.GetAssignment().GetTeam()
		}
		if teamOf["a"] != teamOf["d"] || teamOf["b"] != teamOf["c"] || teamOf["a"] == teamOf["b"] {
			t.Errorf("teams %v, want a+d against b+c", teamOf)
		}
		if req := <-rs.calls; len(req.GetSeats()) != 4 {
			t.Errorf("CreateRoom seats = %v, want 4", req.GetSeats())
		}
	})
}

// TestReflection: the public port's reflection lists only the services
// players call; the internal listener's lists the registry too.
func TestReflection(t *testing.T) {
	e := startMatchmaker(t, Config{})
	list := func(conn *grpc.ClientConn) []string {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		return names
	}
	if names := list(e.conn); !slices.Contains(names, "skirmish.v1.MatchmakerService") || slices.Contains(names, "skirmish.v1.GameserverRegistryService") {
		t.Errorf("public reflection lists %v, want MatchmakerService and not the registry", names)
	}
	if names := list(e.iconn); !slices.Contains(names, "skirmish.v1.GameserverRegistryService") || slices.Contains(names, "skirmish.v1.MatchmakerService") {
		t.Errorf("internal reflection lists %v, want the registry and not MatchmakerService", names)
	}
}

func TestBestRegion(t *testing.T) {
	tests := []struct {
		latencies map[string]uint32
		want      string
	}{
		{nil, ""},
		{map[string]uint32{"eu": 30, "us": 80}, "eu"},
		{map[string]uint32{"us": 30, "eu": 30}, "eu"},
	}
	for _, tt := range tests {
		if got := bestRegion(tt.latencies); got != tt.want {
			t.Errorf("bestRegion(%v) = %q, want %q", tt.latencies, got, tt.want)
		}
	}
}
