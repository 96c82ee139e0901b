package room

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// boomGame is secretGame that panics in one method, on purpose.
type boomGame struct {
	secretGame
	in string // the Game method that panics
}

func (g *boomGame) boom(method string) {
	if g.in == method {
		panic("boom in " + method)
	}
}

func (g *boomGame) Join(p string) (uint32, uint32) { g.boom("Join"); return g.secretGame.Join(p) }
func (g *boomGame) Leave(p string)                 { g.boom("Leave") }
func (g *boomGame) Input(p string, in *skirmishv1.Input) {
	g.boom("Input")
}
func (g *boomGame) Tick() bool {
	g.boom("Tick")
	g.secretGame.Tick()
	return g.in == "Outcome" && g.tick > 2 // end soon, so that Outcome is called
}
func (g *boomGame) Snapshot(v string) []game.Entity {
	g.boom("Snapshot")
	return g.secretGame.Snapshot(v)
}
func (g *boomGame) Outcome() game.Outcome { g.boom("Outcome"); return g.secretGame.Outcome() }

// recordSink keeps the outcomes it is given.
type recordSink struct {
	mu  sync.Mutex
	got map[string]*skirmishv1.MatchOutcome
	add chan struct{}
}

func (s *recordSink) Add(_ context.Context, o *skirmishv1.MatchOutcome) error {
	s.mu.Lock()
	s.got[o.MatchId] = o
	s.mu.Unlock()
	s.add <- struct{}{}
	return nil
}

func (s *recordSink) outcome(id string) *skirmishv1.MatchOutcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[id]
}

// TestGamePanicStaysInRoom: a panic in any Game method ends only that
// room, with END_REASON_ERROR, a persisted outcome listing its players, a
// MatchEnd to the player, and a count in room_panics_total; a room of
// another game on the same manager keeps ticking.
func TestGamePanicStaysInRoom(t *testing.T) {
	for _, method := range []string{"Join", "Leave", "Input", "Tick", "Snapshot", "Outcome"} {
		t.Run(method, func(t *testing.T) {
			reg, err := game.NewRegistry(
				game.Mode{Name: "secret", TickRate: 30, MinPlayers: 1,
					New: func(c game.Config) (game.Game, error) { return &secretGame{seats: c.Seats}, nil }},
				game.Mode{Name: "boom", TickRate: 30, MinPlayers: 1,
					New: func(c game.Config) (game.Game, error) {
						return &boomGame{secretGame: secretGame{seats: c.Seats}, in: method}, nil
					}},
			)
			if err != nil {
				t.Fatal(err)
			}
			sink := &recordSink{got: map[string]*skirmishv1.MatchOutcome{}, add: make(chan struct{}, 4)}
			m, err := NewManager(Config{DrainTimeout: time.Millisecond}, reg, sink, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			healthy, err := m.Create("m-healthy", "secret", []game.Seat{{PlayerID: "h"}})
			if err != nil {
				t.Fatal(err)
			}
			htr := newTransport(false)
			attach(t, m, healthy.ID(), "h", htr)
			nextSnapshot(t, htr)

			bad, err := m.Create("m-boom", "boom", []game.Seat{{PlayerID: "p", Name: "Pat", Team: 2}})
			if err != nil {
				t.Fatal(err)
			}
			tr := newTransport(false)
			s, err := m.Attach(t.Context(), bad.ID(), "p")
			switch {
			case method == "Join":
				if !errors.Is(err, ErrRoomNotFound) {
					t.Fatalf("Attach to a room whose Join panics = %v, want ErrRoomNotFound", err)
				}
			case err != nil:
				t.Fatalf("Attach: %v", err)
			default:
				wctx, wcancel := context.WithCancel(context.Background())
				wdone := make(chan struct{})
				go func() { defer close(wdone); s.WriteLoop(wctx, tr) }()
				t.Cleanup(func() { wcancel(); <-wdone })
				switch method {
				case "Leave":
					s.Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})
				case "Input":
					s.Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{
						Inputs: []*skirmishv1.Input{{Seq: 1}}}}})
				}
			}

			select {
			case <-sink.add:
			case <-time.After(wait):
				t.Fatal("no outcome persisted for the room whose game panicked")
			}
			o := sink.outcome("m-boom")
			if o == nil || o.EndReason != skirmishv1.EndReason_END_REASON_ERROR {
				t.Fatalf("outcome = %v, want END_REASON_ERROR", o)
			}
			if len(o.Players) != 1 || o.Players[0].PlayerId != "p" || o.Players[0].Team != 2 || o.Players[0].Placement != 0 {
				t.Errorf("outcome players = %v, want p on team 2 with no placement", o.Players)
			}
			if method != "Join" && method != "Leave" {
				// The player still connected is told how it ended.
				for {
					select {
					case f := <-tr.frames:
						if end := f.GetMatchEnd(); end != nil {
							if end.Outcome.GetEndReason() != skirmishv1.EndReason_END_REASON_ERROR {
								t.Errorf("MatchEnd reason = %v, want ERROR", end.Outcome.GetEndReason())
							}
							goto told
						}
					case <-time.After(wait):
						t.Fatal("the connected player got no MatchEnd")
					}
				}
			told:
			}
			if n := counterValue(t, m.metrics.panics.WithLabelValues("boom", phaseOf(method))); n != 1 {
				t.Errorf("room_panics_total{mode=boom,phase=%s} = %v, want 1", phaseOf(method), n)
			}
			// The other room keeps ticking.
			before := nextSnapshot(t, htr).Tick
			for nextSnapshot(t, htr).Tick < before+3 {
			}
			if _, _, draining := m.Load(); draining {
				t.Error("manager draining after a game panicked")
			}
		})
	}
}

// phaseOf is where the room calls each Game method from.
func phaseOf(method string) string {
	switch method {
	case "Join", "Leave":
		return "event"
	case "Outcome":
		return "outcome"
	}
	return "tick"
}

// TestGameNewPanics: a mode whose New panics gets an error wrapping
// ErrGameFailed from Create, and no room.
func TestGameNewPanics(t *testing.T) {
	reg, err := game.NewRegistry(game.Mode{Name: "boom", New: func(game.Config) (game.Game, error) { panic("no") }})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Config{}, reg, memSink{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("m", "boom", []game.Seat{{PlayerID: "p"}}); !errors.Is(err, ErrGameFailed) {
		t.Errorf("Create = %v, want ErrGameFailed", err)
	}
	if rooms, _, _ := m.Load(); rooms != 0 {
		t.Errorf("%d rooms after a failed Create, want 0", rooms)
	}
}
