package room

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
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
		r.seats = append(r.seats, &seat{Seat: s, limiter: nil})
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
			frames, _, _ := s.out.take(ctx)
			for _, f := range frames {
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
