package rankindex

import "hash/maphash"

// players finds a player's node by id without Go pointers: the ids are
// bytes in arena, and slots is an open-addressing hash table (linear
// probing, at most 3/4 full) of node indexes, 0 for an empty slot. A
// map[string]int32 of ten million ids would be ten million strings for
// the garbage collector to mark on every cycle.
type players struct {
	arena []byte
	slots []int32
	count int
	seed  maphash.Seed
}

func (p *players) init(capacity int) {
	n := 16
	for n*3 < capacity*4 {
		n *= 2
	}
	p.slots = make([]int32, n)
	p.seed = maphash.MakeSeed()
}

// find returns the node of a player, or 0.
func (t *tree) find(id string) int32 {
	mask := uint64(len(t.slots) - 1)
	for h := maphash.String(t.seed, id) & mask; ; h = (h + 1) & mask {
		i := t.slots[h]
		if i == 0 {
			return 0
		}
		if n := &t.nodes[i]; int(n.idLen) == len(id) && string(t.arena[n.off:n.off+uint64(n.idLen)]) == id {
			return i
		}
	}
}

// insertSlot records node i, whose player is new, in the table.
func (t *tree) insertSlot(i int32) {
	if (t.count+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(i)
	t.count++
}

func (t *tree) place(i int32) {
	mask := uint64(len(t.slots) - 1)
	h := maphash.Bytes(t.seed, t.idBytes(i)) & mask
	for t.slots[h] != 0 {
		h = (h + 1) & mask
	}
	t.slots[h] = i
}

func (t *tree) grow() {
	old := t.slots
	t.slots = make([]int32, 2*len(old))
	for _, i := range old {
		if i != 0 {
			t.place(i)
		}
	}
}

// builder fills a tree from entries that usually arrive in key order (a
// store scans a board best first): it links each node on the right spine
// of the treap, popping the nodes of lower priority into its left subtree,
// so a sorted load costs O(n), not O(n log n). At the first entry out of
// order, or a player seen twice, it finishes the spine and inserts the
// rest one by one.
type builder struct {
	t      *tree
	spine  []int32
	last   int32
	sorted bool
}

func newBuilder(t *tree) *builder { return &builder{t: t, sorted: t.len() == 0} }

func (b *builder) add(id, name string, s float64, at int64, ver uint32) {
	t := b.t
	if !b.sorted || len(id) > 0xffff || len(name) > 0xffff || t.find(id) != 0 {
		b.finish()
		t.set(id, name, s, at, ver)
		return
	}
	x := t.add(id, name, s, at, ver)
	if b.last != 0 && t.compareNodes(b.last, x) >= 0 {
		b.finish()
		t.link(x)
		return
	}
	b.last = x
	var popped int32
	for len(b.spine) > 0 {
		top := b.spine[len(b.spine)-1]
		if t.nodes[top].prio >= t.nodes[x].prio {
			t.nodes[top].right = x
			break
		}
		// top's subtree is complete: its right child, popped just
		// before it, already counts its own.
		t.fix(top)
		popped = top
		b.spine = b.spine[:len(b.spine)-1]
	}
	t.nodes[x].left = popped
	b.spine = append(b.spine, x)
}

// finish completes the spine; the tree is then a valid treap.
func (b *builder) finish() {
	if !b.sorted {
		return
	}
	b.sorted = false
	if len(b.spine) == 0 {
		return
	}
	for j := len(b.spine) - 1; j >= 0; j-- {
		b.t.fix(b.spine[j])
	}
	b.t.root = b.spine[0]
	b.spine = nil
}
