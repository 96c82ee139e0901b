package liarsdice

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func newTestMatch(t *testing.T, players int, seed uint64) *match {
	t.Helper()
	var seats []game.Seat
	for i := range players {
		seats = append(seats, game.Seat{PlayerID: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("P%d", i)})
	}
	g, err := Modes(Config{})[0].New(game.Config{MatchID: "m", Mode: ModeDice, Seats: seats, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	m := g.(*match)
	for _, s := range seats {
		m.Join(s.PlayerID)
	}
	return m
}

func move(mv Move) *skirmishv1.Input {
	return &skirmishv1.Input{Seq: 1, Game: &skirmishv1.Input_Custom{Custom: EncodeMove(mv)}}
}

func eventsOf(m *match, typ string) []game.Event {
	var out []game.Event
	for _, e := range m.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// dice returns the faces of the die entities in a snapshot, by seat.
func diceSeen(snap []game.Entity) map[int][]int {
	out := map[int][]int{}
	for _, e := range snap {
		if e.Kind == KindDie {
			seat := int(e.ID-100) / 8
			out[seat] = append(out[seat], int(e.Fields[0]))
		}
	}
	return out
}

// TestHiddenDice: while bidding each viewer sees only its own dice; during
// the reveal everyone sees every die, and the reveal event agrees.
func TestHiddenDice(t *testing.T) {
	m := newTestMatch(t, 3, 7)
	m.Tick() // round 1
	for i, p := range m.players {
		seen := diceSeen(m.Snapshot(p.id))
		if len(seen) != 1 || len(seen[i]) != 5 {
			t.Errorf("%s sees dice %v, want only its own 5", p.id, seen)
		}
	}
	m.Input("p0", move(Move{Quantity: 2, Face: 3}))
	m.Input("p1", move(Move{Call: true}))
	seen := diceSeen(m.Snapshot("p2"))
	if len(seen) != 3 {
		t.Fatalf("during the reveal p2 sees dice of %d seats, want 3", len(seen))
	}
	evs := eventsOf(m, EventReveal)
	if len(evs) != 1 {
		t.Fatalf("%d reveal events, want 1", len(evs))
	}
	var rev RevealEvent
	if err := json.Unmarshal(evs[0].Payload, &rev); err != nil {
		t.Fatal(err)
	}
	count := 0
	for seat, faces := range rev.Dice {
		if fmt.Sprint(faces) != fmt.Sprint(seen[seat]) {
			t.Errorf("reveal shows seat %d %v, snapshot %v", seat, faces, seen[seat])
		}
		for _, f := range faces {
			if f == 3 {
				count++
			}
		}
	}
	wantLoser := 1 // the caller, when the bid stands
	if count < 2 {
		wantLoser = 0
	}
	if rev.Count != count || rev.Loser != wantLoser || evs[0].To != "" {
		t.Errorf("reveal = %+v to %q, want count %d, loser %d, to all", rev, evs[0].To, count, wantLoser)
	}
	if got := m.players[wantLoser].count; got != 4 {
		t.Errorf("loser has %d dice, want 4", got)
	}
}

// TestRefusedMoves: moves that are not allowed now change nothing and are
// answered with a "refused" event to the mover only.
func TestRefusedMoves(t *testing.T) {
	m := newTestMatch(t, 2, 1)
	m.Tick()
	m.Events()
	tests := []struct {
		name   string
		player string
		in     *skirmishv1.Input
	}{
		{"not your turn", "p1", move(Move{Quantity: 1, Face: 2})},
		{"call without a bid", "p0", move(Move{Call: true})},
		{"over the dice in play", "p0", move(Move{Quantity: 11, Face: 2})},
		{"bad payload", "p0", &skirmishv1.Input{Seq: 1, Game: &skirmishv1.Input_Custom{Custom: []byte{9, 9}}}},
		{"no payload", "p0", &skirmishv1.Input{Seq: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.Input(tt.player, tt.in)
			evs := m.Events()
			if len(evs) != 1 || evs[0].Type != EventRefused || evs[0].To != tt.player {
				t.Errorf("events = %v, want one refused event to %s", evs, tt.player)
			}
			if m.bidder != -1 || m.turn != 0 {
				t.Errorf("state changed: bidder %d, turn %d", m.bidder, m.turn)
			}
		})
	}
	m.Input("p0", move(Move{Quantity: 2, Face: 4}))
	m.Input("p1", move(Move{Quantity: 2, Face: 3}))
	if evs := eventsOf(m, EventRefused); len(evs) != 1 {
		t.Errorf("a lower bid: %d refused events, want 1", len(evs))
	}
}

// TestTimeout: a player out of time has the server play: a bid to open,
// a call when a bid stands.
func TestTimeout(t *testing.T) {
	m := newTestMatch(t, 2, 3)
	m.Tick()
	turn := m.cfg.ticks(m.cfg.TurnTime)
	for range turn {
		m.Tick()
	}
	if m.bidder != 0 || m.bid.Quantity != 1 || m.players[0].timeouts != 1 {
		t.Fatalf("after p0's time: bid %+v by %d, timeouts %d; want 1 die by 0, 1 timeout", m.bid, m.bidder, m.players[0].timeouts)
	}
	for range turn {
		m.Tick()
	}
	if m.phase != PhaseReveal || m.players[1].timeouts != 1 {
		t.Errorf("after p1's time: phase %d, timeouts %d; want the reveal, 1", m.phase, m.players[1].timeouts)
	}
}

// playOut plays a match with every player bidding one more of face 6
// until someone calls, as a bot would, and returns the ticks it took.
func playOut(t *testing.T, m *match) int {
	t.Helper()
	for ticks := 1; ticks < 100000; ticks++ {
		if m.Tick() {
			return ticks
		}
		if m.phase != PhaseBidding {
			continue
		}
		p := m.players[m.turn]
		mv := Move{Quantity: m.bid.Quantity + 1, Face: 6}
		if m.bid.Quantity >= m.diceInPlay()/3 {
			mv = Move{Call: true}
		}
		m.Input(p.id, move(mv))
	}
	t.Fatal("the match did not end")
	return 0
}

// TestFullMatch: a match plays to one winner; placements follow the order
// players went out, and the stats add up.
func TestFullMatch(t *testing.T) {
	for _, n := range []int{2, 3, 6} {
		t.Run(fmt.Sprint(n, " players"), func(t *testing.T) {
			m := newTestMatch(t, n, uint64(n))
			playOut(t, m)
			o := m.Outcome()
			if o.Reason != skirmishv1.EndReason_END_REASON_SCORE_LIMIT {
				t.Errorf("reason %v, want SCORE_LIMIT", o.Reason)
			}
			seen := map[uint32]bool{}
			lost, rounds := 0.0, 0.0
			for _, p := range o.Players {
				if seen[p.Placement] || p.Placement < 1 || int(p.Placement) > n {
					t.Errorf("placement %d of %s repeated or out of 1..%d", p.Placement, p.PlayerId, n)
				}
				seen[p.Placement] = true
				if (p.Placement == 1) != (p.Stats["dice_left"] > 0) {
					t.Errorf("%s: placement %d with stats %v", p.PlayerId, p.Placement, p.Stats)
				}
				lost += p.Stats["dice_lost"]
				rounds += p.Stats["rounds_won"]
			}
			if lost != rounds || lost != float64(m.round) {
				t.Errorf("dice lost %v, rounds won %v, rounds %d: want all equal", lost, rounds, m.round)
			}
		})
	}
}

// TestSameSeedSameGame: the dice and so the match are reproducible.
func TestSameSeedSameGame(t *testing.T) {
	a, b := newTestMatch(t, 4, 42), newTestMatch(t, 4, 42)
	ta, tb := playOut(t, a), playOut(t, b)
	if ta != tb || fmt.Sprint(a.Outcome().Players) != fmt.Sprint(b.Outcome().Players) {
		t.Errorf("two matches of seed 42 differ: %d and %d ticks", ta, tb)
	}
}

// TestLeave: a player who leaves is out at once, below everyone still in,
// and the round is rolled again; the last one left wins by forfeit.
func TestLeave(t *testing.T) {
	m := newTestMatch(t, 3, 5)
	m.Tick()
	m.Input("p0", move(Move{Quantity: 1, Face: 2}))
	m.Events()
	m.Leave("p1") // whose turn it is
	if p := m.players[1]; !p.out || p.placement != 3 || m.round != 2 || m.turn != 2 || m.bidder != -1 {
		t.Errorf("after p1 left: out %v, placement %d, round %d, turn %d, bidder %d; want out, 3, 2, 2, -1",
			p.out, p.placement, m.round, m.turn, m.bidder)
	}
	m.Leave("p2")
	if !m.Tick() {
		t.Fatal("the match goes on with one player")
	}
	o := m.Outcome()
	want := map[string]uint32{"p0": 1, "p1": 3, "p2": 2}
	for _, p := range o.Players {
		if p.Placement != want[p.PlayerId] || p.Left != (p.PlayerId != "p0") {
			t.Errorf("%s: placement %d, left %v", p.PlayerId, p.Placement, p.Left)
		}
	}
	if o.Reason != skirmishv1.EndReason_END_REASON_ABANDONED {
		t.Errorf("reason %v, want ABANDONED", o.Reason)
	}
}

// TestResync: a reconnecting player gets the seats again.
func TestResync(t *testing.T) {
	m := newTestMatch(t, 2, 1)
	m.Events()
	m.Resync("p1")
	evs := m.Events()
	var s SeatsEvent
	if len(evs) != 1 || evs[0].To != "p1" || json.Unmarshal(evs[0].Payload, &s) != nil || s.You != 1 || len(s.Seats) != 2 || s.Seats[0].Name != "P0" {
		t.Errorf("resync events = %v, want the seats to p1", evs)
	}
}

func TestModeSeats(t *testing.T) {
	mode := Modes(Config{TurnTime: time.Second})[0]
	for n, ok := range map[int]bool{1: false, 2: true, 6: true, 7: false} {
		seats := make([]game.Seat, n)
		for i := range seats {
			seats[i].PlayerID = fmt.Sprint(i)
		}
		if err := mode.CheckSeats(seats); (err == nil) != ok || err != nil && !errors.Is(err, game.ErrBadSeats) {
			t.Errorf("CheckSeats(%d seats) = %v, want ok %v", n, err, ok)
		}
	}
}

func TestDecodeMove(t *testing.T) {
	tests := []struct {
		in      []byte
		want    Move
		wantErr bool
	}{
		{[]byte{1, 3, 4}, Move{Quantity: 3, Face: 4}, false},
		{[]byte{2, 0, 0}, Move{Call: true}, false},
		{[]byte{1, 0, 4}, Move{}, true},
		{[]byte{1, 49, 4}, Move{}, true},
		{[]byte{1, 3, 7}, Move{}, true},
		{[]byte{3, 1, 1}, Move{}, true},
		{[]byte{1, 3}, Move{}, true},
		{nil, Move{}, true},
	}
	for _, tt := range tests {
		got, err := DecodeMove(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr || err != nil && !errors.Is(err, ErrBadMove) {
			t.Errorf("DecodeMove(%v) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzDecodeMove: any payload decodes to a valid move or ErrBadMove, and
// a valid move encodes back to the same bytes.
func FuzzDecodeMove(f *testing.F) {
	f.Add([]byte{1, 3, 4})
	f.Add([]byte{2, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		mv, err := DecodeMove(b)
		if err != nil {
			if !errors.Is(err, ErrBadMove) {
				t.Fatalf("error %v does not wrap ErrBadMove", err)
			}
			return
		}
		if !mv.Call && (mv.Face < 1 || mv.Face > 6 || mv.Quantity < 1) {
			t.Fatalf("DecodeMove(%v) = %+v, not a valid move", b, mv)
		}
		again, err := DecodeMove(EncodeMove(mv))
		if err != nil || again != mv {
			t.Fatalf("round trip of %+v = %+v, %v", mv, again, err)
		}
	})
}
