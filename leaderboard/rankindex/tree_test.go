package rankindex

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

type want struct {
	key
	name string
}

func compareKeys(a, b key) int {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c
	}
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// check compares the tree with the sorted entries: treap invariants,
// rank, rankOf, at, find and walk.
func check(t *testing.T, tr *tree, ws []want) {
	t.Helper()
	if tr.len() != len(ws) {
		t.Fatalf("len = %d, want %d", tr.len(), len(ws))
	}
	var valid func(i int32) int32
	valid = func(i int32) int32 {
		if i == 0 {
			return 0
		}
		n := tr.nodes[i]
		for _, c := range []int32{n.left, n.right} {
			if c != 0 && tr.nodes[c].prio > n.prio {
				t.Fatalf("node %d: child %d has a higher priority", i, c)
			}
		}
		if size := 1 + valid(n.left) + valid(n.right); size != n.size {
			t.Fatalf("node %d: size %d, counted %d", i, n.size, size)
		}
		return n.size
	}
	valid(tr.root)
	for r, w := range ws {
		if got := tr.rank(w.key); got != r {
			t.Errorf("rank(%v) = %d, want %d", w.key, got, r)
		}
		i := tr.find(w.id)
		if i == 0 {
			t.Fatalf("find(%q) = 0", w.id)
		}
		if got := tr.rankOf(i); got != r {
			t.Errorf("rankOf(%q) = %d, want %d", w.id, got, r)
		}
		if n := tr.at(r); tr.id(n) != w.id || tr.name(n) != w.name || tr.compareKey(w.key, n) != 0 {
			t.Errorf("at(%d) = %q %q, want %v %q", r, tr.id(n), tr.name(n), w.key, w.name)
		}
	}
	if i := tr.find("absent"); i != 0 {
		t.Errorf("find(absent) = %d, want 0", i)
	}
	for _, start := range []int{0, 1, 7, len(ws) - 3, len(ws) - 1, len(ws), len(ws) + 5} {
		var got []string
		tr.walk(start, 10, func(i int32) { got = append(got, tr.id(i)) })
		var exp []string
		for r := max(start, 0); r < min(len(ws), max(start, 0)+10); r++ {
			exp = append(exp, ws[r].id)
		}
		if !slices.Equal(got, exp) {
			t.Errorf("walk(%d, 10) = %v, want %v", start, got, exp)
		}
	}
}

func sorted(m map[string]want) []want {
	ws := make([]want, 0, len(m))
	for _, w := range m {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b want) int { return compareKeys(a.key, b.key) })
	return ws
}

// TestTreeMatchesSortedSlice builds trees (in key order, out of order,
// one by one), then moves and renames players at random, and compares
// with a sorted slice.
func TestTreeMatchesSortedSlice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		initial func([]want) []want
		build   bool
	}{
		{"sorted build", func(ws []want) []want { return ws }, true},
		{"build out of order at the end", func(ws []want) []want {
			ws = slices.Clone(ws)
			ws[len(ws)-1], ws[len(ws)-2] = ws[len(ws)-2], ws[len(ws)-1]
			return ws
		}, true},
		{"shuffled build", func(ws []want) []want {
			ws = slices.Clone(ws)
			rand.New(rand.NewPCG(3, 4)).Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
			return ws
		}, true},
		{"one by one", func(ws []want) []want { return ws }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := map[string]want{}
			for i := range 400 {
				id := fmt.Sprintf("p%d", i) // p1 is a prefix of p10..p19
				m[id] = want{key{s: float64(rng.IntN(20)), at: int64(rng.IntN(5)), id: id}, "n" + id}
			}
			tr := newTree(0)
			if tc.build {
				b := newBuilder(tr)
				for _, w := range tc.initial(sorted(m)) {
					b.add(w.id, w.name, w.s, w.at, 0)
				}
				b.finish()
			} else {
				for _, w := range sorted(m) {
					tr.set(w.id, w.name, w.s, w.at, 0)
				}
			}
			check(t, tr, sorted(m))
			for range 3000 {
				id := fmt.Sprintf("p%d", rng.IntN(500)) // some new players
				w := want{key{s: float64(rng.IntN(20)), at: int64(rng.IntN(5)), id: id}, "n" + id}
				if rng.IntN(10) == 0 {
					w.name = fmt.Sprintf("renamed %d", rng.IntN(100))
				}
				tr.set(w.id, w.name, w.s, w.at, 0)
				m[id] = w
			}
			check(t, tr, sorted(m))
		})
	}
}

// TestTreeHoldsNoPointers: the garbage collector must not have to scan
// the tree, whatever its size.
func TestTreeHoldsNoPointers(t *testing.T) {
	var scan func(reflect.Type) bool
	scan = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Pointer, reflect.String, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			return true
		case reflect.Slice, reflect.Array:
			return scan(ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				if f := ty.Field(i); f.Type.Kind() != reflect.Slice && scan(f.Type) {
					return true
				}
			}
		}
		return false
	}
	for _, ty := range []reflect.Type{reflect.TypeFor[node](), reflect.TypeFor[int32](), reflect.TypeFor[byte]()} {
		if scan(ty) {
			t.Errorf("%v holds pointers", ty)
		}
	}
	// Every slice of the tree is of one of those types.
	ty := reflect.TypeFor[tree]()
	for _, f := range reflect.VisibleFields(ty) {
		if f.Type.Kind() == reflect.Slice {
			if e := f.Type.Elem(); e != reflect.TypeFor[node]() && e != reflect.TypeFor[int32]() && e != reflect.TypeFor[byte]() {
				t.Errorf("tree.%s is a slice of %v", f.Name, e)
			}
		}
	}
}
