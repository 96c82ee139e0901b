// Package snapshot builds the snapshots a room sends: full ones, and deltas
// against the snapshot a client acknowledged (the Quake 3 model), and
// applies them on the receiving side.
//
// Wire form (skirmishv1.Snapshot): base_tick 0 means full. The listed
// entities travel as parallel arrays: ids[i], kinds[i], masks[i] (bit f set
// when field f is present), and values, the present fields of every listed
// entity one after another. An entity listed with a kind is sent whole:
// added since base_tick, or changed in kind or field count; its values are
// the fields themselves. An entity listed with kind 0 is in the base and
// keeps its kind; only its changed fields are present, each as the
// difference from its base value, so a small move costs a byte. removed
// holds the ids gone since base_tick. ids and removed are in increasing
// order, so a client applies a snapshot in one merge with its base. kinds
// is left empty when every listed entity keeps its kind. Games use kinds
// above 0.
package snapshot

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// MaxFields is the most fields an entity may have (the mask is 64 bits).
const MaxFields = 64

// reset empties s's lists, keeping their storage for reuse.
func reset(s *skirmishv1.Snapshot) {
	s.Removed = s.Removed[:0]
	s.Ids = s.Ids[:0]
	s.Kinds = s.Kinds[:0]
	s.Masks = s.Masks[:0]
	s.Values = s.Values[:0]
}

// Full lists every entity of cur in s.
func Full(s *skirmishv1.Snapshot, cur []Entity) {
	s.BaseTick = 0
	reset(s)
	for i := range cur {
		whole(s, &cur[i])
	}
}

// Delta lists in s what changed from base to cur. Both must be sorted by
// increasing id. s.BaseTick is the caller's to set.
func Delta(s *skirmishv1.Snapshot, base, cur []Entity) {
	reset(s)
	i, j := 0, 0
	for i < len(base) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(base) && base[i].ID < cur[j].ID):
			s.Removed = append(s.Removed, base[i].ID)
			i++
		case i == len(base) || cur[j].ID < base[i].ID:
			whole(s, &cur[j])
			j++
		default:
			changed(s, &base[i], &cur[j])
			i++
			j++
		}
	}
	// When every listed entity keeps its kind, the kinds go unsent.
	if !slices.ContainsFunc(s.Kinds, func(k uint32) bool { return k != 0 }) {
		s.Kinds = s.Kinds[:0]
	}
}

// whole lists e with its kind and every field.
func whole(s *skirmishv1.Snapshot, e *Entity) {
	n := min(len(e.Fields), MaxFields)
	mask := ^uint64(0)
	if n < MaxFields {
		mask = 1<<n - 1
	}
	s.Ids = append(s.Ids, e.ID)
	s.Kinds = append(s.Kinds, e.Kind)
	s.Masks = append(s.Masks, mask)
	s.Values = append(s.Values, e.Fields[:n]...)
}

// changed lists the fields of cur that differ from base, as differences,
// or nothing when none does.
func changed(s *skirmishv1.Snapshot, base, cur *Entity) {
	if base.Kind != cur.Kind || len(base.Fields) != len(cur.Fields) {
		whole(s, cur)
		return
	}
	var mask uint64
	for k := 0; k < len(cur.Fields) && k < MaxFields; k++ {
		if cur.Fields[k] != base.Fields[k] {
			mask |= 1 << k
			s.Values = append(s.Values, cur.Fields[k]-base.Fields[k])
		}
	}
	if mask == 0 {
		return
	}
	s.Ids = append(s.Ids, cur.ID)
	s.Kinds = append(s.Kinds, 0)
	s.Masks = append(s.Masks, mask)
}

// ErrBadSnapshot is returned by Apply for a snapshot that does not fit the
// world it is applied to.
var ErrBadSnapshot = errors.New("bad snapshot")

// Listed is one entity as a snapshot lists it.
type Listed struct {
	ID, Kind uint32
	Mask     uint64
	Values   []int32
}

// Each calls fn for every entity s lists, in order, after checking that the
// parallel arrays agree. Apply decodes the lists the same way, inline.
func Each(s *skirmishv1.Snapshot, fn func(Listed) error) error {
	if err := checkLists(s); err != nil {
		return err
	}
	v := 0
	for i, id := range s.Ids {
		n := bits.OnesCount64(s.Masks[i])
		if v+n > len(s.Values) {
			return fmt.Errorf("%w: entity %d needs %d values, %d left", ErrBadSnapshot, id, n, len(s.Values)-v)
		}
		var kind uint32
		if len(s.Kinds) > 0 {
			kind = s.Kinds[i]
		}
		if err := fn(Listed{ID: id, Kind: kind, Mask: s.Masks[i], Values: s.Values[v : v+n : v+n]}); err != nil {
			return err
		}
		v += n
	}
	if v != len(s.Values) {
		return fmt.Errorf("%w: %d values left over", ErrBadSnapshot, len(s.Values)-v)
	}
	return nil
}

// checkLists checks that the parallel arrays of s agree in length.
func checkLists(s *skirmishv1.Snapshot) error {
	if (len(s.Kinds) != len(s.Ids) && len(s.Kinds) != 0) || len(s.Masks) != len(s.Ids) {
		return fmt.Errorf("%w: %d ids, %d kinds, %d masks", ErrBadSnapshot, len(s.Ids), len(s.Kinds), len(s.Masks))
	}
	return nil
}

// Apply returns the world that s describes, given base, the world at
// s.BaseTick sorted by id (ignored when s is full). The result is sorted by
// id. It is what a client does with each snapshot it receives, so it
// copies nothing it need not: entities s does not list share their Fields
// with base, and the fields of listed ones share one allocation. Neither
// base nor the result may be modified afterwards. s must list ids, and
// removed ids, in increasing order, as Full and Delta do.
//
// It decodes the entity lists as Each does, and checks them the same way,
// but walks them in one merge with base without a call per entity.
func Apply(base []Entity, s *skirmishv1.Snapshot) ([]Entity, error) {
	if s.BaseTick == 0 {
		base = nil
	}
	if !slices.IsSorted(s.Removed) {
		return nil, fmt.Errorf("%w: removed ids not in increasing order", ErrBadSnapshot)
	}
	if err := checkLists(s); err != nil {
		return nil, err
	}
	ids, kinds, masks, values := s.Ids, s.Kinds, s.Masks, s.Values
	// Only an entity sent whole can be one base does not hold.
	n := len(base)
	for _, k := range kinds {
		if k != 0 {
			n++
		}
	}
	out := make([]Entity, 0, n)
	a := fieldAlloc{buf: make([]int32, 0, len(values)+4*len(ids))}
	removed := s.Removed
	v := 0 // next of values
	for j, id := range ids {
		mask := masks[j]
		nv := bits.OnesCount64(mask)
		if v+nv > len(values) {
			return nil, fmt.Errorf("%w: entity %d needs %d values, %d left", ErrBadSnapshot, id, nv, len(values)-v)
		}
		vals := values[v : v+nv : v+nv]
		v += nv
		if j > 0 && id <= ids[j-1] {
			return nil, fmt.Errorf("%w: ids not in increasing order at %d", ErrBadSnapshot, id)
		}
		k := 0
		for k < len(base) && base[k].ID < id {
			k++
		}
		if k > 0 {
			out, removed = carry(out, base[:k], removed)
			base = base[k:]
		}
		var prev *Entity
		if len(base) > 0 && base[0].ID == id {
			var g bool
			if removed, g = gone(removed, id); !g {
				prev = &base[0]
			}
			base = base[1:]
		}
		if len(kinds) > 0 && kinds[j] != 0 {
			// Sent whole: the mask must be a prefix of fields.
			if mask&(mask+1) != 0 {
				return nil, fmt.Errorf("%w: entity %d sent whole with gaps in its mask", ErrBadSnapshot, id)
			}
			f := a.take(len(vals))
			copy(f, vals)
			out = append(out, Entity{ID: id, Kind: kinds[j], Fields: f})
			continue
		}
		if prev == nil {
			return nil, fmt.Errorf("%w: changed entity %d is not in the base", ErrBadSnapshot, id)
		}
		if w := 64 - bits.LeadingZeros64(mask); w > len(prev.Fields) {
			return nil, fmt.Errorf("%w: entity %d has no field %d", ErrBadSnapshot, id, w-1)
		}
		f := a.take(len(prev.Fields))
		copy(f, prev.Fields)
		for _, d := range vals {
			f[bits.TrailingZeros64(mask)] += d
			mask &= mask - 1
		}
		out = append(out, Entity{ID: id, Kind: prev.Kind, Fields: f})
	}
	if v != len(values) {
		return nil, fmt.Errorf("%w: %d values left over", ErrBadSnapshot, len(values)-v)
	}
	out, _ = carry(out, base, removed)
	return out, nil
}

// carry appends the entities of run that removed does not name to out,
// and returns out and what is left of removed, which is in increasing
// order and no longer holds ids below those of run.
func carry(out, run []Entity, removed []uint32) ([]Entity, []uint32) {
	for k := range run {
		if len(removed) == 0 {
			// Nothing more is removed: the rest goes in one copy.
			return append(out, run[k:]...), removed
		}
		var g bool
		if removed, g = gone(removed, run[k].ID); !g {
			out = append(out, run[k])
		}
	}
	return out, removed
}

// gone reports whether removed, in increasing order, names id, and returns
// what is left of it past the ids below id.
func gone(removed []uint32, id uint32) ([]uint32, bool) {
	for len(removed) > 0 && removed[0] < id {
		removed = removed[1:]
	}
	return removed, len(removed) > 0 && removed[0] == id
}

// fieldAlloc hands out slices of n fields from one buffer, so a
// snapshot's listed entities cost one allocation.
type fieldAlloc struct{ buf []int32 }

// take returns n fields, all 0, with no room to grow into the next ones.
func (a *fieldAlloc) take(n int) []int32 {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]int32, 0, max(n, 2*cap(a.buf), 64))
	}
	at := len(a.buf)
	a.buf = a.buf[:at+n]
	return a.buf[at : at+n : at+n]
}
