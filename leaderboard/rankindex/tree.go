package rankindex

import (
	"bytes"
	"cmp"
)

// key is what a query compares against the entries: ascending s (the
// score, negated on descending boards), then earlier at, then player id.
// It is a total order, so every entry has its own rank.
type key struct {
	s  float64
	at int64 // Unix microseconds
	id string
}

// tree is an order-statistic treap: a binary search tree on key, a heap
// on random priorities, every node counting the nodes below it. Insert,
// delete, rank and select take O(log n) expected time.
//
// It is written here because no well-kept Go ordered-container library
// answers "how many keys are less than k" in O(log n): tidwall/btree keeps
// counts but exposes only GetAt, google/btree keeps none.
//
// The tree holds no Go pointers, so the garbage collector never scans it,
// however large: nodes live in one slice and link by int32 index, player
// ids and names are bytes in one arena, and the player id → node map is an
// open-addressing table of int32 (players.go). Each player of a board has
// one node for as long as the board is loaded; a score change unlinks the
// node and links it again under its new key. A board of ten million
// entries is about 90 bytes an entry in four allocations.
type tree struct {
	nodes []node // nodes[0] is the nil sentinel
	players
	root int32
	rng  uint64
}

type node struct {
	s           float64
	at          int64
	off         uint64 // the player id then the name, in the arena
	left, right int32
	size        int32
	prio        uint32
	idLen       uint16
	nameLen     uint16
	ver         uint32 // the entry's version (leaderboard.Entry.Version)
}

func newTree(capacity int) *tree {
	t := &tree{nodes: make([]node, 1, capacity+1), rng: 0x9e3779b97f4a7c15}
	t.players.init(capacity)
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

func (t *tree) idBytes(i int32) []byte {
	n := &t.nodes[i]
	return t.arena[n.off : n.off+uint64(n.idLen)]
}

func (t *tree) id(i int32) string { return string(t.idBytes(i)) }

func (t *tree) name(i int32) string {
	n := &t.nodes[i]
	o := n.off + uint64(n.idLen)
	return string(t.arena[o : o+uint64(n.nameLen)])
}

// compareNodes orders two nodes by key.
func (t *tree) compareNodes(a, b int32) int {
	x, y := &t.nodes[a], &t.nodes[b]
	if c := cmp.Compare(x.s, y.s); c != 0 {
		return c
	}
	if c := cmp.Compare(x.at, y.at); c != 0 {
		return c
	}
	return bytes.Compare(t.idBytes(a), t.idBytes(b))
}

// compareKey orders a key against a node.
func (t *tree) compareKey(k key, b int32) int {
	y := &t.nodes[b]
	if c := cmp.Compare(k.s, y.s); c != 0 {
		return c
	}
	if c := cmp.Compare(k.at, y.at); c != 0 {
		return c
	}
	id := t.idBytes(b)
	for i := range min(len(k.id), len(id)) {
		if c := cmp.Compare(k.id[i], id[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(k.id), len(id))
}

// set gives the player's entry the score s at time at and version ver,
// adding the player when new.
func (t *tree) set(id, name string, s float64, at int64, ver uint32) {
	if len(id) > 0xffff {
		id = id[:0xffff] // ids are at most 128 bytes (leaderboard.MaxIDLen)
	}
	if len(name) > 0xffff {
		name = name[:0xffff]
	}
	i := t.find(id)
	if i == 0 {
		i = t.add(id, name, s, at, ver)
		t.link(i)
		return
	}
	n := &t.nodes[i]
	n.ver = ver
	if n.s == s && n.at == at {
		if t.name(i) != name {
			t.rename(i, id, name)
		}
		return
	}
	t.root = t.unlink(t.root, i)
	n = &t.nodes[i]
	n.s, n.at = s, at
	if t.name(i) != name {
		t.rename(i, id, name)
	}
	t.link(i)
}

// add appends a node for a new player, not yet linked into the tree.
func (t *tree) add(id, name string, s float64, at int64, ver uint32) int32 {
	off := uint64(len(t.arena))
	t.arena = append(append(t.arena, id...), name...)
	t.nodes = append(t.nodes, node{s: s, at: at, ver: ver, off: off, size: 1, prio: t.random(),
		idLen: uint16(len(id)), nameLen: uint16(len(name))})
	i := int32(len(t.nodes) - 1)
	t.insertSlot(i)
	return i
}

// rename stores a new name; the old bytes stay in the arena (names rarely
// change).
func (t *tree) rename(i int32, id, name string) {
	n := &t.nodes[i]
	n.off = uint64(len(t.arena))
	n.nameLen = uint16(len(name))
	t.arena = append(append(t.arena, id...), name...)
}

func (t *tree) fix(i int32) {
	n := &t.nodes[i]
	n.size = 1 + t.nodes[n.left].size + t.nodes[n.right].size
}

// link inserts node x, which must be unlinked, by its key.
func (t *tree) link(x int32) {
	n := &t.nodes[x]
	n.left, n.right, n.size = 0, 0, 1
	l, r := t.split(t.root, x)
	t.root = t.merge(t.merge(l, x), r)
}

// split cuts the subtree at i into the nodes ordered before x and the rest.
func (t *tree) split(i, x int32) (int32, int32) {
	if i == 0 {
		return 0, 0
	}
	if t.compareNodes(i, x) < 0 {
		l, r := t.split(t.nodes[i].right, x)
		t.nodes[i].right = l
		t.fix(i)
		return i, r
	}
	l, r := t.split(t.nodes[i].left, x)
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

// unlink removes node x, which must be linked, from the subtree at i and
// returns the subtree's new root.
func (t *tree) unlink(i, x int32) int32 {
	if i == 0 {
		return 0
	}
	if i == x {
		n := &t.nodes[i]
		return t.merge(n.left, n.right)
	}
	if t.compareNodes(x, i) < 0 {
		t.nodes[i].left = t.unlink(t.nodes[i].left, x)
	} else {
		t.nodes[i].right = t.unlink(t.nodes[i].right, x)
	}
	t.fix(i)
	return i
}

// rank counts the keys less than k.
func (t *tree) rank(k key) int {
	n, i := 0, t.root
	for i != 0 {
		nd := &t.nodes[i]
		if t.compareKey(k, i) <= 0 {
			i = nd.left
		} else {
			n += int(t.nodes[nd.left].size) + 1
			i = nd.right
		}
	}
	return n
}

// rankOf counts the nodes ordered before the linked node x.
func (t *tree) rankOf(x int32) int {
	n, i := 0, t.root
	for i != 0 && i != x {
		nd := &t.nodes[i]
		if t.compareNodes(x, i) < 0 {
			i = nd.left
		} else {
			n += int(t.nodes[nd.left].size) + 1
			i = nd.right
		}
	}
	return n + int(t.nodes[t.nodes[x].left].size)
}

// at returns the node of 0-based rank r, or 0.
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
func (t *tree) walk(r, n int, fn func(int32)) {
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
		fn(i)
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
