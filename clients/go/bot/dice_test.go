package bot

import (
	"slices"
	"testing"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
)

// diceWorld is a Liar's Dice world as seat 0 sees it while bidding: the
// table and its own dice.
func diceWorld(turn, qty, face, inPlay int32, mine ...int32) *skirmish.World {
	w := &skirmish.World{Tick: 5, Entities: []skirmish.Entity{
		{ID: diceTableID, Kind: diceKindTable, Fields: []int32{1, dicePhaseBidding, turn, qty, face, -1, 100, inPlay}},
	}}
	for i, f := range mine {
		w.Entities = append(w.Entities, skirmish.Entity{ID: uint32(100 + i), Kind: diceKindDie, Fields: []int32{f}})
	}
	return w
}

func TestDiceBrain(t *testing.T) {
	tests := []struct {
		name string
		w    *skirmish.World
		want []byte
	}{
		{"not my turn", diceWorld(1, 0, 0, 10, 1, 2, 3, 4, 5), nil},
		{"opens on the face held most", diceWorld(0, 0, 0, 10, 2, 4, 4, 6, 1), []byte{diceOpBid, 1, 4}},
		{"raises the face when it can", diceWorld(0, 1, 3, 10, 4, 4, 1, 2, 6), []byte{diceOpBid, 1, 4}},
		{"raises the quantity otherwise", diceWorld(0, 1, 5, 10, 4, 4, 1, 2, 6), []byte{diceOpBid, 2, 4}},
		{"calls a bid above what it expects", diceWorld(0, 6, 2, 10, 1, 1, 3, 4, 5), []byte{diceOpCall, 0, 0}},
		{"calls when a raise is past the dice in play", diceWorld(0, 10, 6, 10, 6, 6, 6, 6, 6), []byte{diceOpCall, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewDiceBrain(10) // seat 0
			if got := b.Decide(tt.w); !slices.Equal(got, tt.want) {
				t.Errorf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDiceBrainOncePerTurn: snapshots repeat a turn until the server
// applies the move; the brain answers it once, again after Retry.
func TestDiceBrainOncePerTurn(t *testing.T) {
	b := NewDiceBrain(10)
	w := diceWorld(0, 0, 0, 10, 3, 3, 1, 2, 5)
	if b.Decide(w) == nil {
		t.Fatal("no move on the brain's turn")
	}
	if got := b.Decide(w); got != nil {
		t.Errorf("second Decide of the same turn = %v, want nil", got)
	}
	b.Retry()
	if b.Decide(w) == nil {
		t.Error("no move after Retry")
	}
}
