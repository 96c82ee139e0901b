package gameserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/ws"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestMessageFloodClosed: a joined player sending acks far faster than
// the message bound gets ERROR_CODE_RATE_LIMITED and is closed; the room
// keeps running for the other player.
func TestMessageFloodClosed(t *testing.T) {
	ts := startServer(t, Config{WebSocket: ws.Config{MessageRate: 50, MessageBurst: 50}})
	room := ts.createRoom(t, "m-flood", arena.ModeDuel, "a", "b")
	a, b := ts.dial(t), ts.dial(t)
	a.join(ts.joinToken(t, room, "m-flood", "a"))
	b.join(ts.joinToken(t, room, "m-flood", "b"))
	ack := mustMarshal(t, &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: 1}}})
	go func() {
		for range 1000 {
			if a.ws.WriteMessage(websocket.BinaryMessage, ack) != nil {
				return
			}
		}
	}()
	a.expectError(skirmishv1.ErrorCode_ERROR_CODE_RATE_LIMITED, websocket.ClosePolicyViolation)
	// The other player still gets snapshots.
	for range 3 {
		if m := b.recv(); m.GetError() != nil {
			t.Fatalf("the other player got %v", m)
		}
	}
}

// TestPingFloodClosed: WebSocket pings count against the message bound,
// before and after joining: a ping flood ends the connection.
func TestPingFloodClosed(t *testing.T) {
	ts := startServer(t, Config{WebSocket: ws.Config{MessageRate: 50, MessageBurst: 50}})
	c := ts.dial(t)
	pongs := 0
	c.ws.SetPongHandler(func(string) error { pongs++; return nil })
	go func() {
		for range 5000 {
			if c.ws.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second)) != nil {
				return
			}
		}
	}()
	c.ws.SetReadDeadline(time.Now().Add(wait))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("a ping flood did not end the connection")
			}
			break
		}
	}
	if pongs > 60 {
		t.Errorf("%d pongs answered, want at most the burst (50) and a little", pongs)
	}
}

// TestConnectionsPerPeer: one address holds at most ConnsPerPeer
// connections; the next is refused, and a slot frees when one closes.
func TestConnectionsPerPeer(t *testing.T) {
	ts := startServer(t, Config{Edge: Edge{ConnsPerPeer: 3}})
	var open []*websocket.Conn
	for range 3 {
		c := ts.dial(t)
		open = append(open, c.ws)
	}
	_, _, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+"/ws", nil)
	if err == nil {
		t.Fatal("a fourth connection from one address was accepted")
	}
	open[0].Close()
	deadline := time.Now().Add(wait)
	for {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+"/ws", nil)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server notices the close asynchronously
	}
}

// TestPageSecurityHeaders: the browser game's page and config carry CSP,
// nosniff and frame-ancestors.
func TestPageSecurityHeaders(t *testing.T) {
	ts := startServer(t, Config{Web: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html></html>")) })})
	for _, path := range []string{"/", "/config.json"} {
		resp, err := http.Get("http://" + ts.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
		}
	}
}

// TestBadInputEveryRoomMethod: bad RoomService calls get the status each
// must get, covering every method (checked against the service
// descriptor).
func TestBadInputEveryRoomMethod(t *testing.T) {
	ts := startServer(t, Config{})
	rooms := skirmishv1.NewRoomServiceClient(ts.grpcConn(t))
	svc := ts.serviceCtx(t)
	seats := []*skirmishv1.Seat{{PlayerId: "a", Team: 1}, {PlayerId: "b", Team: 2}}
	long := strings.Repeat("x", 4096)
	many := make([]*skirmishv1.Seat, 65)
	for i := range many {
		many[i] = &skirmishv1.Seat{PlayerId: fmt.Sprint("p", i)}
	}
	tests := []struct {
		method, name string
		call         func() error
		want         codes.Code
	}{
		{"CreateRoom", "no token", func() error {
			_, err := rooms.CreateRoom(t.Context(), &skirmishv1.CreateRoomRequest{Mode: "duel", Seats: seats})
			return err
		}, codes.Unauthenticated},
		{"CreateRoom", "4 KiB match id", func() error {
			_, err := rooms.CreateRoom(svc, &skirmishv1.CreateRoomRequest{MatchId: long, Mode: "duel", Seats: seats})
			return err
		}, codes.InvalidArgument},
		{"CreateRoom", "4 KiB player id", func() error {
			_, err := rooms.CreateRoom(svc, &skirmishv1.CreateRoomRequest{Mode: "duel", Seats: []*skirmishv1.Seat{{PlayerId: long}, {PlayerId: "b"}}})
			return err
		}, codes.InvalidArgument},
		{"CreateRoom", "65 seats", func() error {
			_, err := rooms.CreateRoom(svc, &skirmishv1.CreateRoomRequest{Mode: "ffa", Seats: many})
			return err
		}, codes.InvalidArgument},
		{"CreateRoom", "over the message limit", func() error {
			_, err := rooms.CreateRoom(svc, &skirmishv1.CreateRoomRequest{Mode: strings.Repeat("m", 2<<20)})
			return err
		}, codes.ResourceExhausted},
		{"AddSeats", "no token", func() error {
			_, err := rooms.AddSeats(t.Context(), &skirmishv1.AddSeatsRequest{RoomId: "r", Seats: seats})
			return err
		}, codes.Unauthenticated},
		{"AddSeats", "no room", func() error {
			_, err := rooms.AddSeats(svc, &skirmishv1.AddSeatsRequest{Seats: seats})
			return err
		}, codes.InvalidArgument},
		{"AddSeats", "unknown room", func() error {
			_, err := rooms.AddSeats(svc, &skirmishv1.AddSeatsRequest{RoomId: "nope", Seats: seats})
			return err
		}, codes.NotFound},
		{"AddSeats", "4 KiB name", func() error {
			_, err := rooms.AddSeats(svc, &skirmishv1.AddSeatsRequest{RoomId: "r", Seats: []*skirmishv1.Seat{{PlayerId: "c", Name: long}}})
			return err
		}, codes.InvalidArgument},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.method] = true
		if got := status.Code(tt.call()); got != tt.want {
			t.Errorf("%s (%s) = %v, want %v", tt.method, tt.name, got, tt.want)
		}
	}
	for _, m := range skirmishv1.RoomService_ServiceDesc.Methods {
		if !covered[m.MethodName] {
			t.Errorf("no bad input for RoomService.%s", m.MethodName)
		}
	}
}

// TestJoinTimeout: a connection that sends no Join within JoinTimeout is
// told so and closed.
func TestJoinTimeout(t *testing.T) {
	ts := startServer(t, Config{WebSocket: ws.Config{JoinTimeout: 100 * time.Millisecond}})
	c := ts.dial(t)
	c.expectError(skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, websocket.CloseUnsupportedData)
}

// TestProtocolErrorsClosed: frames that break RFC 6455 end the connection
// with the close code the RFC names, before joining and while the room
// polls the player's inputs; the room keeps running for the other player.
func TestProtocolErrorsClosed(t *testing.T) {
	ts := startServer(t, Config{})
	room := ts.createRoom(t, "m-proto", arena.ModeDuel, "a", "b")
	expectClose := func(t *testing.T, c *client, code int) {
		t.Helper()
		for {
			_, err := c.tryRecv()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if ce.Code != code {
					t.Fatalf("close code %d (%s), want %d", ce.Code, ce.Text, code)
				}
				return
			}
			if err != nil {
				t.Fatalf("want close %d, got %v", code, err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		code int
	}{
		{"unmasked frame", []byte{0x82, 0x01, 0x00}, websocket.CloseProtocolError},
		{"reserved bit", []byte{0xc2, 0x80, 0, 0, 0, 0}, websocket.CloseProtocolError},
		{"unknown opcode", []byte{0x83, 0x80, 0, 0, 0, 0}, websocket.CloseProtocolError},
		{"frame over 64 KiB", []byte{0x82, 0xff, 0, 0, 0, 0, 0, 2, 0, 0}, websocket.CloseMessageTooBig},
	} {
		t.Run("before join: "+tc.name, func(t *testing.T) {
			c := ts.dial(t)
			c.t = t
			if _, err := c.ws.NetConn().Write(tc.raw); err != nil {
				t.Fatal(err)
			}
			expectClose(t, c, tc.code)
		})
	}
	t.Run("while playing: unmasked frame", func(t *testing.T) {
		a, b := ts.dial(t), ts.dial(t)
		a.t, b.t = t, t
		a.join(ts.joinToken(t, room, "m-proto", "a"))
		b.join(ts.joinToken(t, room, "m-proto", "b"))
		recvSnapshot(t, a)
		a.input(1, 0, 0, false) // the room polls a's inputs now
		recvSnapshot(t, a)
		if _, err := a.ws.NetConn().Write([]byte{0x82, 0x01, 0x00}); err != nil {
			t.Fatal(err)
		}
		expectClose(t, a, websocket.CloseProtocolError)
		first := recvSnapshot(t, b)
		if s := recvSnapshot(t, b); s.Tick <= first.Tick {
			t.Fatalf("snapshot tick %d after %d: room stalled", s.Tick, first.Tick)
		}
	})
}

// TestIdlePlayerClosed: a player who sends nothing for the idle timeout
// while the match runs (the room polls its connection) is closed; the
// other player plays on.
func TestIdlePlayerClosed(t *testing.T) {
	ts := startServer(t, Config{WebSocket: ws.Config{IdleTimeout: 500 * time.Millisecond}})
	room := ts.createRoom(t, "m-idle", arena.ModeDuel, "a", "b")
	a, b := ts.dial(t), ts.dial(t)
	a.join(ts.joinToken(t, room, "m-idle", "a"))
	b.join(ts.joinToken(t, room, "m-idle", "b"))
	a.input(0, 1, 0, false) // then silence
	start := time.Now()
	for {
		b.input(1, 0, 0, false)
		recvSnapshot(t, b)
		if _, err := a.tryRecv(); err != nil {
			if time.Since(start) < 500*time.Millisecond {
				t.Fatalf("closed after %v, before the idle timeout: %v", time.Since(start), err)
			}
			return
		}
	}
}
