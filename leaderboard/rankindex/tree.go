package rankindex

import "cmp"

// key orders entries: ascending s (the score, negated on descending
// boards), then earlier at, then player id. It is a total order, so every
// entry has its own rank.
type key struct {
	s  float64
	at int64 // Unix microseconds
	id string
}

func (a key) compare(b key) int {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c
	}
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// tree is an order-statistic treap: a binary search tree on key, a heap
// on random priorities, every node counting the nodes below it. Insert,
// delete, rank-of-key and key-at-rank take O(log n) expected time.
//
// It is written here because no well-kept Go ordered-container library
// answers "how many keys are less than k" in O(log n): tidwall/btree keeps
// counts but exposes only GetAt, google/btree keeps none. Nodes live in one
// slice and link by int32 index, so ten million entries are one allocation
// the garbage collector walks quickly, not ten million pointers.
type tree struct {
	nodes []node // nodes[0] is the nil sentinel
	free  []int32
	root  int32
	rng   uint64
}

type node struct {
	key         key
	name        string
	left, right int32
	size        int32
	prio        uint32
}

func newTree(capacity int) *tree {
	t := &tree{nodes: make([]node, 1, capacity+1), rng: 0x9e3779b97f4a7c15}
	return t
}

func (t *tree) len() int { return int(t.nodes[t.root].size) }

// random is splitmix64: fast, and good enough for treap priorities.
func (t *tree) random() uint32 {
	t.rng += 0x9e3779b97f4a7c15
	z := t.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32(z ^ (z >> 31))
}

func (t *tree) alloc(k key, name string) int32 {
	n := node{key: k, name: name, size: 1, prio: t.random()}
	if l := len(t.free); l > 0 {
		i := t.free[l-1]
		t.free = t.free[:l-1]
		t.nodes[i] = n
		return i
	}
	t.nodes = append(t.nodes, n)
	return int32(len(t.nodes) - 1)
}

func (t *tree) fix(i int32) {
	n := &t.nodes[i]
	n.size = 1 + t.nodes[n.left].size + t.nodes[n.right].size
}

// split cuts the subtree at i into keys less than k and the rest.
func (t *tree) split(i int32, k key) (int32, int32) {
	if i == 0 {
		return 0, 0
	}
	if t.nodes[i].key.compare(k) < 0 {
		l, r := t.split(t.nodes[i].right, k)
		t.nodes[i].right = l
		t.fix(i)
		return i, r
	}
	l, r := t.split(t.nodes[i].left, k)
	t.nodes[i].left = r
	t.fix(i)
	return l, i
}

// merge joins two subtrees whose keys are all ordered a < b.
func (t *tree) merge(a, b int32) int32 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case t.nodes[a].prio > t.nodes[b].prio:
		t.nodes[a].right = t.merge(t.nodes[a].right, b)
		t.fix(a)
		return a
	default:
		t.nodes[b].left = t.merge(a, t.nodes[b].left)
		t.fix(b)
		return b
	}
}

// insert adds k, which must not be in the tree.
func (t *tree) insert(k key, name string) {
	l, r := t.split(t.root, k)
	t.root = t.merge(t.merge(l, t.alloc(k, name)), r)
}

// delete removes k if present.
func (t *tree) delete(k key) bool {
	var removed bool
	t.root, removed = t.erase(t.root, k)
	return removed
}

func (t *tree) erase(i int32, k key) (int32, bool) {
	if i == 0 {
		return 0, false
	}
	var removed bool
	switch c := k.compare(t.nodes[i].key); {
	case c == 0:
		n := t.nodes[i]
		t.nodes[i] = node{}
		t.free = append(t.free, i)
		return t.merge(n.left, n.right), true
	case c < 0:
		t.nodes[i].left, removed = t.erase(t.nodes[i].left, k)
	default:
		t.nodes[i].right, removed = t.erase(t.nodes[i].right, k)
	}
	t.fix(i)
	return i, removed
}

// rank counts the keys less than k.
func (t *tree) rank(k key) int {
	n, i := 0, t.root
	for i != 0 {
		nd := &t.nodes[i]
		if k.compare(nd.key) <= 0 {
			i = nd.left
		} else {
			n += int(t.nodes[nd.left].size) + 1
			i = nd.right
		}
	}
	return n
}

// at returns the node holding the key of 0-based rank r, or 0.
func (t *tree) at(r int) int32 {
	i := t.root
	for i != 0 {
		nd := &t.nodes[i]
		ls := int(t.nodes[nd.left].size)
		switch {
		case r < ls:
			i = nd.left
		case r == ls:
			return i
		default:
			r -= ls + 1
			i = nd.right
		}
	}
	return 0
}

// walk calls fn for up to n nodes in key order from 0-based rank r. It
// descends once, keeping the nodes it passed on the left, then walks in
// order: O(log n + count).
func (t *tree) walk(r, n int, fn func(*node)) {
	if n <= 0 || r < 0 {
		return
	}
	stack := make([]int32, 0, 64)
	i := t.root
	for i != 0 {
		nd := &t.nodes[i]
		ls := int(t.nodes[nd.left].size)
		if r == ls {
			break
		}
		if r < ls {
			stack = append(stack, i)
			i = nd.left
		} else {
			r -= ls + 1
			i = nd.right
		}
	}
	for n > 0 {
		if i == 0 {
			if len(stack) == 0 {
				return
			}
			i = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		fn(&t.nodes[i])
		n--
		// The next node: the leftmost of the right subtree, else the
		// nearest ancestor we passed on the left.
		i = t.nodes[i].right
		for i != 0 && t.nodes[i].left != 0 {
			stack = append(stack, i)
			i = t.nodes[i].left
		}
	}
}
