package room

import (
	"context"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// BenchmarkTick measures one whole room tick of an Arena ffa match:
// queued inputs, simulation, and a snapshot per player built, encoded and
// queued, by room size, with every player acknowledging each snapshot
// (delta) or none (full). It reports the snapshot bytes each player
// receives per second at 30 Hz.
//
//	go test -run '^$' -bench Tick -benchmem -benchtime 2000x ./gameserver/room/
func BenchmarkTick(b *testing.B) {
	for _, players := range []int{2, 4, 8} {
		for _, kind := range []string{"delta", "full"} {
			b.Run(fmt.Sprintf("players=%d/%s", players, kind), func(b *testing.B) {
				benchTick(b, players, kind == "delta", false)
			})
		}
	}
	// Bots that play (bot.Brain: chase, strafe, aim, fire in range), as in
	// a real match, rather than the worst case above.
	for _, kind := range []string{"delta", "full"} {
		b.Run("players=8/bots/"+kind, func(b *testing.B) {
			benchTick(b, 8, kind == "delta", true)
		})
	}
}

// botWorld is what a bot sees: the world of the viewer's snapshot.
func botWorld(tick uint32, ents []game.Entity) *skirmish.World {
	return &skirmish.World{Tick: tick, Entities: ents}
}

func benchTick(b *testing.B, players int, ack, bots bool) {
	reg, err := game.NewRegistry(arena.Modes(arena.Config{MatchDuration: time.Hour, ScoreLimit: 1 << 30})...)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewManager(Config{}, reg, memSink{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	md, _ := reg.Lookup(arena.ModeFFA)
	var seats []game.Seat
	for i := range players {
		seats = append(seats, game.Seat{PlayerID: fmt.Sprintf("p%d", i)})
	}
	g, err := md.New(game.Config{MatchID: "bench", Mode: arena.ModeFFA, Seats: seats, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	r := &Room{id: "bench", matchID: "bench", mode: md, game: g, m: m, metrics: m.metrics,
		log: m.log, events: make(chan event, 1), done: make(chan struct{}), maxBehind: 1 << 30}
	var sessions []*Session
	for _, s := range seats {
		r.seats = append(r.seats, &seat{Seat: s})
		sess, err := r.attach(s.PlayerID, 0)
		if err != nil {
			b.Fatal(err)
		}
		sessions = append(sessions, sess)
	}
	r.state = StateRunning
	ctx := context.Background()
	var bytes, snaps int64
	var seq uint32
	var brains []*bot.Brain
	for k, s := range sessions {
		brains = append(brains, bot.NewBrain(s.welcome.EntityId, int64(k)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		seq++
		for k, s := range sessions {
			a := float64(i)/20 + float64(k)
			in := &skirmishv1.ArenaInput{MoveX: float32(math.Cos(a)), MoveY: float32(math.Sin(a)), Aim: float32(a), Fire: true}
			if bots {
				in.MoveX, in.MoveY, in.Aim, in.Fire = brains[k].Decide(botWorld(r.tick, g.Snapshot(s.seat.PlayerID)))
			}
			s.inputs = append(s.inputs, &skirmishv1.Input{Seq: seq, Game: &skirmishv1.Input_Arena{Arena: in}})
		}
		r.step()
		for _, s := range sessions {
			b, _ := s.out.take(ctx)
			s.out.done()
			for _, f := range b.frames {
				bytes += int64(len(f))
				snaps++
			}
			if ack {
				s.ack.Store(r.tick)
			}
		}
	}
	b.StopTimer()
	if snaps > 0 {
		b.ReportMetric(float64(bytes)/float64(snaps), "B/snapshot")
		b.ReportMetric(float64(bytes)/float64(snaps)*float64(md.TickRate), "B/player/s")
	}
}

// BenchmarkSnapshotEncode compares, for one 8-player Arena room tick, the
// encoding of every player's snapshot on its own (each, as the room did
// before shared.go) with one shared encoding per distinct (base, world)
// (shared): worlds from a played match, every player acknowledging the
// previous tick (delta) or nothing (full). cpu-ns/op is the process's CPU
// time per tick, steadier than ns/op on a busy machine.
//
//	go test -run '^$' -bench SnapshotEncode -benchmem -count 6 ./gameserver/room/
func BenchmarkSnapshotEncode(b *testing.B) {
	reg, err := game.NewRegistry(arena.Modes(arena.Config{MatchDuration: time.Hour, ScoreLimit: 1 << 30})...)
	if err != nil {
		b.Fatal(err)
	}
	md, _ := reg.Lookup(arena.ModeFFA)
	var seats []game.Seat
	for i := range 8 {
		seats = append(seats, game.Seat{PlayerID: fmt.Sprintf("p%d", i)})
	}
	g, err := md.New(game.Config{MatchID: "bench", Mode: arena.ModeFFA, Seats: seats, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	// Record 64 ticks of a match between bots.
	const ticks = 64
	var worlds [ticks + 1][]game.Entity
	brains := make([]*bot.Brain, len(seats))
	for k, s := range seats {
		entity, _ := g.Join(s.PlayerID)
		brains[k] = bot.NewBrain(entity, int64(k))
	}
	for t := 0; t <= ticks; t++ {
		w := g.Snapshot("p0")
		worlds[t] = w
		ins := make(map[string]*skirmishv1.Input, len(seats))
		for k, s := range seats {
			mx, my, aim, fire := brains[k].Decide(botWorld(uint32(t), w))
			ins[s.PlayerID] = &skirmishv1.Input{Seq: uint32(t + 1), Game: &skirmishv1.Input_Arena{Arena: &skirmishv1.ArenaInput{MoveX: mx, MoveY: my, Aim: aim, Fire: fire}}}
		}
		for id, in := range ins {
			g.Input(id, in)
		}
		g.Tick()
	}
	for _, kind := range []string{"delta", "full"} {
		for _, how := range []string{"each", "shared"} {
			b.Run(kind+"/"+how, func(b *testing.B) {
				var snaps [8]skirmishv1.Snapshot
				var enc snapshotEncoder
				var bytes int
				b.ReportAllocs()
				cpu0 := processCPU(b)
				for i := range b.N {
					t := i%ticks + 1
					base, cur := worlds[t-1], worlds[t]
					tick, baseTick := uint32(i)+2, uint32(i)+1 // wire ticks count from 1
					if kind == "full" {
						base, baseTick = nil, 0
					}
					for k := range seats {
						var f []byte
						if how == "each" {
							s := &snaps[k]
							s.Tick, s.LastInputSeq, s.BaseTick = tick, uint32(i), 0
							if baseTick != 0 {
								snapshot.Delta(s, base, cur)
								s.BaseTick = baseTick
							} else {
								snapshot.Full(s, cur)
							}
							f, err = (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}).MarshalVT()
						} else {
							var body []byte
							body, _, err = enc.body(tick, baseTick, base, cur)
							f = frame(body, uint32(i))
						}
						if err != nil {
							b.Fatal(err)
						}
						bytes += len(f)
					}
				}
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(bytes)/float64(b.N*len(seats)), "B/snapshot")
			})
		}
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
