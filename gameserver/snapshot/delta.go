// Package snapshot builds the snapshots a room sends: full ones, and deltas
// against the snapshot a client acknowledged (the Quake 3 model), and
// applies them on the receiving side.
//
// Wire form (skirmishv1.Snapshot): base_tick 0 means full; otherwise
// entities holds the entities added since base_tick (every field present)
// and those changed (only changed fields present, marked in mask: bit i set
// means field i is present; values holds present fields in field order;
// kind 0, meaning unchanged, which saves two bytes per changed entity),
// and removed holds the ids gone since base_tick. An entity whose kind or
// field count changed is sent whole, like an added one, with its kind.
// Games use kinds above 0.
package snapshot

import (
	"errors"
	"fmt"
	"sort"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// MaxFields is the most fields an entity may have (the mask is 64 bits).
const MaxFields = 64

// Full lists every entity of cur in s.
func Full(s *skirmishv1.Snapshot, cur []game.Entity) {
	s.BaseTick = 0
	s.Removed = s.Removed[:0]
	s.Entities = s.Entities[:0]
	for i := range cur {
		s.Entities = append(s.Entities, whole(&cur[i]))
	}
}

// Delta lists in s what changed from base to cur. Both must be sorted by
// increasing id. s.BaseTick is the caller's to set.
func Delta(s *skirmishv1.Snapshot, base, cur []game.Entity) {
	s.Removed = s.Removed[:0]
	s.Entities = s.Entities[:0]
	i, j := 0, 0
	for i < len(base) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(base) && base[i].ID < cur[j].ID):
			s.Removed = append(s.Removed, base[i].ID)
			i++
		case i == len(base) || cur[j].ID < base[i].ID:
			s.Entities = append(s.Entities, whole(&cur[j]))
			j++
		default:
			if e := changed(&base[i], &cur[j]); e != nil {
				s.Entities = append(s.Entities, e)
			}
			i++
			j++
		}
	}
}

func whole(e *game.Entity) *skirmishv1.Entity {
	n := min(len(e.Fields), MaxFields)
	var mask uint64
	if n == MaxFields {
		mask = ^uint64(0)
	} else {
		mask = 1<<n - 1
	}
	return &skirmishv1.Entity{Id: e.ID, Kind: e.Kind, Mask: mask, Values: e.Fields[:n:n]}
}

// changed returns the fields of cur that differ from base, or nil.
func changed(base, cur *game.Entity) *skirmishv1.Entity {
	if base.Kind != cur.Kind || len(base.Fields) != len(cur.Fields) {
		return whole(cur)
	}
	var mask uint64
	var values []int32
	for k := 0; k < len(cur.Fields) && k < MaxFields; k++ {
		if cur.Fields[k] != base.Fields[k] {
			mask |= 1 << k
			values = append(values, cur.Fields[k])
		}
	}
	if mask == 0 {
		return nil
	}
	return &skirmishv1.Entity{Id: cur.ID, Mask: mask, Values: values}
}

// ErrBadSnapshot is returned by Apply for a snapshot that does not fit the
// world it is applied to.
var ErrBadSnapshot = errors.New("bad snapshot")

// Apply returns the world that s describes, given base, the world at
// s.BaseTick (ignored when s is full). base is not modified. The result is
// sorted by id. It is what a client does with each snapshot it receives.
func Apply(base []game.Entity, s *skirmishv1.Snapshot) ([]game.Entity, error) {
	if s.BaseTick == 0 {
		base = nil
	}
	removed := make(map[uint32]bool, len(s.Removed))
	for _, id := range s.Removed {
		removed[id] = true
	}
	byID := make(map[uint32]int, len(base))
	out := make([]game.Entity, 0, len(base)+len(s.Entities))
	for _, e := range base {
		if removed[e.ID] {
			continue
		}
		byID[e.ID] = len(out)
		out = append(out, game.Entity{ID: e.ID, Kind: e.Kind, Fields: append([]int32(nil), e.Fields...)})
	}
	for _, pe := range s.Entities {
		width := fieldCount(pe.Mask)
		if width != len(pe.Values) {
			return nil, fmt.Errorf("%w: entity %d has %d values for mask %#x", ErrBadSnapshot, pe.Id, len(pe.Values), pe.Mask)
		}
		idx, ok := byID[pe.Id]
		if ok && pe.Kind == 0 {
			pe = &skirmishv1.Entity{Id: pe.Id, Kind: out[idx].Kind, Mask: pe.Mask, Values: pe.Values}
		}
		if !ok || out[idx].Kind != pe.Kind {
			// Added (or sent whole): the mask must be a prefix of fields.
			if pe.Mask&(pe.Mask+1) != 0 {
				return nil, fmt.Errorf("%w: new entity %d is not sent whole", ErrBadSnapshot, pe.Id)
			}
			e := game.Entity{ID: pe.Id, Kind: pe.Kind, Fields: append([]int32(nil), pe.Values...)}
			if ok {
				out[idx] = e
			} else {
				byID[pe.Id] = len(out)
				out = append(out, e)
			}
			continue
		}
		e := &out[idx]
		if pe.Mask&(pe.Mask+1) == 0 && width > len(e.Fields) {
			e.Fields = append([]int32(nil), pe.Values...) // sent whole with more fields
			continue
		}
		v := 0
		for k := 0; k < MaxFields && v < len(pe.Values); k++ {
			if pe.Mask&(1<<k) == 0 {
				continue
			}
			if k >= len(e.Fields) {
				return nil, fmt.Errorf("%w: entity %d has no field %d", ErrBadSnapshot, pe.Id, k)
			}
			e.Fields[k] = pe.Values[v]
			v++
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

func fieldCount(mask uint64) int {
	n := 0
	for ; mask != 0; mask &= mask - 1 {
		n++
	}
	return n
}
