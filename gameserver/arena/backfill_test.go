package arena

import (
	"errors"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

func TestBackfill(t *testing.T) {
	byTeam := func(i int) uint32 { return uint32(i%2 + 1) }
	cfg := Config{MatchDuration: 10 * time.Second, BackfillMinTimeLeft: 5 * time.Second}
	tests := []struct {
		name     string
		mode     string
		n        int
		seat     game.Seat
		wantOpen bool
		wantTeam uint32 // of the open seat
		wantErr  bool
	}{
		{"ffa newcomer gets a new team", ModeFFA, 3, game.Seat{PlayerID: "z"}, true, 0, false},
		{"team seat keeps the team", ModeTeam, 4, game.Seat{PlayerID: "z", Team: 1}, true, 1, false},
		{"team seat needs team 1 or 2", ModeTeam, 4, game.Seat{PlayerID: "z", Team: 3}, true, 1, true},
		{"team4 seat keeps the team", ModeTeam4, 6, game.Seat{PlayerID: "z", Team: 1}, true, 1, false},
		{"team4 seat needs team 1 or 2", ModeTeam4, 6, game.Seat{PlayerID: "z", Team: 0}, true, 1, true},
		{"duplicate player", ModeFFA, 3, game.Seat{PlayerID: "b"}, true, 0, true},
		{"duel never backfills", ModeDuel, 2, game.Seat{PlayerID: "z"}, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTest(t, cfg, tt.mode, seats(tt.n, byTeam))
			m.Leave("a")
			open, ok := m.OpenSeat("a")
			if ok != tt.wantOpen || open.Team != tt.wantTeam {
				t.Fatalf("OpenSeat(a) = %v, %v; want team %d, %v", open, ok, tt.wantTeam, tt.wantOpen)
			}
			err := m.AddSeat(tt.seat)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, game.ErrBadSeats)) {
				t.Fatalf("AddSeat(%v) = %v, want error %v wrapping ErrBadSeats", tt.seat, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			ent, team := m.Join(tt.seat.PlayerID)
			if ent != uint32(firstPlayerID+tt.n) || (tt.mode == ModeFFA && team != uint32(tt.n+1)) || (teamMode(tt.mode) && team != tt.seat.Team) {
				t.Errorf("Join(newcomer) = entity %d team %d, want entity %d", ent, team, firstPlayerID+tt.n)
			}
			m.Tick()
			found := false
			for _, e := range m.Snapshot("b") {
				found = found || e.ID == ent
			}
			if !found {
				t.Errorf("newcomer's entity %d is not in the snapshot", ent)
			}
			if got := len(m.Outcome().Players); got != tt.n+1 {
				t.Errorf("outcome lists %d players, want %d", got, tt.n+1)
			}
		})
	}
	t.Run("too little time left", func(t *testing.T) {
		m := newTest(t, cfg, ModeFFA, seats(3, byTeam))
		run(m, 30*6) // 6 of 10 s played: 4 s left, under 5 s
		if _, ok := m.OpenSeat("a"); ok || m.Backfilling() {
			t.Errorf("OpenSeat with 4 s left = true, want false")
		}
	})
}
