package skirmish

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// BenchmarkPlayerTick is one player-tick of a bot's connection through
// the SDK over a real loopback WebSocket: read a snapshot (an 8-player
// Arena delta: every player moved and turned, 16 projectiles), decode and
// apply it, then send one input that carries its ack. The server end is
// minimal (it encodes recorded snapshots and discards what it reads), so
// cpu-ns/op, the process's CPU time per tick, is mostly the SDK's and the
// kernel's; compare runs of old and new code, not absolute values.
//
//	go test -run '^$' -bench PlayerTick -benchmem -count 6 ./clients/go/skirmish/
func BenchmarkPlayerTick(b *testing.B) {
	const ticks = 64
	snaps := make([]*skirmishv1.Snapshot, ticks)
	world := func(t int) []snapshot.Entity {
		var w []snapshot.Entity
		for i := uint32(1); i <= 24; i++ {
			if i <= 8 {
				w = append(w, ent(i, 1, int32(i)*100+int32(t)*3, int32(i)*50-int32(t)*2, int32(t%64), 100, 1))
			} else {
				w = append(w, ent(i, 2, int32(i)*10, int32(i)*20, 40, 0, 1, 7))
			}
		}
		return w
	}
	for t := range ticks {
		s := &skirmishv1.Snapshot{}
		snapshot.Delta(s, world(t), world(t+1))
		if t == 0 {
			snapshot.Full(s, world(t+1))
		}
		snaps[t] = s
	}
	next := make(chan int, 1) // the server's go for one tick
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 1024}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		go func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					return
				}
			}
		}()
		for i := range next {
			// Tick i+1: the full snapshot first, then deltas against the
			// tick before, cycling through the recorded ones (the values
			// drift, which only the game would notice).
			s := snaps[i%ticks]
			if i > 0 && i%ticks == 0 {
				s = snaps[1]
			}
			s.Tick, s.LastInputSeq = uint32(i+1), uint32(i)
			if i > 0 {
				s.BaseTick = uint32(i)
			}
			f, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}).MarshalVT()
			if err != nil {
				return
			}
			if err := c.WriteMessage(websocket.BinaryMessage, f); err != nil {
				return
			}
		}
	}))
	b.Cleanup(srv.Close)
	b.Cleanup(func() { close(next) })

	applied := make(chan struct{}, 1)
	var g *Game
	var sent atomic.Int64
	opts := JoinOptions{OnSnapshot: func(*World, int) {
		if _, err := g.SendArena(0.5, -0.5, 1, true); err == nil {
			sent.Add(1)
		}
		applied <- struct{}{}
	}}
	conn, err := dialWebSocket(context.Background(), &skirmishv1.Assignment{WebsocketUrl: "ws" + strings.TrimPrefix(srv.URL, "http")}, opts)
	if err != nil {
		b.Fatal(err)
	}
	g = newGame(&skirmishv1.Assignment{}, conn, opts)
	go g.readLoop()
	b.Cleanup(func() { g.Close() })

	// Warm up with one pass over the recorded ticks, so that every
	// measured snapshot is a delta the player can apply.
	i := 0
	for ; i < ticks; i++ {
		next <- i
		<-applied
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for range b.N {
		next <- i
		<-applied
		i++
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	if sent.Load() != int64(i) {
		b.Fatalf("sent %d inputs, want %d", sent.Load(), i)
	}
}

// processCPU is the process's user plus system CPU time in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
