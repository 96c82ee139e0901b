package gameserver

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/ws"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// floodGame sends every viewer a large world (~100 KB a snapshot), so
// that a client that stops reading fills the socket buffers quickly.
type floodGame struct{ world []game.Entity }

func newFlood() *floodGame {
	g := &floodGame{}
	for i := range 800 {
		f := make([]int32, 40)
		for j := range f {
			f[j] = int32(i*40+j) * 7919
		}
		g.world = append(g.world, game.Entity{ID: uint32(i + 1), Kind: 1, Fields: f})
	}
	return g
}

func (g *floodGame) Join(string) (uint32, uint32)    { return 1, 0 }
func (g *floodGame) Leave(string)                    {}
func (g *floodGame) Input(string, *skirmishv1.Input) {}
func (g *floodGame) Tick() bool                      { return false }
func (g *floodGame) Snapshot(string) []game.Entity   { return g.world }
func (g *floodGame) Outcome() game.Outcome           { return game.Outcome{} }

// TestStalledClientIsCut: a client that stops reading, so that the
// server's writes to it block, is cut off within the slow-client allowance
// plus a second, not after the (here one hour) write timeout; the other
// player's snapshots keep coming meanwhile.
func TestStalledClientIsCut(t *testing.T) {
	cfg := Config{
		Modes:     []game.Mode{{Name: "flood", MinPlayers: 1, New: func(game.Config) (game.Game, error) { return newFlood(), nil }}},
		Rooms:     room.Config{SlowClientTimeout: 200 * time.Millisecond},
		WebSocket: ws.Config{WriteTimeout: time.Hour, IdleTimeout: time.Hour},
	}
	ts := startServer(t, cfg)
	roomID := ts.createRoom(t, "m-stall", "flood", "stalled", "reader")

	// The stalled client asks for a small receive buffer.
	small := &websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}).DialContext, ReadBufferSize: 1024}
	sws, _, err := small.Dial("ws://"+ts.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sws.Close() })
	stalled := &client{t: t, ws: sws}
	stalled.join(ts.joinToken(t, roomID, "m-stall", "stalled"))
	sws.SetReadLimit(1 << 30)
	reader := ts.dial(t)
	reader.ws.SetReadLimit(1 << 30)
	reader.join(ts.joinToken(t, roomID, "m-stall", "reader"))

	// Keep reading as the other player until the server has cut the
	// stalled one (its forced-disconnect counter moves) and closed its
	// connection, although that client still reads nothing.
	deadline := time.Now().Add(3 * wait)
	for tooSlow(t, ts) == 0 || gauge(t, ts, "skirmish_gameserver_players_connected") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the stalled client was never cut off")
		}
		recvSnapshot(t, reader)
	}
	recvSnapshot(t, reader) // the room still runs
}

func tooSlow(t *testing.T, ts *testServer) float64 {
	t.Helper()
	mfs, err := ts.srv.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "skirmish_gameserver_forced_disconnects_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabel(m, "reason", "too_slow") {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func gauge(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	mfs, err := ts.srv.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
