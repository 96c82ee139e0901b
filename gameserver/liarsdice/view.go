package liarsdice

import (
	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Snapshot implements game.Game: the table, every player, and the dice
// the viewer may see (its own while bidding, all during a reveal).
func (m *match) Snapshot(viewer string) []game.Entity {
	turn := int32(-1)
	if m.phase == PhaseBidding {
		turn = int32(m.turn)
	}
	out := make([]game.Entity, 0, 1+len(m.players)+MaxDice)
	out = append(out, game.Entity{ID: TableID, Kind: KindTable, Fields: []int32{
		int32(m.round), int32(m.phase), turn,
		int32(m.bid.Quantity), int32(m.bid.Face), int32(m.bidder),
		m.deadline, int32(m.diceInPlay()),
	}})
	for _, p := range m.players {
		out = append(out, game.Entity{ID: PlayerID(p.seat), Kind: KindPlayer, Fields: []int32{
			int32(p.seat), int32(p.count), b2i(p.out), int32(p.placement),
		}})
	}
	showAll := m.phase != PhaseBidding
	for _, p := range m.players {
		if !showAll && p.id != viewer {
			continue
		}
		for i, d := range p.dice {
			out = append(out, game.Entity{ID: DieID(p.seat, i), Kind: KindDie, Fields: []int32{int32(d)}})
		}
	}
	return out
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Outcome implements game.Game. Players still in when the match ends
// early (a shutdown) are placed by dice left.
func (m *match) Outcome() game.Outcome {
	out := game.Outcome{Reason: m.reason}
	for _, p := range m.players {
		pl := p.placement
		if !p.out && m.phase != PhaseOver {
			pl = 1
			for _, q := range m.players {
				if !q.out && q.count > p.count {
					pl++
				}
			}
		}
		team := uint32(p.seat + 1)
		out.Teams = append(out.Teams, &skirmishv1.TeamResult{Team: team, Score: int32(p.count), Placement: uint32(pl)})
		out.Players = append(out.Players, &skirmishv1.PlayerResult{
			PlayerId:  p.id,
			Name:      p.name,
			Team:      team,
			Placement: uint32(pl),
			Left:      p.left,
			Stats: map[string]float64{
				"rounds_won":    float64(p.bluffsCalled + p.bidsUpheld),
				"bluffs_called": float64(p.bluffsCalled),
				"bids_upheld":   float64(p.bidsUpheld),
				"bids":          float64(p.bids),
				"dice_lost":     float64(p.diceLost),
				"dice_left":     float64(p.count),
				"timeouts":      float64(p.timeouts),
			},
		})
	}
	return out
}
