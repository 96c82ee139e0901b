package room

import (
	"slices"
	"testing"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// inputGame records the sequence numbers of the inputs it is given.
type inputGame struct {
	secretGame
	applied []uint32
}

func (g *inputGame) Input(_ string, in *skirmishv1.Input) { g.applied = append(g.applied, in.Seq) }

func TestApplyInputsOnePerTick(t *testing.T) {
	tests := []struct {
		name    string
		arrive  [][]uint32 // inputs arriving before each tick
		applied [][]uint32 // inputs applied in each tick
	}{
		{"one per tick", [][]uint32{{1}, {2}, {3}}, [][]uint32{{1}, {2}, {3}}},
		{"two together wait their turn", [][]uint32{{1, 2}, {}, {3, 4}, {}}, [][]uint32{{1}, {2}, {3}, {4}}},
		{"jitter: none, then two", [][]uint32{{1}, {}, {2, 3}, {4}}, [][]uint32{{1}, nil, {2}, {3}}},
		{"a lasting backlog shrinks", [][]uint32{{1}, {}, {2, 3}, {4}, {5}, {6}, {7}, {8}},
			[][]uint32{{1}, nil, {2}, {3}, {4}, {5}, {6, 7}, {8}}},
		{"two per message every other tick", [][]uint32{{1, 2}, {}, {3, 4}, {}, {5, 6}, {}, {7, 8}, {}, {9, 10}, {}},
			[][]uint32{{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}}},
		{"a burst beyond the buffer is applied at once", [][]uint32{{1, 2, 3, 4, 5, 6}, {}, {}}, [][]uint32{{1, 2, 3, 4}, {5}, {6}}},
		{"out of order, repeated and old", [][]uint32{{2, 1}, {2, 3, 1}, {}}, [][]uint32{{1}, {2}, {3}}},
		{"nothing", [][]uint32{{}, {}}, [][]uint32{nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &inputGame{}
			r := &Room{game: g}
			st := &seat{Seat: game.Seat{PlayerID: "p"}, session: &Session{}}
			for tick, seqs := range tt.arrive {
				for _, seq := range seqs {
					st.session.inputs = append(st.session.inputs, &skirmishv1.Input{Seq: seq})
				}
				g.applied = nil
				r.applyInputs(st)
				if !slices.Equal(g.applied, tt.applied[tick]) {
					t.Errorf("tick %d applied %v, want %v", tick, g.applied, tt.applied[tick])
				}
			}
		})
	}
}
