package bot

import (
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
)

// How the bot reads Liar's Dice entities and writes its moves; the layout
// is defined in gameserver/liarsdice.
const (
	diceKindTable = 1
	diceKindDie   = 3
	diceTableID   = 1

	diceTableRound   = 0
	diceTablePhase   = 1
	diceTableTurn    = 2
	diceTableBidQty  = 3
	diceTableBidFace = 4
	diceTableInPlay  = 7
	dicePhaseBidding = 1

	diceOpBid  = 1
	diceOpCall = 2
)

// DiceBrain plays Liar's Dice: it counts its own dice, expects a sixth of
// everyone else's to show any face, calls liar on a bid above that
// expectation, and otherwise raises on the face it holds most.
type DiceBrain struct {
	seat int32
	// moved is the table state (round, bid) the brain last answered, so it
	// moves once per turn although snapshots repeat the turn until the
	// server applies the move.
	moved [3]int32
}

// NewDiceBrain makes a brain for the player whose entity id (from the
// Welcome) is self: Liar's Dice player entities are 10 + seat.
func NewDiceBrain(self uint32) *DiceBrain {
	return &DiceBrain{seat: int32(self) - 10, moved: [3]int32{-1, -1, -1}}
}

// Retry forgets the last move, after the server refused it.
func (b *DiceBrain) Retry() { b.moved = [3]int32{-1, -1, -1} }

// Decide returns the move payload to send for the world w, or nil when it
// is not the bot's turn or it already answered this state.
func (b *DiceBrain) Decide(w *skirmish.World) []byte {
	if w == nil {
		return nil
	}
	table, ok := w.Entity(diceTableID)
	if !ok || table.Kind != diceKindTable || table.Field(diceTablePhase) != dicePhaseBidding || table.Field(diceTableTurn) != b.seat {
		return nil
	}
	state := [3]int32{table.Field(diceTableRound), table.Field(diceTableBidQty), table.Field(diceTableBidFace)}
	if state == b.moved {
		return nil
	}
	b.moved = state
	var mine [7]int
	own := 0
	for _, e := range w.Entities {
		if e.Kind == diceKindDie {
			if f := e.Field(0); f >= 1 && f <= 6 {
				mine[f]++
				own++
			}
		}
	}
	others := float64(int(table.Field(diceTableInPlay)) - own)
	expect := func(face int) float64 { return float64(mine[face]) + others/6 }
	qty, face := int(state[1]), int(state[2])
	if qty > 0 && float64(qty) > expect(face)+0.5 {
		return []byte{diceOpCall, 0, 0}
	}
	best := 1
	for f := 2; f <= 6; f++ {
		if mine[f] > mine[best] || mine[f] == mine[best] && f > best {
			best = f
		}
	}
	bidQty := max(qty, 1)
	if best <= face {
		bidQty = qty + 1
	}
	if qty > 0 && (float64(bidQty) > expect(best)+1 || bidQty > int(table.Field(diceTableInPlay))) {
		return []byte{diceOpCall, 0, 0}
	}
	return []byte{diceOpBid, byte(bidQty), byte(best)}
}
