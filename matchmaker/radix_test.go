package matchmaker

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortKeys: the radix sort and the short-input sort both order like a
// stable sort by key, for floats of every sign and many duplicates.
func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 10, 255, 256, 300, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			floats := []float64{math.Inf(-1), -1e9, -2.5, -0.0, 0, 1e-300, 2.5, 1500, 1e9, math.Inf(1)}
			keys := make([]sortKey, n)
			for i := range keys {
				f := floats[rng.IntN(len(floats))]
				if rng.IntN(2) == 0 {
					f = 1500 + 300*rng.NormFloat64()
				}
				keys[i] = sortKey{floatKey(f), int32(i)}
			}
			want := slices.Clone(keys)
			slices.SortStableFunc(want, func(a, b sortKey) int { return cmp.Compare(a.key, b.key) })
			got := sortKeys(keys, make([]sortKey, n))
			if !slices.Equal(got, want) {
				t.Fatalf("sortKeys differs from a stable sort")
			}
		})
	}
	for _, pair := range [][2]float64{{-2, -1}, {-1, -0.5}, {-0.5, 0}, {0, 0.5}, {1, 2}, {math.Inf(-1), -1e300}, {1e300, math.Inf(1)}} {
		if floatKey(pair[0]) >= floatKey(pair[1]) {
			t.Errorf("floatKey(%v) >= floatKey(%v)", pair[0], pair[1])
		}
	}
}
