package rankindex

import (
	"context"
	"sync"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// Memory is the in-process rank index: one order-statistic tree per board
// under a read-write lock. Reads of different boards never contend; reads
// of one board share its lock.
type Memory struct {
	mu     sync.RWMutex
	boards map[string]*memBoard
}

var _ Index = (*Memory)(nil)

// NewMemory returns an empty in-process index.
func NewMemory() *Memory { return &Memory{boards: map[string]*memBoard{}} }

type memBoard struct {
	mu     sync.RWMutex
	desc   bool
	season int64
	t      *tree
	vsum   int64 // sum of the entries' versions (leaderboard.BoardSummary)
}

func (m *Memory) board(id string) (*memBoard, bool) {
	m.mu.RLock()
	b, ok := m.boards[id]
	m.mu.RUnlock()
	return b, ok
}

// sortKey is the score the tree orders ascending, and the time.
func sortKey(desc bool, score float64, updated time.Time) (float64, int64) {
	if desc {
		score = -score
	}
	return score, updated.UnixMicro()
}

func (b *memBoard) entry(i int32, rank int) leaderboard.Entry {
	n := &b.t.nodes[i]
	s := n.s
	if b.desc {
		s = -s
	}
	if s == 0 {
		s = 0 // no negative zero in JSON
	}
	return leaderboard.Entry{Rank: int64(rank), PlayerID: b.t.id(i), Name: b.t.name(i), Score: s,
		Updated: time.UnixMicro(n.at).UTC()}
}

// set moves the player's entry unless the index holds the same or a later
// version of it.
func (b *memBoard) set(e leaderboard.Entry) {
	var held uint32
	if i := b.t.find(e.PlayerID); i != 0 {
		if !newer(e.Version, b.t.nodes[i].ver) {
			return
		}
		held = b.t.nodes[i].ver
	}
	b.vsum += int64(version(e.Version)) - int64(held)
	s, at := sortKey(b.desc, e.Score, e.Updated)
	b.t.set(e.PlayerID, e.Name, s, at, version(e.Version))
}

// Load replaces a board's entries with what scan yields, building the new
// tree aside so that readers keep the old one meanwhile. A scan in rank
// order (what the stores yield) builds the tree in linear time.
func (m *Memory) Load(ctx context.Context, board leaderboard.Board, scan func(func(leaderboard.Entry) error) error) error {
	nb := &memBoard{desc: board.Order != leaderboard.Ascending, season: board.Season, t: newTree(1024)}
	bl := newBuilder(nb.t)
	if err := scan(func(e leaderboard.Entry) error {
		s, at := sortKey(nb.desc, e.Score, e.Updated)
		bl.add(e.PlayerID, e.Name, s, at, version(e.Version))
		nb.vsum += int64(version(e.Version))
		return nil
	}); err != nil {
		return err
	}
	bl.finish()
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.boards[board.ID]; ok && old.season > board.Season {
		return nil // a later season was loaded meanwhile
	}
	m.boards[board.ID] = nb
	return nil
}

// Rebuild is Load: the memory index never skips a load.
func (m *Memory) Rebuild(ctx context.Context, board leaderboard.Board, scan func(func(leaderboard.Entry) error) error) error {
	return m.Load(ctx, board, scan)
}

// Summary returns the season, entry count and version sum of a loaded
// board; ok is false when the board is not loaded.
func (m *Memory) Summary(ctx context.Context, boardID string) (leaderboard.BoardSummary, bool, error) {
	b, ok := m.board(boardID)
	if !ok {
		return leaderboard.BoardSummary{}, false, nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return leaderboard.BoardSummary{Season: b.season, Entries: int64(b.t.len()), VersionSum: b.vsum}, true, nil
}

// Set inserts or moves entries of a loaded board read in its loaded
// season; other entries are ignored (the next Load reads them from the
// store), and so are versions the board already holds.
func (m *Memory) Set(ctx context.Context, boardID string, season int64, entries []leaderboard.Entry) error {
	b, ok := m.board(boardID)
	if !ok || b.season != season {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range entries {
		b.set(e)
	}
	return nil
}

// Rank returns a player's entry with its rank.
func (m *Memory) Rank(ctx context.Context, boardID, playerID string) (leaderboard.Entry, bool, error) {
	b, ok := m.board(boardID)
	if !ok {
		return leaderboard.Entry{}, false, errNotLoaded
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	i := b.t.find(playerID)
	if i == 0 {
		return leaderboard.Entry{}, false, nil
	}
	return b.entry(i, b.t.rankOf(i)+1), true, nil
}

// Range returns up to n entries from 0-based position start.
func (m *Memory) Range(ctx context.Context, boardID string, start, n int) ([]leaderboard.Entry, error) {
	b, ok := m.board(boardID)
	if !ok {
		return nil, errNotLoaded
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]leaderboard.Entry, 0, min(n, max(0, b.t.len()-start)))
	b.t.walk(start, n, func(i int32) { out = append(out, b.entry(i, start+len(out)+1)) })
	return out, nil
}

// After returns the 0-based position of the first entry ranked after the
// cursor.
func (m *Memory) After(ctx context.Context, boardID string, c leaderboard.EntryCursor) (int, error) {
	b, ok := m.board(boardID)
	if !ok {
		return 0, errNotLoaded
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	s, at := sortKey(b.desc, c.Score, c.Time())
	k := key{s: s, at: at, id: c.PlayerID}
	r := b.t.rank(k)
	if i := b.t.find(c.PlayerID); i != 0 && b.t.compareKey(k, i) == 0 {
		r++
	}
	return r, nil
}

// Len returns the number of entries of a board, or -1 when not loaded.
func (m *Memory) Len(boardID string) int {
	b, ok := m.board(boardID)
	if !ok {
		return -1
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.t.len()
}

// version is how the tree stores an entry's version: in 32 bits, which fit
// in the padding of its node. An entry changes once per match at most, so
// a season would need four billion matches of one player to wrap.
func version(v int64) uint32 { return uint32(v) }

// newer reports whether version v is after the held version h.
func newer(v int64, h uint32) bool { return version(v) > h }
