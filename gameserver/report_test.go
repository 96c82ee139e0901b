package gameserver

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// registry is a real gRPC GameserverRegistryService that checks service
// tokens, hands every call to channels and logs them in order.
type registry struct {
	skirmishv1.UnimplementedGameserverRegistryServiceServer
	keys        *auth.Keys
	heartbeats  chan *skirmishv1.Gameserver
	deregisters chan string
	reports     chan *skirmishv1.ReportRoomRequest

	mu    sync.Mutex
	calls []string // "heartbeat", "heartbeat draining", "deregister", or the report's event
}

func (r *registry) logCall(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

// log returns the calls so far, in order.
func (r *registry) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *registry) authorized(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			if _, err := r.keys.VerifyService(auth.KindRegistry, tok); err == nil {
				return nil
			}
		}
	}
	return status.Error(codes.Unauthenticated, "service token required")
}

func (r *registry) Heartbeat(ctx context.Context, req *skirmishv1.HeartbeatRequest) (*skirmishv1.HeartbeatResponse, error) {
	if err := r.authorized(ctx); err != nil {
		return nil, err
	}
	if req.Gameserver.GetDraining() {
		r.logCall("heartbeat draining")
	} else {
		r.logCall("heartbeat")
	}
	select {
	case r.heartbeats <- req.Gameserver:
	default:
	}
	return &skirmishv1.HeartbeatResponse{Interval: durationpb.New(50 * time.Millisecond)}, nil
}

func (r *registry) Deregister(ctx context.Context, req *skirmishv1.DeregisterRequest) (*skirmishv1.DeregisterResponse, error) {
	if err := r.authorized(ctx); err != nil {
		return nil, err
	}
	r.logCall("deregister")
	r.deregisters <- req.GameserverId
	return &skirmishv1.DeregisterResponse{}, nil
}

func (r *registry) ReportRoom(ctx context.Context, req *skirmishv1.ReportRoomRequest) (*skirmishv1.ReportRoomResponse, error) {
	if err := r.authorized(ctx); err != nil {
		return nil, err
	}
	r.logCall(req.Event.String())
	r.reports <- req
	return &skirmishv1.ReportRoomResponse{}, nil
}

// startRegistry serves a registry on a loopback port.
func startRegistry(t *testing.T, keys *auth.Keys) (*registry, string) {
	t.Helper()
	reg := &registry{keys: keys, heartbeats: make(chan *skirmishv1.Gameserver, 1),
		deregisters: make(chan string, 1), reports: make(chan *skirmishv1.ReportRoomRequest, 64)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	skirmishv1.RegisterGameserverRegistryServiceServer(g, reg)
	var wg sync.WaitGroup
	wg.Go(func() { g.Serve(ln) })
	t.Cleanup(func() { g.Stop(); wg.Wait() })
	return reg, ln.Addr().String()
}

func (r *registry) nextReport(t *testing.T, want skirmishv1.RoomEvent) *skirmishv1.ReportRoomRequest {
	t.Helper()
	select {
	case rep := <-r.reports:
		if rep.Event != want {
			t.Fatalf("report %v for room %s, want %v", rep.Event, rep.RoomId, want)
		}
		return rep
	case <-time.After(wait):
		t.Fatalf("no %v report within %v", want, wait)
	}
	return nil
}

// TestHeartbeatsAndDeregister: the server registers with heartbeats that
// describe it, and deregisters when it stops.
func TestHeartbeatsAndDeregister(t *testing.T) {
	keys := newKeys(t)
	reg, addr := startRegistry(t, keys)
	ts := startServerKeys(t, Config{MatchmakerAddr: addr, Capacity: 40, Region: "eu"}, keys)
	var gs *skirmishv1.Gameserver
	select {
	case gs = <-reg.heartbeats:
	case <-time.After(wait):
		t.Fatal("no heartbeat")
	}
	if gs.Id != "gs-test" || gs.Region != "eu" || gs.Capacity != 40 || gs.ControlAddress != ts.internalAddr || gs.WebsocketUrl != "ws://"+ts.addr+"/ws" || gs.Draining {
		t.Errorf("heartbeat = %v, want gs-test in eu, capacity 40, at %s, not draining", gs, ts.addr)
	}
	ts.createRoom(t, "m-hb", "duel", "alice", "bob")
	for gs.Players != 2 || gs.Rooms != 1 { // the heartbeat after the room was made
		select {
		case gs = <-reg.heartbeats:
		case <-time.After(wait):
			t.Fatalf("heartbeats never showed the room: last %v", gs)
		}
	}
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-reg.deregisters:
		if id != "gs-test" {
			t.Errorf("Deregister(%q), want gs-test", id)
		}
	case <-time.After(wait):
		t.Fatal("no Deregister after stop")
	}
}

// TestRoomCancelledReport: a room nobody joins by the deadline is reported
// CANCELLED with the missing players.
func TestRoomCancelledReport(t *testing.T) {
	keys := newKeys(t)
	reg, addr := startRegistry(t, keys)
	// Alice must have joined before the deadline for the report to name
	// only bob: 2 s leaves a loaded machine room for her dial and join
	// (100 ms did not: alice was missing too, now and then).
	ts := startServerKeys(t, Config{MatchmakerAddr: addr, Rooms: room.Config{JoinTimeout: 2 * time.Second}}, keys)
	roomID := ts.createRoom(t, "m-cancel", "duel", "alice", "bob")
	a := ts.dial(t)
	a.join(ts.joinToken(t, roomID, "m-cancel", "alice"))
	rep := reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_CANCELLED)
	if rep.RoomId != roomID || rep.MatchId != "m-cancel" || rep.Mode != "duel" || rep.GameserverId != "gs-test" ||
		!slices.Equal(rep.MissingPlayerIds, []string{"bob"}) {
		t.Errorf("report = %v, want room %s of m-cancel, duel, bob missing", rep, roomID)
	}
}

// TestBackfill: in a running ffa a player leaves; the room asks for
// backfill, the matchmaker adds a seat over RoomService, the newcomer
// joins and plays, the room reports backfill done, and ENDED at the end.
func TestBackfill(t *testing.T) {
	keys := newKeys(t)
	reg, addr := startRegistry(t, keys)
	cfg := Config{MatchmakerAddr: addr, Modes: arena.Modes(arena.Config{MatchDuration: time.Minute, BackfillMinTimeLeft: time.Second})}
	ts := startServerKeys(t, cfg, keys)
	rooms := skirmishv1.NewRoomServiceClient(ts.grpcConn(t))
	roomID := ts.createRoom(t, "m-bf", "ffa", "alice", "bob", "carol")
	var cs []*client
	for _, p := range []string{"alice", "bob", "carol"} {
		c := ts.dial(t)
		c.join(ts.joinToken(t, roomID, "m-bf", p))
		cs = append(cs, c)
	}
	recvSnapshot(t, cs[0])
	if rep := reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_STARTED); rep.RoomId != roomID || rep.MatchId != "m-bf" {
		t.Fatalf("started report = %v, want room %s of m-bf", rep, roomID)
	}

	// Before anyone left there is nothing to fill.
	_, err := rooms.AddSeats(ts.serviceCtx(t), &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: "dave"}}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("AddSeats before a seat opened: %v, want FailedPrecondition", err)
	}

	cs[2].send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})
	rep := reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED)
	if rep.RoomId != roomID || len(rep.OpenSeats) != 1 {
		t.Fatalf("backfill report = %v, want one open seat in %s", rep, roomID)
	}

	bad := []struct {
		name string
		req  *skirmishv1.AddSeatsRequest
		want codes.Code
	}{
		{"no room", &skirmishv1.AddSeatsRequest{Seats: []*skirmishv1.Seat{{PlayerId: "dave"}}}, codes.InvalidArgument},
		{"no seats", &skirmishv1.AddSeatsRequest{RoomId: roomID}, codes.InvalidArgument},
		{"unknown room", &skirmishv1.AddSeatsRequest{RoomId: "nope", Seats: []*skirmishv1.Seat{{PlayerId: "dave"}}}, codes.NotFound},
		{"seated already", &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: "bob"}}}, codes.InvalidArgument},
		{"no player id", &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{Name: "x"}}}, codes.InvalidArgument},
		{"more than open", &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: "d1"}, {PlayerId: "d2"}}}, codes.FailedPrecondition},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := rooms.AddSeats(ts.serviceCtx(t), tt.req); status.Code(err) != tt.want {
				t.Errorf("AddSeats(%s) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
	if _, err := rooms.AddSeats(t.Context(), &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: "dave"}}}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("AddSeats without a service token = %v, want Unauthenticated", err)
	}

	if _, err := rooms.AddSeats(ts.serviceCtx(t), &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: "dave", Name: "Dave"}}}); err != nil {
		t.Fatalf("AddSeats(dave): %v", err)
	}
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE)

	d := ts.dial(t)
	w := d.join(ts.joinToken(t, roomID, "m-bf", "dave"))
	if w.Resumed || w.EntityId != 5 || w.Team != 4 {
		t.Errorf("dave's Welcome = %v, want entity 5 on team 4, not resumed", w)
	}
	for {
		s := recvSnapshot(t, cs[0])
		if slices.Contains(s.Ids, w.EntityId) {
			break // the others see the newcomer
		}
		cs[0].send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: s.Tick}}})
	}

	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_ENDED)
	o := ts.sink.find("m-bf")
	if o == nil || len(o.Players) != 4 {
		t.Fatalf("outcome = %v, want 4 players (carol left, dave joined)", o)
	}
}
