package room

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second

// secretGame is a tiny game: each player has one entity that only that
// player sees, and whose field 0 counts ticks.
type secretGame struct {
	seats []game.Seat
	tick  int32
}

func (g *secretGame) idx(p string) int {
	for i, s := range g.seats {
		if s.PlayerID == p {
			return i
		}
	}
	return -1
}
func (g *secretGame) Join(p string) (uint32, uint32) {
	return uint32(g.idx(p) + 1), g.seats[g.idx(p)].Team
}
func (g *secretGame) Leave(string)                    {}
func (g *secretGame) Input(string, *skirmishv1.Input) {}
func (g *secretGame) Tick() bool                      { g.tick++; return false }
func (g *secretGame) Outcome() game.Outcome           { return game.Outcome{} }
func (g *secretGame) Snapshot(viewer string) []game.Entity {
	i := g.idx(viewer)
	return []game.Entity{{ID: uint32(i + 1), Kind: 1, Fields: []int32{g.tick, int32(i)}}}
}

type memSink struct{}

func (memSink) Add(context.Context, *skirmishv1.MatchOutcome) error { return nil }

func newManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	reg, err := game.NewRegistry(game.Mode{
		Name: "secret", TickRate: 30, MinPlayers: 1,
		New: func(c game.Config) (game.Game, error) { return &secretGame{seats: c.Seats}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.DrainTimeout = time.Millisecond
	m, err := NewManager(cfg, reg, memSink{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return m
}

// chanTransport hands every frame to a channel; block makes Write wait
// until release is closed.
type chanTransport struct {
	frames  chan *skirmishv1.ServerMessage
	block   bool
	release chan struct{}
	mu      sync.Mutex
	closed  skirmishv1.ErrorCode
	gotEnd  chan struct{}
}

func newTransport(block bool) *chanTransport {
	return &chanTransport{frames: make(chan *skirmishv1.ServerMessage, 1024), block: block, release: make(chan struct{}), gotEnd: make(chan struct{})}
}

func (c *chanTransport) Write(ctx context.Context, b []byte) error {
	if c.block {
		select {
		case <-c.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var m skirmishv1.ServerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		return err
	}
	select {
	case c.frames <- &m:
	default:
	}
	return nil
}

func (c *chanTransport) Close(code skirmishv1.ErrorCode, _ string) error {
	c.mu.Lock()
	c.closed = code
	c.mu.Unlock()
	close(c.gotEnd)
	return nil
}

func attach(t *testing.T, m *Manager, roomID, player string, tr *chanTransport) *Session {
	t.Helper()
	s, err := m.Attach(t.Context(), roomID, player)
	if err != nil {
		t.Fatalf("Attach(%s): %v", player, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.WriteLoop(ctx, tr) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func nextSnapshot(t *testing.T, tr *chanTransport) *skirmishv1.Snapshot {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m := <-tr.frames:
			if s := m.GetSnapshot(); s != nil {
				return s
			}
		case <-timeout:
			t.Fatalf("no snapshot within %v", wait)
		}
	}
}

// TestSlowClient: a client whose writes never finish does not hold the
// room back (the other player gets the ticks in order), and is cut off
// with TOO_SLOW once it stays behind.
func TestSlowClient(t *testing.T) {
	m := newManager(t, Config{SlowClientTimeout: 200 * time.Millisecond}) // 6 ticks at 30 Hz
	r, err := m.Create("m1", "secret", []game.Seat{{PlayerID: "slow"}, {PlayerID: "fast"}})
	if err != nil {
		t.Fatal(err)
	}
	slow, fast := newTransport(true), newTransport(false)
	attach(t, m, r.ID(), "slow", slow)
	attach(t, m, r.ID(), "fast", fast)
	// The fast client gets the ticks in order while the slow one is stuck.
	// (A tick may be superseded when this loaded machine does not run the
	// fast client's writer within a tick period; that is not the room
	// waiting for the slow client.)
	const ticks = 30 // five times the slow client's allowance
	for last := uint32(0); last < ticks; {
		s := nextSnapshot(t, fast)
		if s.Tick <= last {
			t.Fatalf("fast client got tick %d after %d, want increasing ticks", s.Tick, last)
		}
		last = s.Tick
	}
	close(slow.release)
	select {
	case <-slow.gotEnd:
	case <-time.After(wait):
		t.Fatal("slow client was not closed")
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if slow.closed != skirmishv1.ErrorCode_ERROR_CODE_TOO_SLOW {
		t.Errorf("slow client closed with %v, want TOO_SLOW", slow.closed)
	}
	// The slow client's snapshots piled up behind its stuck write: all
	// but the one being written were replaced, which the metric counts.
	if n := counterValue(t, m.metrics.superseded); n < 5 {
		t.Errorf("snapshots superseded = %v, want at least the slow client's 5 before its cut-off", n)
	}
	if n := counterValue(t, m.metrics.snapshots); n < ticks {
		t.Errorf("snapshots queued = %v, want at least the fast client's %d", n, ticks)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestDeltasAndInterest: each viewer sees only what the game shows it,
// deltas follow acknowledgements, and unchanged fields are not resent.
func TestDeltasAndInterest(t *testing.T) {
	m := newManager(t, Config{})
	r, err := m.Create("m2", "secret", []game.Seat{{PlayerID: "a"}, {PlayerID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := newTransport(false), newTransport(false)
	sa := attach(t, m, r.ID(), "a", ta)
	attach(t, m, r.ID(), "b", tb)
	s := nextSnapshot(t, ta)
	if s.BaseTick != 0 || len(s.Ids) != 1 || s.Ids[0] != 1 {
		t.Fatalf("first snapshot of a = %v, want full with only entity 1", s)
	}
	sa.Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: s.Tick}}})
	for {
		d := nextSnapshot(t, ta)
		if d.BaseTick == 0 {
			continue // sent before the ack arrived
		}
		if d.BaseTick != s.Tick || len(d.Ids) != 1 || d.Masks[0] != 1 {
			t.Fatalf("delta = %v, want base %d and only field 0 of entity 1", d, s.Tick)
		}
		break
	}
	if e := nextSnapshot(t, tb).Ids; len(e) != 1 || e[0] != 2 {
		t.Errorf("b sees %v, want only entity 2", e)
	}
}

// TestAckInInputs: an ack carried in an Inputs message counts like a
// SnapshotAck, so a client sending inputs needs no separate ack.
func TestAckInInputs(t *testing.T) {
	tests := []struct {
		name string
		ack  func(tick uint32) *skirmishv1.ClientMessage
	}{
		{"SnapshotAck", func(tick uint32) *skirmishv1.ClientMessage {
			return &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: tick}}}
		}},
		{"Inputs.ack_tick", func(tick uint32) *skirmishv1.ClientMessage {
			return &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{AckTick: tick,
				Inputs: []*skirmishv1.Input{{Seq: 1}}}}}
		}},
		{"Inputs.ack_tick without inputs", func(tick uint32) *skirmishv1.ClientMessage {
			return &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{AckTick: tick}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, Config{})
			r, err := m.Create("m-ack", "secret", []game.Seat{{PlayerID: "a"}, {PlayerID: "b"}})
			if err != nil {
				t.Fatal(err)
			}
			ta := newTransport(false)
			sa := attach(t, m, r.ID(), "a", ta)
			attach(t, m, r.ID(), "b", newTransport(false))
			s := nextSnapshot(t, ta)
			if err := sa.Handle(tt.ack(s.Tick)); err != nil {
				t.Fatal(err)
			}
			for {
				d := nextSnapshot(t, ta)
				if d.BaseTick == 0 {
					continue // sent before the ack arrived
				}
				if d.BaseTick != s.Tick {
					t.Fatalf("delta against %d, want %d", d.BaseTick, s.Tick)
				}
				break
			}
		})
	}
}
