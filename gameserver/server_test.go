package gameserver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/room"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func shortMatch() Config {
	return Config{
		Modes: arena.Modes(arena.Config{MatchDuration: time.Second}),
		Rooms: room.Config{DrainTimeout: 5 * time.Second},
	}
}

// TestPlayMatch plays a short duel with two real WebSocket clients: both
// join, send inputs and acks, get full then delta snapshots carrying their
// input sequence, and end with MatchEnd after the outcome was stored.
func TestPlayMatch(t *testing.T) {
	ts := startServer(t, shortMatch())
	roomID := ts.createRoom(t, "match-1", "duel", "alice", "bob")
	a, b := ts.dial(t), ts.dial(t)
	wa := a.join(ts.joinToken(t, roomID, "match-1", "alice"))
	wb := b.join(ts.joinToken(t, roomID, "match-1", "bob"))
	if wa.RoomId != roomID || wa.EntityId == wb.EntityId || wa.Mode != "duel" || wa.TickRateHz != 30 || wa.Resumed {
		t.Fatalf("Welcome = %v, want room %s, distinct entities, duel at 30 Hz, not resumed", wa, roomID)
	}
	if n := len(wb.Roster); n != 2 || wb.Roster[0].Name != "Nalice" || wb.Roster[1].Name != "Nbob" {
		t.Errorf("bob's Welcome roster = %v, want alice and bob by name", wb.Roster)
	}
	var full, deltas int
	var maxSeq uint32
	var rosterSeen []string // names alice learns by Roster messages
	for _, c := range []*client{a, b} {
		for {
			m := c.recv()
			if r := m.GetRoster(); r != nil {
				if c == a {
					for _, p := range r.Players {
						rosterSeen = append(rosterSeen, p.Name)
					}
				}
				continue
			}
			if s := m.GetSnapshot(); s != nil {
				if s.BaseTick == 0 {
					full++
				} else {
					deltas++
				}
				maxSeq = max(maxSeq, s.LastInputSeq)
				c.input(1, 0, 0, true)
				continue
			}
			end := m.GetMatchEnd()
			if end == nil {
				t.Fatalf("got %v, want snapshots then MatchEnd", m)
			}
			if end.Outcome.MatchId != "match-1" || end.Outcome.EndReason != skirmishv1.EndReason_END_REASON_TIME_LIMIT || len(end.Outcome.Players) != 2 {
				t.Errorf("MatchEnd outcome = %v, want match-1 ended by time with 2 players", end.Outcome)
			}
			if ts.sink.find("match-1") == nil {
				t.Errorf("MatchEnd arrived before the outcome was in the sink")
			}
			break
		}
	}
	if !slices.Contains(rosterSeen, "Nbob") {
		t.Errorf("alice's Roster messages named %v, want bob (Nbob) after he joined", rosterSeen)
	}
	if full == 0 || deltas == 0 || maxSeq == 0 {
		t.Errorf("got %d full and %d delta snapshots, last input seq %d; want some of each and seq > 0", full, deltas, maxSeq)
	}
	var fired uint32
	for _, p := range ts.sink.find("match-1").Players {
		fired += p.ShotsFired
	}
	if fired == 0 {
		t.Errorf("outcome shows no shots fired; inputs were not applied")
	}
}

func TestBadFrames(t *testing.T) {
	ts := startServer(t, Config{})
	roomID := ts.createRoom(t, "m-bad", "duel", "alice", "bob")
	join := func(token string) []byte {
		return mustMarshal(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: token}}})
	}
	input := mustMarshal(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{Inputs: []*skirmishv1.Input{{Seq: 1}}}}})
	tests := []struct {
		name      string
		typ       int
		frame     []byte
		code      skirmishv1.ErrorCode
		closeCode int
	}{
		{"oversize", websocket.BinaryMessage, bytes.Repeat([]byte{1}, 5000), skirmishv1.ErrorCode_ERROR_CODE_TOO_LARGE, websocket.CloseMessageTooBig},
		{"garbage", websocket.BinaryMessage, []byte{0xff, 0xfe, 0x01}, skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, websocket.CloseUnsupportedData},
		{"text frame", websocket.TextMessage, []byte("hello"), skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, websocket.CloseUnsupportedData},
		{"input before join", websocket.BinaryMessage, input, skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, websocket.CloseUnsupportedData},
		{"bad token", websocket.BinaryMessage, join("not-a-token"), skirmishv1.ErrorCode_ERROR_CODE_UNAUTHENTICATED, websocket.ClosePolicyViolation},
		{"unknown room", websocket.BinaryMessage, join(ts.joinToken(t, "no-such-room", "m-bad", "alice")), skirmishv1.ErrorCode_ERROR_CODE_ROOM_NOT_FOUND, websocket.ClosePolicyViolation},
		{"not seated", websocket.BinaryMessage, join(ts.joinToken(t, roomID, "m-bad", "mallory")), skirmishv1.ErrorCode_ERROR_CODE_NOT_SEATED, websocket.ClosePolicyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial(t)
			c.t = t
			if err := c.ws.WriteMessage(tt.typ, tt.frame); err != nil {
				t.Fatal(err)
			}
			c.expectError(tt.code, tt.closeCode)
		})
	}
	t.Run("garbage after join, room keeps running", func(t *testing.T) {
		a, b := ts.dial(t), ts.dial(t)
		a.t, b.t = t, t
		a.join(ts.joinToken(t, roomID, "m-bad", "alice"))
		b.join(ts.joinToken(t, roomID, "m-bad", "bob"))
		a.ws.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0xff})
		a.expectError(skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, websocket.CloseUnsupportedData)
		first := recvSnapshot(t, b)
		for range 3 {
			if s := recvSnapshot(t, b); s.Tick <= first.Tick {
				t.Fatalf("snapshot tick %d after %d: room stalled", s.Tick, first.Tick)
			}
		}
	})
}

func recvSnapshot(t *testing.T, c *client) *skirmishv1.Snapshot {
	t.Helper()
	for {
		if s := c.recv().GetSnapshot(); s != nil {
			return s
		}
	}
}

// TestReconnectAndReplace: a dropped player resumes with the same token
// and a full snapshot; a second connection with a token in use replaces
// the first.
func TestReconnectAndReplace(t *testing.T) {
	ts := startServer(t, Config{})
	roomID := ts.createRoom(t, "m-re", "duel", "alice", "bob")
	ta, tb := ts.joinToken(t, roomID, "m-re", "alice"), ts.joinToken(t, roomID, "m-re", "bob")
	a, b := ts.dial(t), ts.dial(t)
	a.join(ta)
	b.join(tb)
	s := recvSnapshot(t, a)
	a.send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: s.Tick}}})
	for recvSnapshot(t, a).BaseTick == 0 {
	}
	a.ws.Close() // dropped

	a2 := ts.dial(t)
	if w := a2.join(ta); !w.Resumed {
		t.Errorf("Welcome.Resumed after reconnecting = false, want true")
	}
	if s := recvSnapshot(t, a2); s.BaseTick != 0 {
		t.Errorf("first snapshot after reconnecting has base tick %d, want 0 (full)", s.BaseTick)
	}

	b2 := ts.dial(t)
	if w := b2.join(tb); !w.Resumed {
		t.Errorf("Welcome.Resumed for the replacing connection = false, want true")
	}
	b.expectError(skirmishv1.ErrorCode_ERROR_CODE_REPLACED, websocket.ClosePolicyViolation)
	recvSnapshot(t, b2)
}

// TestDrain: on shutdown a running match ends with END_REASON_SHUTDOWN,
// its outcome reaches the sink, players get MatchEnd, Run returns.
func TestDrain(t *testing.T) {
	ts := startServer(t, Config{Rooms: room.Config{DrainTimeout: 100 * time.Millisecond}})
	roomID := ts.createRoom(t, "m-drain", "duel", "alice", "bob")
	a, b := ts.dial(t), ts.dial(t)
	a.join(ts.joinToken(t, roomID, "m-drain", "alice"))
	b.join(ts.joinToken(t, roomID, "m-drain", "bob"))
	recvSnapshot(t, a)
	stopped := make(chan error, 1)
	go func() { stopped <- ts.stop() }()
	for {
		m := a.recv()
		if end := m.GetMatchEnd(); end != nil {
			if end.Outcome.EndReason != skirmishv1.EndReason_END_REASON_SHUTDOWN {
				t.Errorf("EndReason = %v, want SHUTDOWN", end.Outcome.EndReason)
			}
			break
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ts.sink.find("m-drain") == nil {
		t.Errorf("outcome of the drained match is not in the sink")
	}
}

// TestReadyzWhileDraining: both ports answer /readyz 200 "ok\n" while the
// gameserver takes rooms, and 503 "not ready: draining\n" from when its
// drain begins until the running match ends.
func TestReadyzWhileDraining(t *testing.T) {
	ts := startServer(t, Config{Rooms: room.Config{DrainTimeout: time.Minute}})
	roomID := ts.createRoom(t, "m-ready", "duel", "alice", "bob")
	a, b := ts.dial(t), ts.dial(t)
	a.join(ts.joinToken(t, roomID, "m-ready", "alice"))
	b.join(ts.joinToken(t, roomID, "m-ready", "bob"))
	recvSnapshot(t, a)
	for _, addr := range []string{ts.addr, ts.internalAddr} {
		if code, body := getReadyz(t, addr); code != http.StatusOK || body != "ok\n" {
			t.Errorf("GET %s/readyz = %d %q, want 200 \"ok\\n\"", addr, code, body)
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- ts.stop() }()
	// The match runs on through the drain (up to a minute): wait until the
	// drain has begun, then ask both ports.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(wait)
	for !ts.srv.rooms.Draining() {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("the drain did not begin within %v", wait)
		}
	}
	for _, addr := range []string{ts.addr, ts.internalAddr} {
		if code, body := getReadyz(t, addr); code != http.StatusServiceUnavailable || body != "not ready: draining\n" {
			t.Errorf("GET %s/readyz while draining = %d %q, want 503 \"not ready: draining\\n\"", addr, code, body)
		}
	}
	// The players leave, which ends the match and so the drain.
	for _, c := range []*client{a, b} {
		c.send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func getReadyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("GET %s/readyz: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s/readyz: %v", addr, err)
	}
	return resp.StatusCode, string(body)
}

func TestRoomService(t *testing.T) {
	ts := startServer(t, Config{})
	rooms := skirmishv1.NewRoomServiceClient(ts.grpcConn(t))
	seats := []*skirmishv1.Seat{{PlayerId: "a", Team: 1}, {PlayerId: "b", Team: 2}}
	tests := []struct {
		name   string
		authed bool
		req    *skirmishv1.CreateRoomRequest
		want   codes.Code
	}{
		{"ok", true, &skirmishv1.CreateRoomRequest{MatchId: "m", Mode: "duel", Seats: seats}, codes.OK},
		{"no token", false, &skirmishv1.CreateRoomRequest{MatchId: "m", Mode: "duel", Seats: seats}, codes.Unauthenticated},
		{"unknown mode", true, &skirmishv1.CreateRoomRequest{MatchId: "m", Mode: "chess", Seats: seats}, codes.InvalidArgument},
		{"no seats", true, &skirmishv1.CreateRoomRequest{MatchId: "m", Mode: "ffa"}, codes.InvalidArgument},
		{"duel of three", true, &skirmishv1.CreateRoomRequest{MatchId: "m", Mode: "duel", Seats: append(seats, &skirmishv1.Seat{PlayerId: "c"})}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ts.serviceCtx(t)
			if !tt.authed {
				ctx = t.Context()
			}
			resp, err := rooms.CreateRoom(ctx, tt.req)
			if got := status.Code(err); got != tt.want {
				t.Fatalf("CreateRoom(%s) code = %v (%v), want %v", tt.name, got, err, tt.want)
			}
			if err == nil && resp.RoomId == "" {
				t.Errorf("CreateRoom returned an empty room id")
			}
		})
	}
	h, err := healthpb.NewHealthClient(ts.grpcConn(t)).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health Check = %v, %v; want SERVING", h, err)
	}
}

// TestHTTPEndpoints: probes answer on both ports; /metrics and pprof only
// on the internal listener; RoomService is not on the public port.
func TestHTTPEndpoints(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tt := range []struct {
		addr, path string
		want       int
	}{
		{ts.addr, "/healthz", http.StatusOK},
		{ts.addr, "/readyz", http.StatusOK},
		{ts.addr, "/metrics", http.StatusNotFound},
		{ts.addr, "/debug/pprof/", http.StatusNotFound},
		{ts.internalAddr, "/healthz", http.StatusOK},
		{ts.internalAddr, "/readyz", http.StatusOK},
		{ts.internalAddr, "/metrics", http.StatusOK},
		{ts.internalAddr, "/debug/pprof/cmdline", http.StatusOK},
	} {
		resp, err := http.Get("http://" + tt.addr + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s%s = %d, want %d", tt.addr, tt.path, resp.StatusCode, tt.want)
		}
		if tt.path == "/metrics" && tt.want == http.StatusOK && !bytes.Contains(body, []byte("skirmish_gameserver_http_requests_total")) {
			t.Errorf("GET /metrics lacks the request counter")
		}
	}
	conn, err := grpc.NewClient(ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = skirmishv1.NewRoomServiceClient(conn).CreateRoom(ts.serviceCtx(t), &skirmishv1.CreateRoomRequest{Mode: "duel"})
	if status.Code(err) == codes.OK || status.Code(err) == codes.InvalidArgument {
		t.Errorf("CreateRoom on the public port = %v, want it not served", err)
	}
}

// TestInputsPerMessage: an SDK player sending two inputs to a message
// has both applied, one per tick, and an input waiting for its partner is
// not sent yet.
func TestInputsPerMessage(t *testing.T) {
	ts := startServer(t, Config{})
	roomID := ts.createRoom(t, "m-batch", "duel", "p1", "p2")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var games []*skirmish.Game
	for _, p := range []string{"p1", "p2"} {
		a := &skirmishv1.Assignment{RoomId: roomID, MatchId: "m-batch", WebsocketUrl: "ws://" + ts.addr + "/ws",
			JoinToken: ts.joinToken(t, roomID, "m-batch", p)}
		g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{InputsPerMessage: 2})
		if err != nil {
			t.Fatalf("Join(%s): %v", p, err)
		}
		t.Cleanup(func() { g.Close() })
		games = append(games, g)
	}
	g := games[0]
	applied := func(want uint32) {
		t.Helper()
		for ctx.Err() == nil {
			if w := g.World(); w != nil && w.LastInputSeq >= want {
				if w.LastInputSeq != want {
					t.Fatalf("server applied up to input %d, want %d", w.LastInputSeq, want)
				}
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("input %d was never applied", want)
	}
	for range 3 {
		if _, err := g.SendArena(1, 0, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	applied(2)
	time.Sleep(200 * time.Millisecond) // six ticks: input 3 is still unsent
	if w := g.World(); w.LastInputSeq != 2 {
		t.Fatalf("after 3 inputs at 2 per message the server applied up to %d, want 2", w.LastInputSeq)
	}
	if _, err := g.SendArena(1, 0, 0, false); err != nil {
		t.Fatal(err)
	}
	applied(4)
}
