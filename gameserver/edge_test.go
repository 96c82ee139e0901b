package gameserver

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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
