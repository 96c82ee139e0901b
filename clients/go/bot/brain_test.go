package bot

import (
	"testing"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
)

// BenchmarkDecide is one bot's decision in an 8-player Arena world with
// 16 projectiles, as the load generator's bots make one every tick.
//
//	go test -run '^$' -bench Decide -benchmem ./clients/go/bot/
func BenchmarkDecide(b *testing.B) {
	w := &skirmish.World{Tick: 9}
	for i := uint32(1); i <= 24; i++ {
		if i <= 8 {
			w.Entities = append(w.Entities, skirmish.Entity{ID: i, Kind: arenaKindPlayer, Fields: []int32{int32(i) * 300, int32(i) * 170, 3, 100, int32(i % 2)}})
		} else {
			w.Entities = append(w.Entities, skirmish.Entity{ID: i, Kind: 2, Fields: []int32{int32(i) * 10, int32(i) * 20, 40, 0, 1, 7}})
		}
	}
	brain := NewBrain(3, 1)
	b.ReportAllocs()
	for b.Loop() {
		brain.Decide(w)
	}
}
