package room

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// backfillGame is secretGame taking a newcomer in the seat of every
// player who leaves.
type backfillGame struct{ secretGame }

func (g *backfillGame) OpenSeat(string) (game.Seat, bool) { return game.Seat{}, true }
func (g *backfillGame) Backfilling() bool                 { return true }
func (g *backfillGame) AddSeat(s game.Seat) error         { g.seats = append(g.seats, s); return nil }

// chanReporter hands every room report to a channel.
type chanReporter chan *skirmishv1.ReportRoomRequest

func (c chanReporter) Report(req *skirmishv1.ReportRoomRequest) { c <- req }

func (c chanReporter) next(t *testing.T, want skirmishv1.RoomEvent) {
	t.Helper()
	select {
	case rep := <-c:
		if rep.Event != want {
			t.Fatalf("report %v, want %v", rep.Event, want)
		}
	case <-time.After(wait):
		t.Fatalf("no %v report within %v", want, wait)
	}
}

// TestBackfillKeepsSeatCount: the seats a room takes, as the manager
// counts them for heartbeats and capacity checks, are those of players who
// have not left for good: a leave gives a seat back, a newcomer takes one,
// so a room of n seats counts n however often its players are replaced,
// and nothing once it has ended.
func TestBackfillKeepsSeatCount(t *testing.T) {
	reg, err := game.NewRegistry(game.Mode{
		Name: "bf", TickRate: 30, MinPlayers: 1,
		New: func(c game.Config) (game.Game, error) { return &backfillGame{secretGame{seats: c.Seats}}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	reports := make(chanReporter, 64)
	m, err := NewManager(Config{Reporter: reports, DrainTimeout: time.Millisecond}, reg, memSink{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	seats := func(when string, want int) {
		t.Helper()
		if _, got, _ := m.Load(); got != want {
			t.Errorf("Load() seats %s = %d, want %d", when, got, want)
		}
	}

	const n = 3
	r, err := m.Create("m-bf", "bf", []game.Seat{{PlayerID: "p0"}, {PlayerID: "p1"}, {PlayerID: "p2"}})
	if err != nil {
		t.Fatal(err)
	}
	var players []*Session
	for i := range n {
		players = append(players, attach(t, m, r.ID(), fmt.Sprint("p", i), newTransport(false)))
	}
	reports.next(t, skirmishv1.RoomEvent_ROOM_EVENT_STARTED)
	seats("once the match runs", n)

	for i := range 5 {
		if err := players[0].Handle(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}}); err != nil {
			t.Fatal(err)
		}
		players = players[1:]
		reports.next(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED)
		seats(fmt.Sprintf("after leave %d", i+1), n-1)
		newcomer := fmt.Sprint("new", i)
		if err := m.AddSeats(t.Context(), r.ID(), []game.Seat{{PlayerID: newcomer}}); err != nil {
			t.Fatalf("AddSeats(%s): %v", newcomer, err)
		}
		seats(fmt.Sprintf("after backfill %d", i+1), n)
		reports.next(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE)
		players = append(players, attach(t, m, r.ID(), newcomer, newTransport(false)))
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	done <- nil // for the cleanup
	if rooms, got, _ := m.Load(); rooms != 0 || got != 0 {
		t.Errorf("Load() after the drain = %d rooms, %d seats; want none", rooms, got)
	}
}
