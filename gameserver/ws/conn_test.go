package ws

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// pair returns the server's conn and a gorilla client connected to it
// over loopback TCP, the way Handler sets conns up.
func pair(t *testing.T, clientWriteBuffer int) (*conn, *websocket.Conn) {
	t.Helper()
	cfg := &Config{}
	cfg.fill()
	bufs := &sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
	got := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- newConn(ws, cfg, bufs)
	}))
	t.Cleanup(srv.Close)
	d := &websocket.Dialer{WriteBufferSize: clientWriteBuffer}
	cl, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := <-got
	t.Cleanup(func() { cl.Close(); c.ws.Close() })
	if c.w.sock == nil {
		t.Fatal("a loopback TCP connection has no file descriptor")
	}
	return c, cl
}

// TestFramesReadByGorilla: frames of every length encoding, written whole
// (Write) or without blocking (TryWrite), arrive intact at a gorilla
// client.
func TestFramesReadByGorilla(t *testing.T) {
	c, cl := pair(t, 0)
	sizes := []int{0, 1, 125, 126, 65535, 65536, 100000}
	go func() {
		for i, n := range sizes {
			p := bytes.Repeat([]byte{byte(i + 1)}, n)
			if i%2 == 0 {
				if w, flush := c.TryWrite(p); w && !flush {
					continue
				} else if w {
					c.Flush(context.Background())
					continue
				}
			}
			c.Write(context.Background(), p)
		}
	}()
	for i, n := range sizes {
		cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, b, err := cl.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage || !bytes.Equal(b, bytes.Repeat([]byte{byte(i + 1)}, n)) {
			t.Fatalf("frame %d (%d bytes): type %d, %d bytes, %v", i, n, typ, len(b), err)
		}
	}
}

// TestTryWriteFullSocket: once the socket is full TryWrite writes part of
// a frame or nothing; the rest goes out first on the next Write, so a
// client that reads again gets every frame whole and in order.
func TestTryWriteFullSocket(t *testing.T) {
	c, cl := pair(t, 0)
	frame := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 1000+i%7) }
	i, partial := 0, false
	for ; i < 100000; i++ {
		w, flush := c.TryWrite(frame(i))
		if !w {
			break
		}
		if flush {
			partial = true
			i++
			break
		}
	}
	if i == 100000 {
		t.Fatal("the socket never filled")
	}
	if partial {
		if w, _ := c.TryWrite(frame(i)); w {
			t.Fatal("TryWrite wrote past a frame it left unfinished")
		}
	}
	total := i + 3
	done := make(chan error, 1)
	go func() {
		for j := i; j < total; j++ {
			if err := c.Write(context.Background(), frame(j)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for j := 0; j < total; j++ {
		cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := cl.ReadMessage()
		if err != nil || !bytes.Equal(b, frame(j)) {
			t.Fatalf("frame %d of %d: %d bytes, %v", j, total, len(b), err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPollAndRead: Poll hands inputs and acks to the room and stops at
// anything else, which read then returns; a gorilla client's fragmented
// message (its write buffer is smaller than the message) reads whole, and
// its ping gets a pong.
func TestPollAndRead(t *testing.T) {
	c, cl := pair(t, 64)
	send := func(m *skirmishv1.ClientMessage) {
		b, _ := m.MarshalVT()
		if err := cl.WriteMessage(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	inputs := &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{AckTick: 7,
		Inputs: []*skirmishv1.Input{{Seq: 1, Game: &skirmishv1.Input_Custom{Custom: bytes.Repeat([]byte{3}, 300)}}}}}}
	send(inputs) // 300+ bytes through a 64-byte buffer: fragmented
	send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: 8}}})
	send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})

	var got []*skirmishv1.ClientMessage
	handle := func(_ time.Time, m *skirmishv1.ClientMessage) error { got = append(got, m); return nil }
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		if !c.Poll(time.Now(), handle) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if len(got) != 2 || got[0].GetInputs().GetAckTick() != 7 || len(got[0].GetInputs().GetInputs()[0].GetCustom()) != 300 || got[1].GetAck().GetTick() != 8 {
		t.Fatalf("Poll handled %v", got)
	}
	for c.Poll(time.Now(), handle) { // until it reaches the Leave
		time.Sleep(time.Millisecond)
	}
	if len(got) != 2 {
		t.Fatalf("Poll handled a Leave: %v", got[2:])
	}
	c.resumeReading()
	m, err := c.read()
	if err != nil || m.GetLeave() == nil {
		t.Fatalf("read after Poll = %v, %v; want the Leave", m, err)
	}

	pong := make(chan string, 1)
	cl.SetPongHandler(func(s string) error { pong <- s; return nil })
	go cl.ReadMessage() // runs the pong handler
	if err := cl.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})
	if m, err := c.read(); err != nil || m.GetLeave() == nil {
		t.Fatalf("read = %v, %v", m, err)
	}
	select {
	case s := <-pong:
		if s != "hello" {
			t.Fatalf("pong %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}

// TestIdlePoll: Poll gives the connection back once the player sent
// nothing for IdleTimeout.
func TestIdlePoll(t *testing.T) {
	c, _ := pair(t, 0)
	now := time.Now()
	c.lastRead = now
	handle := func(time.Time, *skirmishv1.ClientMessage) error { return nil }
	if !c.Poll(now.Add(c.cfg.IdleTimeout/2), handle) {
		t.Fatal("Poll gave up before the idle timeout")
	}
	if c.Poll(now.Add(c.cfg.IdleTimeout), handle) {
		t.Fatal("Poll kept an idle connection")
	}
}
