package skirmish

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	wt "github.com/quic-go/webtransport-go"

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
	next := make(chan int, 1) // the server's go for one tick
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 1024}
	frames := tickFrames(b)
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
			f, err := frames(i)
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
	benchTicks(b, next, false, func(opts JoinOptions) (link, error) {
		return dialWebSocket(context.Background(), &skirmishv1.Assignment{WebsocketUrl: "ws" + strings.TrimPrefix(srv.URL, "http")}, opts)
	})
}

// BenchmarkPlayerTickWebTransport is BenchmarkPlayerTick over a loopback
// WebTransport session: snapshots arrive as datagrams, inputs leave on the
// control stream. A datagram lost on the way is sent again.
//
//	go test -run '^$' -bench PlayerTickWebTransport -benchmem -count 6 ./clients/go/skirmish/
func BenchmarkPlayerTickWebTransport(b *testing.B) {
	next := make(chan int, 1)
	frames := tickFrames(b)
	server := wtTestServer(b, func(sess *wt.Session) {
		go func() {
			// The client's stream shows once it sent on it: inputs.
			str, err := sess.AcceptStream(sess.Context())
			if err != nil {
				return
			}
			io.Copy(io.Discard, str)
		}()
		for i := range next {
			f, err := frames(i)
			if err != nil {
				return
			}
			if err := sess.SendDatagram(f); err != nil {
				return
			}
		}
	})
	b.Cleanup(func() { close(next) })
	benchTicks(b, next, true, func(opts JoinOptions) (link, error) {
		opts.Transport, opts.WebTransport = server.Transport, server.WebTransport
		return dialWebTransport(context.Background(), &skirmishv1.Assignment{}, opts)
	})
}

// tickFrames records 64 ticks of an 8-player Arena match and returns the
// frame of tick i+1: the full snapshot first, then deltas against the
// tick before, cycling through the recorded ones (the values drift, which
// only the game would notice).
func tickFrames(b *testing.B) func(i int) ([]byte, error) {
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
	return func(i int) ([]byte, error) {
		s := snaps[i%ticks]
		if i > 0 && i%ticks == 0 {
			s = snaps[1]
		}
		s.Tick, s.LastInputSeq = uint32(i+1), uint32(i)
		if i > 0 {
			s.BaseTick = uint32(i)
		}
		return (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}).MarshalVT()
	}
}

// benchTicks joins through the link dial makes (without the handshake)
// and runs b.N ticks: the server sends tick i when it reads i from next,
// and the player answers each snapshot with an input. With resend set
// (datagrams), a tick not applied within 50ms is sent again.
func benchTicks(b *testing.B, next chan<- int, resend bool, dial func(JoinOptions) (link, error)) {
	applied := make(chan struct{}, 1)
	var g *Game
	var sent atomic.Int64
	opts := JoinOptions{OnSnapshot: func(*World, int) {
		if _, err := g.SendArena(0.5, -0.5, 1, true); err == nil {
			sent.Add(1)
		}
		applied <- struct{}{}
	}}
	conn, err := dial(opts)
	if err != nil {
		b.Fatal(err)
	}
	g = newGame(&skirmishv1.Assignment{}, conn, opts)
	go g.readLoop()
	b.Cleanup(func() { g.Close() })
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	tick := func(i int) {
		next <- i
		if !resend {
			<-applied
			return
		}
		for {
			retry.Reset(50 * time.Millisecond)
			select {
			case <-applied:
				return
			case <-retry.C:
				next <- i
			}
		}
	}

	// Warm up with one pass over the recorded ticks, so that every
	// measured snapshot is a delta the player can apply.
	i := 0
	for ; i < 64; i++ {
		tick(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for range b.N {
		tick(i)
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

// BenchmarkPlayerTickMemory is BenchmarkPlayerTick without the network:
// the link hands the reader each tick's frame and discards what the Game
// writes, so that ns/op is the SDK's own CPU per player-tick (decode,
// apply, encode and send the input), without gorilla's framing, the
// kernel or goroutine wake-ups. It includes encoding the frame, the
// server's work, the same in every version.
//
//	go test -run '^$' -bench PlayerTickMemory -benchmem -count 6 ./clients/go/skirmish/
func BenchmarkPlayerTickMemory(b *testing.B) {
	const warmup = 64
	frames := tickFrames(b)
	var g *Game
	var sent int
	l := &memLink{next: func(i int) ([]byte, error) {
		if i == warmup {
			b.ReportAllocs()
			b.ResetTimer()
		}
		if i == warmup+b.N {
			b.StopTimer()
			return nil, io.EOF
		}
		return frames(i)
	}}
	g = newGame(&skirmishv1.Assignment{}, l, JoinOptions{OnSnapshot: func(*World, int) {
		if _, err := g.SendArena(0.5, -0.5, 1, true); err == nil {
			sent++
		}
	}})
	g.readLoop()
	if err := g.Err(); err != nil {
		b.Fatal(err)
	}
	if sent != warmup+b.N {
		b.Fatalf("sent %d inputs, want %d", sent, warmup+b.N)
	}
}

// memLink is a link that reads what next returns and writes nowhere.
type memLink struct {
	next func(i int) ([]byte, error)
	i    int
}

func (l *memLink) WriteMessage([]byte, time.Time) error  { return nil }
func (l *memLink) WriteDatagram([]byte, time.Time) error { return nil }
func (l *memLink) ReadMessage() ([]byte, error) {
	b, err := l.next(l.i)
	l.i++
	return b, err
}
func (l *memLink) SetReadDeadline(time.Time) error { return nil }
func (l *memLink) CloseGracefully()                {}
func (l *memLink) Close() error                    { return nil }
func (l *memLink) NormalClose(err error) bool      { return errors.Is(err, io.EOF) }
