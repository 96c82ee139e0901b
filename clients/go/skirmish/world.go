package skirmish

import (
	"errors"
	"fmt"
	"math/bits"

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
// s.base_tick: entities listed are added or changed (fields not in an
// entity's mask keep their value, or are 0 for a new entity), removed ones
// are dropped, and all others carry over.
func Apply(base *World, s *skirmishv1.Snapshot) (*World, error) {
	w := &World{Tick: s.GetTick(), LastInputSeq: s.GetLastInputSeq()}
	if s.GetBaseTick() == 0 {
		w.Entities = make(map[uint32]Entity, len(s.GetEntities()))
	} else {
		if base == nil || base.Tick != s.GetBaseTick() {
			return nil, fmt.Errorf("snapshot %d: %w %d", s.GetTick(), ErrUnknownBase, s.GetBaseTick())
		}
		w.Entities = make(map[uint32]Entity, len(base.Entities)+len(s.GetEntities()))
		for id, e := range base.Entities {
			w.Entities[id] = e
		}
		for _, id := range s.GetRemoved() {
			delete(w.Entities, id)
		}
	}
	for _, pe := range s.GetEntities() {
		prev, existed := w.Entities[pe.GetId()]
		e, err := applyEntity(prev, existed, pe)
		if err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", s.GetTick(), err)
		}
		w.Entities[e.ID] = e
	}
	return w, nil
}

func applyEntity(prev Entity, existed bool, pe *skirmishv1.Entity) (Entity, error) {
	mask, values := pe.GetMask(), pe.GetValues()
	if n := bits.OnesCount64(mask); n != len(values) {
		return Entity{}, fmt.Errorf("entity %d: mask has %d fields but %d values", pe.GetId(), n, len(values))
	}
	e := Entity{ID: pe.GetId(), Kind: pe.GetKind()}
	if existed && e.Kind == 0 {
		e.Kind = prev.Kind
	}
	size := 64 - bits.LeadingZeros64(mask)
	if existed && len(prev.Fields) > size {
		size = len(prev.Fields)
	}
	e.Fields = make([]int32, size)
	if existed {
		copy(e.Fields, prev.Fields)
	}
	for k := 0; mask != 0; k++ {
		i := bits.TrailingZeros64(mask)
		e.Fields[i] = values[k]
		mask &= mask - 1
	}
	return e, nil
}
