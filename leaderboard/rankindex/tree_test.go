package rankindex

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTreeMatchesSortedSlice applies random inserts, moves and deletes to
// the treap and to a sorted slice and compares rank, at and walk.
func TestTreeMatchesSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := newTree(0)
	keys := map[string]key{}
	var want []key
	for step := range 5000 {
		id := fmt.Sprintf("p%03d", rng.IntN(300))
		if old, ok := keys[id]; ok {
			if !tr.delete(old) {
				t.Fatalf("step %d: delete(%v) = false", step, old)
			}
			i, _ := slices.BinarySearchFunc(want, old, key.compare)
			want = slices.Delete(want, i, i+1)
			delete(keys, id)
			if rng.IntN(3) == 0 {
				continue
			}
		}
		k := key{s: float64(rng.IntN(20)), at: int64(rng.IntN(5)), id: id}
		tr.insert(k, "n"+id)
		keys[id] = k
		i, _ := slices.BinarySearchFunc(want, k, key.compare)
		want = slices.Insert(want, i, k)
		if tr.len() != len(want) {
			t.Fatalf("step %d: len = %d, want %d", step, tr.len(), len(want))
		}
	}
	for i, k := range want {
		if r := tr.rank(k); r != i {
			t.Errorf("rank(%v) = %d, want %d", k, r, i)
		}
		if n := tr.at(i); tr.nodes[n].key != k || tr.nodes[n].name != "n"+k.id {
			t.Errorf("at(%d) = %v, want %v", i, tr.nodes[n].key, k)
		}
	}
	for _, start := range []int{0, 1, 7, len(want) - 3, len(want) - 1, len(want), len(want) + 5} {
		var got []key
		tr.walk(start, 10, func(n *node) { got = append(got, n.key) })
		end := min(len(want), max(start, 0)+10)
		var exp []key
		if start < len(want) {
			exp = want[start:end]
		}
		if !slices.Equal(got, exp) {
			t.Errorf("walk(%d, 10) = %v, want %v", start, got, exp)
		}
	}
}
