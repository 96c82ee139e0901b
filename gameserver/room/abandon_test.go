package room

import (
	"context"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// chanSink hands every outcome to a channel.
type chanSink chan *skirmishv1.MatchOutcome

func (c chanSink) Add(ctx context.Context, o *skirmishv1.MatchOutcome) error {
	select {
	case c <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestAbandonedRoomEndsEarly: once every player of a running match is gone
// for good (one left, the other dropped past the reconnection grace), the
// room ends with END_REASON_ABANDONED instead of ticking until its time
// limit; while one player still plays, the room goes on.
func TestAbandonedRoomEndsEarly(t *testing.T) {
	reg, err := game.NewRegistry(game.Mode{
		Name: "secret", TickRate: 30, MinPlayers: 1,
		New: func(c game.Config) (game.Game, error) { return &secretGame{seats: c.Seats}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := make(chanSink, 1)
	m, err := NewManager(Config{ReconnectGrace: 300 * time.Millisecond, DrainTimeout: time.Millisecond}, reg, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	r, err := m.Create("m-abandon", "secret", []game.Seat{{PlayerID: "a"}, {PlayerID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := newTransport(false), newTransport(false)
	sa := attach(t, m, r.ID(), "a", ta)
	sb := attach(t, m, r.ID(), "b", tb)
	nextSnapshot(t, tb) // running

	// a leaves for good; b is still playing, so the room goes on.
	if err := sa.Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}}); err != nil {
		t.Fatal(err)
	}
	for range 15 { // half a second of ticks after the leave
		nextSnapshot(t, tb)
	}
	select {
	case o := <-sink:
		t.Fatalf("room ended (%v) with a player still in it", o.EndReason)
	default:
	}

	// b drops; the room waits out b's grace, then ends as abandoned.
	sb.Detach()
	select {
	case o := <-sink:
		if o.EndReason != skirmishv1.EndReason_END_REASON_ABANDONED {
			t.Errorf("end reason = %v, want END_REASON_ABANDONED", o.EndReason)
		}
		if o.MatchId != "m-abandon" {
			t.Errorf("match id = %q, want m-abandon", o.MatchId)
		}
	case <-time.After(wait):
		t.Fatalf("room still running %v after every player was gone", wait)
	}
}
