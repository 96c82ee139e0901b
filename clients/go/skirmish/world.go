package skirmish

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/skirmishgg/skirmish/gameserver/snapshot"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// MaxFields is the most fields an entity can have (one mask bit each).
const MaxFields = 64

// Entity is one game object as the player sees it. Fields holds the
// entity's quantized fields by field number; their meaning is the game's
// (see gameserver/arena for Arena).
type Entity struct {
	ID     uint32
	Kind   uint32
	Fields []int32
}

// Field returns field i, or 0 when the entity has no such field.
func (e Entity) Field(i int) int32 {
	if i < 0 || i >= len(e.Fields) {
		return 0
	}
	return e.Fields[i]
}

// World is the state of the game at one server tick as one player sees it.
// A World is never changed once built, so it is safe to read from any
// goroutine.
type World struct {
	Tick uint32
	// LastInputSeq is the newest of the player's inputs the server had
	// applied at Tick.
	LastInputSeq uint32
	Entities     map[uint32]Entity
}

// ErrUnknownBase means a delta snapshot refers to a snapshot the client
// does not hold; the client waits for the next full snapshot.
var ErrUnknownBase = errors.New("delta against an unknown snapshot")

// Apply builds the world that snapshot s describes. For a full snapshot
// (base_tick 0) base is ignored. For a delta, base must be the world of
// s.base_tick: entities listed with a kind are added or replaced whole,
// entities listed without one change the fields in their mask by the values
// given (differences from base), removed ones are dropped, and all others
// carry over. The wire form is documented in gameserver/snapshot, whose
// decoder this uses.
func Apply(base *World, s *skirmishv1.Snapshot) (*World, error) {
	w := &World{Tick: s.GetTick(), LastInputSeq: s.GetLastInputSeq()}
	if s.GetBaseTick() == 0 {
		w.Entities = make(map[uint32]Entity, len(s.GetIds()))
	} else {
		if base == nil || base.Tick != s.GetBaseTick() {
			return nil, fmt.Errorf("snapshot %d: %w %d", s.GetTick(), ErrUnknownBase, s.GetBaseTick())
		}
		w.Entities = make(map[uint32]Entity, len(base.Entities)+len(s.GetIds()))
		for id, e := range base.Entities {
			w.Entities[id] = e
		}
		for _, id := range s.GetRemoved() {
			delete(w.Entities, id)
		}
	}
	err := snapshot.Each(s, func(l snapshot.Listed) error {
		e, err := applyEntity(w.Entities, l)
		if err != nil {
			return err
		}
		w.Entities[e.ID] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", s.GetTick(), err)
	}
	return w, nil
}

// applyEntity returns the entity l describes. Entities of the base world
// are never modified: a changed one gets a new Fields slice.
func applyEntity(world map[uint32]Entity, l snapshot.Listed) (Entity, error) {
	if l.Kind != 0 {
		e := Entity{ID: l.ID, Kind: l.Kind, Fields: make([]int32, 64-bits.LeadingZeros64(l.Mask))}
		mask := l.Mask
		for _, v := range l.Values {
			e.Fields[bits.TrailingZeros64(mask)] = v
			mask &= mask - 1
		}
		return e, nil
	}
	prev, ok := world[l.ID]
	if !ok {
		return Entity{}, fmt.Errorf("changed entity %d is not in the base", l.ID)
	}
	if w := 64 - bits.LeadingZeros64(l.Mask); w > len(prev.Fields) {
		return Entity{}, fmt.Errorf("entity %d has no field %d", l.ID, w-1)
	}
	e := Entity{ID: l.ID, Kind: prev.Kind, Fields: append([]int32(nil), prev.Fields...)}
	mask := l.Mask
	for _, d := range l.Values {
		e.Fields[bits.TrailingZeros64(mask)] += d
		mask &= mask - 1
	}
	return e, nil
}
