package gameserver

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/ws"
)

// BenchmarkIdleConnections opens b.N WebSocket connections on 127.0.0.1,
// each joined to a room (8-seat ffa rooms waiting for their other seats,
// so nothing is sent), and reports the Go memory (heap in use plus
// goroutine stacks) per connection. Clients and server share the process,
// so the number covers both ends: an upper bound of the server's cost.
//
//	go test -run '^$' -bench IdleConnections -benchtime 2000x ./gameserver/
func BenchmarkIdleConnections(b *testing.B) {
	t := b
	// Every connection comes from 127.0.0.1: no per-peer bounds.
	ts := startServer(t, Config{Capacity: 1 << 20, Rooms: room.Config{JoinTimeout: time.Hour},
		Edge: Edge{ConnsPerPeer: -1, MaxConns: -1}, WebSocket: ws.Config{ConnsPerPeer: -1}})
	dialer := &websocket.Dialer{ReadBufferSize: 256, WriteBufferSize: 256}
	rooms := make([]string, (b.N+7)/8)
	for i := range rooms {
		rooms[i] = ts.createRoom(t, fmt.Sprintf("idle-%d", i), "ffa", seatsFor(i)...)
	}
	beforeStack, before := stackInUse(), memInUse()
	b.ResetTimer()
	conns := make([]*websocket.Conn, 0, b.N)
	for i := range b.N {
		c, _, err := dialer.Dial("ws://"+ts.addr+"/ws", nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		tok := ts.joinToken(t, rooms[i/8], fmt.Sprintf("idle-%d", i/8), seatsFor(i / 8)[i%8])
		cl := &client{t: t, ws: c}
		if w := cl.join(tok); w == nil {
			b.Fatal("no welcome")
		}
	}
	b.StopTimer()
	after, afterStack := memInUse(), stackInUse()
	b.ReportMetric(float64(after-before)/float64(b.N), "bytes/conn")
	b.ReportMetric(float64(afterStack-beforeStack)/float64(b.N), "stack-bytes/conn")
	for _, c := range conns {
		c.Close()
	}
}

func seatsFor(room int) []string {
	s := make([]string, 8)
	for i := range s {
		s[i] = fmt.Sprintf("r%d-p%d", room, i)
	}
	return s
}

func memInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

func stackInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.StackInuse)
}
