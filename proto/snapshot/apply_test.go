package snapshot

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestApplyMatchesBefore checks Apply against the closure-per-entity
// version it replaced (applyBefore, kept below as it was), on deltas
// between random worlds and on random corruptions of them: the same world
// or the same error.
func TestApplyMatchesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		base, cur := randomWorld(rng), randomWorld(rng)
		var s skirmishv1.Snapshot
		if rng.IntN(8) == 0 {
			Full(&s, cur)
		} else {
			Delta(&s, base, cur)
			s.BaseTick = 1
		}
		if n%2 == 1 {
			corrupt(rng, &s)
		}
		got, err := Apply(base, &s)
		want, wantErr := applyBefore(base, &s)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || (err != nil) != errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("case %d: Apply(%v, %v) error = %v, want %v", n, base, &s, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: Apply(%v, %v) = %v, want %v", n, base, &s, got, want)
		}
		if n%2 == 0 && err == nil && !reflect.DeepEqual(got, cur) && len(got)+len(cur) > 0 {
			t.Fatalf("case %d: Apply(base, Delta(base, cur)) = %v, want %v", n, got, cur)
		}
	}
}

// randomWorld returns up to 12 entities with ids below 20, in increasing
// order, each of kind 1 to 3 with up to 6 fields.
func randomWorld(rng *rand.Rand) []Entity {
	var w []Entity
	for id := uint32(1); id < 20; id++ {
		if rng.IntN(5) < 3 {
			continue
		}
		f := make([]int32, rng.IntN(7))
		for i := range f {
			f[i] = rng.Int32N(9) - 4
		}
		w = append(w, Entity{ID: id, Kind: uint32(1 + rng.IntN(3)), Fields: f})
	}
	return w
}

// corrupt changes one thing in s, which may or may not leave it valid.
func corrupt(rng *rand.Rand, s *skirmishv1.Snapshot) {
	pick := func(n int) int { return rng.IntN(max(n, 1)) }
	switch rng.IntN(9) {
	case 0:
		s.Removed = append(s.Removed, uint32(rng.IntN(22)))
		if rng.IntN(2) == 0 {
			slices.Sort(s.Removed)
		}
	case 1:
		if len(s.Ids) > 0 {
			s.Ids[pick(len(s.Ids))] = uint32(rng.IntN(22))
		}
	case 2:
		if len(s.Kinds) > 0 {
			s.Kinds[pick(len(s.Kinds))] = uint32(rng.IntN(3))
		} else {
			s.Kinds = make([]uint32, len(s.Ids))
			if len(s.Kinds) > 0 {
				s.Kinds[pick(len(s.Kinds))] = 1
			}
		}
	case 3:
		if len(s.Masks) > 0 {
			s.Masks[pick(len(s.Masks))] ^= 1 << rng.IntN(8)
		}
	case 4:
		if len(s.Values) > 0 {
			s.Values = s.Values[:pick(len(s.Values))]
		} else {
			s.Values = append(s.Values, 1)
		}
	case 5:
		s.Masks = append(s.Masks, 1)
	case 6:
		s.Kinds = s.Kinds[:0]
	case 7:
		s.BaseTick = 1 - min(s.BaseTick, 1)
	case 8:
		s.Ids = append(s.Ids, uint32(rng.IntN(22)))
		s.Masks = append(s.Masks, uint64(rng.IntN(4)))
		if len(s.Kinds) > 0 {
			s.Kinds = append(s.Kinds, uint32(rng.IntN(2)))
		}
		s.Values = append(s.Values, 3, -2)
	}
}

func applyBefore(base []Entity, s *skirmishv1.Snapshot) ([]Entity, error) {
	if s.BaseTick == 0 {
		base = nil
	}
	if !slices.IsSorted(s.Removed) {
		return nil, fmt.Errorf("%w: removed ids not in increasing order", ErrBadSnapshot)
	}
	out := make([]Entity, 0, len(base)+len(s.Ids))
	a := fieldAlloc{buf: make([]int32, 0, len(s.Values)+4*len(s.Ids))}
	removed := s.Removed
	gone := func(id uint32) bool {
		for len(removed) > 0 && removed[0] < id {
			removed = removed[1:]
		}
		return len(removed) > 0 && removed[0] == id
	}
	i := 0 // next entity of base
	carry := func(below uint32, all bool) {
		for ; i < len(base) && (all || base[i].ID < below); i++ {
			if !gone(base[i].ID) {
				out = append(out, base[i])
			}
		}
	}
	listed := 0
	err := Each(s, func(l Listed) error {
		if listed > 0 && l.ID <= s.Ids[listed-1] {
			return fmt.Errorf("%w: ids not in increasing order at %d", ErrBadSnapshot, l.ID)
		}
		listed++
		carry(l.ID, false)
		var prev *Entity
		if i < len(base) && base[i].ID == l.ID {
			if !gone(l.ID) {
				prev = &base[i]
			}
			i++
		}
		if l.Kind != 0 {
			// Sent whole: the mask must be a prefix of fields.
			if l.Mask&(l.Mask+1) != 0 {
				return fmt.Errorf("%w: entity %d sent whole with gaps in its mask", ErrBadSnapshot, l.ID)
			}
			out = append(out, Entity{ID: l.ID, Kind: l.Kind, Fields: append(a.take(len(l.Values))[:0], l.Values...)})
			return nil
		}
		if prev == nil {
			return fmt.Errorf("%w: changed entity %d is not in the base", ErrBadSnapshot, l.ID)
		}
		if w := 64 - bits.LeadingZeros64(l.Mask); w > len(prev.Fields) {
			return fmt.Errorf("%w: entity %d has no field %d", ErrBadSnapshot, l.ID, w-1)
		}
		e := Entity{ID: l.ID, Kind: prev.Kind, Fields: append(a.take(len(prev.Fields))[:0], prev.Fields...)}
		mask := l.Mask
		for _, d := range l.Values {
			e.Fields[bits.TrailingZeros64(mask)] += d
			mask &= mask - 1
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	carry(0, true)
	return out, nil
}
