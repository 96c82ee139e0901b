package gameserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second

// memSink is a small real OutcomeSink that keeps outcomes in memory.
type memSink struct {
	mu       sync.Mutex
	outcomes []*skirmishv1.MatchOutcome
}

func (s *memSink) Add(_ context.Context, o *skirmishv1.MatchOutcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, proto.Clone(o).(*skirmishv1.MatchOutcome))
	return nil
}

func (s *memSink) find(matchID string) *skirmishv1.MatchOutcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.outcomes {
		if o.MatchId == matchID {
			return o
		}
	}
	return nil
}

type testServer struct {
	addr         string // public port
	internalAddr string // internal listener: RoomService, /metrics
	keys         *auth.Keys
	sink         *memSink
	srv          *Server
	stop         func() error
}

func newKeys(t testing.TB) *auth.Keys {
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

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	return startServerKeys(t, cfg, newKeys(t))
}

func startServerKeys(t testing.TB, cfg Config, keys *auth.Keys) *testServer {
	t.Helper()
	sink := &memSink{}
	cfg.ID = "gs-test"
	if cfg.Modes == nil {
		cfg.Modes = arena.Modes(arena.Config{})
	}
	if cfg.Rooms.DrainTimeout == 0 {
		cfg.Rooms.DrainTimeout = 100 * time.Millisecond
	}
	srv, err := New(cfg, keys, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
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
	go func() { done <- srv.Run(ctx, ln, internal) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(2 * wait):
				runErr = errors.New("Run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &testServer{addr: ln.Addr().String(), internalAddr: internal.Addr().String(), keys: keys, sink: sink, srv: srv, stop: stop}
}

func (ts *testServer) grpcConn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(ts.internalAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (ts *testServer) serviceCtx(t testing.TB) context.Context {
	token, err := ts.keys.IssueService(auth.KindControl, "matchmaker", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// createRoom allocates a room over gRPC and returns its id.
func (ts *testServer) createRoom(t testing.TB, matchID, mode string, players ...string) string {
	t.Helper()
	req := &skirmishv1.CreateRoomRequest{MatchId: matchID, Mode: mode}
	for i, p := range players {
		req.Seats = append(req.Seats, &skirmishv1.Seat{PlayerId: p, Name: "N" + p, Team: uint32(i%2 + 1)})
	}
	resp, err := skirmishv1.NewRoomServiceClient(ts.grpcConn(t)).CreateRoom(ts.serviceCtx(t), req)
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return resp.RoomId
}

func (ts *testServer) joinToken(t testing.TB, roomID, matchID, player string) string {
	t.Helper()
	tok, err := ts.keys.IssueJoin(auth.Join{PlayerID: player, MatchID: matchID, RoomID: roomID}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a real WebSocket player.
type client struct {
	t    testing.TB
	ws   *websocket.Conn
	seq  uint32
	last uint32 // newest snapshot tick
}

func (ts *testServer) dial(t testing.TB) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

func (c *client) send(m *skirmishv1.ClientMessage) {
	c.t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) join(token string) *skirmishv1.Welcome {
	c.t.Helper()
	c.send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Join{Join: &skirmishv1.Join{Token: token}}})
	m := c.recv()
	w := m.GetWelcome()
	if w == nil {
		c.t.Fatalf("after Join got %v, want Welcome", m)
	}
	return w
}

// recv returns the next server message, failing the test on timeout.
func (c *client) recv() *skirmishv1.ServerMessage {
	c.t.Helper()
	m, err := c.tryRecv()
	if err != nil {
		c.t.Fatalf("recv: %v", err)
	}
	return m
}

func (c *client) tryRecv() (*skirmishv1.ServerMessage, error) {
	c.ws.SetReadDeadline(time.Now().Add(wait))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m skirmishv1.ServerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if s := m.GetSnapshot(); s != nil {
		c.last = s.Tick
	}
	return &m, nil
}

// input sends one Arena input and acknowledges the newest snapshot.
func (c *client) input(mx, my, aim float32, fire bool) {
	c.seq++
	c.send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{Inputs: []*skirmishv1.Input{
		{Seq: c.seq, Game: &skirmishv1.Input_Arena{Arena: &skirmishv1.ArenaInput{MoveX: mx, MoveY: my, Aim: aim, Fire: fire}}},
	}}}})
	if c.last > 0 {
		c.send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: c.last}}})
	}
}

// expectError reads until an Error message and then the close frame.
func (c *client) expectError(code skirmishv1.ErrorCode, closeCode int) {
	c.t.Helper()
	for {
		m, err := c.tryRecv()
		if err != nil {
			c.t.Fatalf("waiting for Error %v: %v", code, err)
		}
		if e := m.GetError(); e != nil {
			if e.Code != code {
				c.t.Fatalf("Error code = %v (%s), want %v", e.Code, e.Message, code)
			}
			break
		}
	}
	_, err := c.tryRecv()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != closeCode {
		c.t.Fatalf("after Error %v: %v, want close code %d", code, err, closeCode)
	}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
