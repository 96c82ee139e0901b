package skirmish

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// MaxFields is the most fields an entity can have (one mask bit each).
const MaxFields = snapshot.MaxFields

// Entity is one game object as the player sees it: an id, a kind, and the
// kind's quantized fields by field number, whose meaning is the game's
// (see gameserver/arena for Arena). Field(i) reads one. It is
// proto/snapshot's Entity, the type the server encodes.
type Entity = snapshot.Entity

// World is the state of the game at one server tick as one player sees it.
// A World is never changed once built, so it is safe to read from any
// goroutine; its entities share unchanged fields with older worlds, so
// they must not be modified either.
type World struct {
	Tick uint32
	// LastInputSeq is the newest of the player's inputs the server had
	// applied at Tick.
	LastInputSeq uint32
	// Entities holds every entity the player sees, sorted by id.
	Entities []Entity
}

// Entity returns the entity with the given id.
func (w *World) Entity(id uint32) (Entity, bool) {
	i, ok := slices.BinarySearchFunc(w.Entities, id, func(e Entity, id uint32) int { return cmp.Compare(e.ID, id) })
	if !ok {
		return Entity{}, false
	}
	return w.Entities[i], true
}

// ErrUnknownBase means a delta snapshot refers to a snapshot the client
// does not hold; the client waits for the next full snapshot.
var ErrUnknownBase = errors.New("delta against an unknown snapshot")

// Apply builds the world that snapshot s describes. For a full snapshot
// (base_tick 0) base is ignored. For a delta, base must be the world of
// s.base_tick: entities listed with a kind are added or replaced whole,
// entities listed without one change the fields in their mask by the values
// given (differences from base), removed ones are dropped, and all others
// carry over. The wire form is documented in proto/snapshot, whose
// Apply this is.
func Apply(base *World, s *skirmishv1.Snapshot) (*World, error) {
	var from []Entity
	if s.GetBaseTick() != 0 {
		if base == nil || base.Tick != s.GetBaseTick() {
			return nil, fmt.Errorf("snapshot %d: %w %d", s.GetTick(), ErrUnknownBase, s.GetBaseTick())
		}
		from = base.Entities
	}
	ents, err := snapshot.Apply(from, s)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", s.GetTick(), err)
	}
	return &World{Tick: s.GetTick(), LastInputSeq: s.GetLastInputSeq(), Entities: ents}, nil
}
