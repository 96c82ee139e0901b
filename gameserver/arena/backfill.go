package arena

import (
	"fmt"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// maxPlayers bounds the seats of a match, backfilled ones included:
// player entity ids (2 + seat index) must stay below firstProjectileID.
const maxPlayers = firstProjectileID - firstPlayerID

var _ game.Backfiller = (*match)(nil)

// Backfilling: newcomers are welcome in ffa and team while the match runs
// and at least BackfillMinTimeLeft remains. A duel ends when a player
// leaves, so it never backfills.
func (m *match) Backfilling() bool {
	if m.ended || m.mode == ModeDuel || len(m.players) >= maxPlayers {
		return false
	}
	left := m.maxTicks - m.tick
	return left >= ticks(m.cfg.BackfillMinTimeLeft, m.cfg.TickRate)
}

// OpenSeat offers the seat of a player who left: on the same team in team
// mode; in ffa the newcomer plays on a team of their own (Team 0).
func (m *match) OpenSeat(playerID string) (game.Seat, bool) {
	i, ok := m.index[playerID]
	if !ok || !m.Backfilling() {
		return game.Seat{}, false
	}
	if teamMode(m.mode) {
		return game.Seat{Team: m.players[i].team}, true
	}
	return game.Seat{}, true
}

// AddSeat seats a newcomer: in team mode on s.Team (1 or 2), in ffa on a
// new team numbered after the existing ones. The newcomer's stats start at
// zero; the player who left keeps theirs in the outcome.
func (m *match) AddSeat(s game.Seat) error {
	switch {
	case s.PlayerID == "":
		return fmt.Errorf("%w: a backfill seat needs a player id", game.ErrBadSeats)
	case len(m.players) >= maxPlayers:
		return fmt.Errorf("%w: the match holds %d seats already", game.ErrBadSeats, maxPlayers)
	case m.mode == ModeDuel:
		return fmt.Errorf("%w: duel takes no backfill", game.ErrBadSeats)
	case teamMode(m.mode) && s.Team != 1 && s.Team != 2:
		return fmt.Errorf("%w: player %q is on team %d, want 1 or 2", game.ErrBadSeats, s.PlayerID, s.Team)
	}
	if _, dup := m.index[s.PlayerID]; dup {
		return fmt.Errorf("%w: player %q holds a seat already", game.ErrBadSeats, s.PlayerID)
	}
	p := &player{seat: s, entity: uint32(firstPlayerID + len(m.players)), team: s.Team}
	if !teamMode(m.mode) {
		p.team = m.teams[len(m.teams)-1] + 1
		m.teams = append(m.teams, p.team)
	}
	m.index[s.PlayerID] = len(m.players)
	m.players = append(m.players, p)
	m.worldTick = -1 // the next snapshot is rebuilt
	return nil
}
