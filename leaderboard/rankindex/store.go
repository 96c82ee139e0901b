// Package rankindex answers rank, around-me and top-N queries in O(log n)
// from a rank index kept beside the store, instead of counting rows in SQL.
//
// Store wraps a leaderboard store. At start (Run) it loads every board from
// the store into an Index; afterwards it learns of changes in two ways:
//
//   - In process: ApplyOutcome, PutBoard and EndSeason go through the
//     wrapper, which updates the index right after the store commits, so a
//     process reads its own writes.
//   - From other processes (a stats worker elsewhere, another replica): Run
//     polls the store every Config.Poll for the players of matches
//     recorded since the last poll (with an overlap that covers
//     transactions committing out of order and small clock skew) and
//     re-reads their entries; a board whose season changed, or that is new,
//     is reloaded.
//
// Both paths, and other replicas, may deliver reads of one entry in any
// order: a poll can read an entry, stall, and write it after a newer
// write-through, or after the board's season ended. Each entry therefore
// carries its version and the season it was read in, and the index keeps
// only the newest version of the season it holds (Index.Set); loads never
// go back to an earlier season.
//
// With several leaderboard replicas, give them the Redis index instead of
// Memory: they then share one sorted set per board that every replica
// updates after its writes and from its polls (see Redis).
//
// Until a board is loaded, its queries fall through to the store's SQL.
package rankindex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// Index holds the ranked entries of boards.
type Index interface {
	// Load replaces a board's entries with those scan yields, unless the
	// index holds a later season of the board: loads never go back.
	Load(ctx context.Context, b leaderboard.Board, scan func(func(leaderboard.Entry) error) error) error
	// Set inserts or moves entries of a board that were read in the given
	// season. It ignores entries of a season other than the one the index
	// holds, and an entry whose Version is not above the one the index
	// holds for the player: several writers (a write-through, a poll,
	// other replicas) may deliver reads of one entry in any order, and
	// only the newest read counts.
	Set(ctx context.Context, boardID string, season int64, entries []leaderboard.Entry) error
	// Rank returns a player's entry and rank; ok is false when the player
	// has no entry.
	Rank(ctx context.Context, boardID, playerID string) (e leaderboard.Entry, ok bool, err error)
	// Range returns up to n entries from the 0-based position start.
	Range(ctx context.Context, boardID string, start, n int) ([]leaderboard.Entry, error)
	// After returns the position of the first entry ranked after c.
	After(ctx context.Context, boardID string, c leaderboard.EntryCursor) (int, error)
}

// errNotLoaded: the index does not hold the board (yet).
var errNotLoaded = errors.New("board not in the rank index")

// Source is a store that can feed the index; the SQLite and PostgreSQL
// stores are.
type Source interface {
	leaderboard.Store
	// ScanEntries yields the entries of b's season, best first, and
	// nothing once the board is in another season.
	ScanEntries(ctx context.Context, b leaderboard.Board, fn func(leaderboard.Entry) error) error
	// PlayerEntries returns the entries of the players on every board,
	// each with the season it was read in.
	PlayerEntries(ctx context.Context, playerIDs []string) ([]leaderboard.BoardEntry, error)
	ChangedPlayers(ctx context.Context, since time.Time, limit int) ([]string, time.Time, error)
}

// Config tunes the refresh from other processes.
type Config struct {
	// Poll is how often to look for changes made by other processes.
	// Default 1s.
	Poll time.Duration
	// Overlap is how far back each poll looks again. Default 10s.
	Overlap time.Duration
}

// Store is a leaderboard.Store whose rank queries come from an Index.
type Store struct {
	Source
	cfg     Config
	idx     Index
	log     *slog.Logger
	ready   chan struct{}
	loads   prometheus.Counter
	refresh prometheus.Histogram

	mu     sync.RWMutex
	boards map[string]leaderboard.Board // loaded boards
}

var _ leaderboard.Store = (*Store)(nil)

// New wraps src; Run loads the index and keeps it current.
func New(cfg Config, src Source, idx Index, reg prometheus.Registerer, log *slog.Logger) (*Store, error) {
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = 10 * time.Second
	}
	if cfg.Poll < 0 || cfg.Overlap < 0 {
		return nil, fmt.Errorf("rank index: poll %v and overlap %v must be positive", cfg.Poll, cfg.Overlap)
	}
	if src == nil || idx == nil || reg == nil {
		return nil, errors.New("rank index: source, index and registerer are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{Source: src, cfg: cfg, idx: idx, log: log, ready: make(chan struct{}), boards: map[string]leaderboard.Board{},
		loads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_leaderboard_index_loads_total",
			Help: "Boards loaded into the rank index from the store (at start, new boards, new seasons).",
		}),
		refresh: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skirmish_leaderboard_index_refresh_seconds",
			Help:    "Time to poll the store for changes made elsewhere and apply them to the rank index.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}),
	}
	if err := reg.Register(s.loads); err != nil {
		return nil, fmt.Errorf("rank index metrics: %w", err)
	}
	if err := reg.Register(s.refresh); err != nil {
		return nil, fmt.Errorf("rank index metrics: %w", err)
	}
	return s, nil
}

// Ready is closed once every board is loaded.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// shared is an index that outlives this process (Redis): it records how
// far it has applied the store's changes, so that a replica starting on
// an index built earlier first catches up with what was written while no
// replica ran.
type shared interface {
	Synced(ctx context.Context) (time.Time, error)
	SetSynced(ctx context.Context, t time.Time) error
}

// Run loads every board, then polls for changes until ctx ends.
func (s *Store) Run(ctx context.Context) error {
	since := time.Now().Add(-s.cfg.Overlap)
	sh, isShared := s.idx.(shared)
	if isShared {
		t, err := sh.Synced(ctx)
		if err != nil {
			return err
		}
		if !t.IsZero() && t.Add(-s.cfg.Overlap).Before(since) {
			since = t.Add(-s.cfg.Overlap)
		}
	}
	if err := s.sync(ctx, time.Time{}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	close(s.ready)
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := time.Now()
		next := start.Add(-s.cfg.Overlap)
		if err := s.sync(ctx, since); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("rank index refresh failed; retrying", "err", err)
			continue
		}
		s.refresh.Observe(time.Since(start).Seconds())
		since = next
		if isShared {
			if err := sh.SetSynced(ctx, start); err != nil {
				s.log.Warn("rank index: cannot record sync time", "err", err)
			}
		}
	}
}

// sync loads new boards and boards with a new season, then applies the
// entries of players whose matches were recorded after since.
func (s *Store) sync(ctx context.Context, since time.Time) error {
	boards, err := s.Source.Boards(ctx)
	if err != nil {
		return err
	}
	for _, b := range boards {
		s.mu.RLock()
		old, ok := s.boards[b.ID]
		s.mu.RUnlock()
		if ok && b.Season < old.Season {
			continue // read before a season end this process has loaded
		}
		if !ok || old.Season != b.Season {
			loadStart := time.Now()
			if err := s.load(ctx, b); err != nil {
				return err
			}
			// Writes that raced with a long load are re-read below.
			if t := loadStart.Add(-s.cfg.Overlap); !since.IsZero() && t.Before(since) {
				since = t
			}
		} else if old != b {
			s.mu.Lock()
			s.boards[b.ID] = b
			s.mu.Unlock()
		}
	}
	if since.IsZero() {
		return nil
	}
	const page = 5000
	for {
		ids, latest, err := s.Source.ChangedPlayers(ctx, since, page)
		if err != nil {
			return err
		}
		if err := s.applyPlayers(ctx, ids); err != nil {
			return err
		}
		if len(ids) == 0 || !latest.After(since) {
			return nil
		}
		since = latest
	}
}

func (s *Store) load(ctx context.Context, b leaderboard.Board) error {
	start := time.Now()
	if err := s.idx.Load(ctx, b, func(fn func(leaderboard.Entry) error) error {
		return s.Source.ScanEntries(ctx, b, fn)
	}); err != nil {
		return fmt.Errorf("load board %q into the rank index: %w", b.ID, err)
	}
	s.mu.Lock()
	if old, ok := s.boards[b.ID]; !ok || old.Season <= b.Season {
		s.boards[b.ID] = b
	}
	s.mu.Unlock()
	s.loads.Inc()
	s.log.Info("rank index loaded board", "board", b.ID, "season", b.Season, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *Store) applyPlayers(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	entries, err := s.Source.PlayerEntries(ctx, ids)
	if err != nil {
		return err
	}
	type boardSeason struct {
		id     string
		season int64
	}
	bySeason := map[boardSeason][]leaderboard.Entry{}
	for _, e := range entries {
		k := boardSeason{e.BoardID, e.Season}
		bySeason[k] = append(bySeason[k], e.Entry)
	}
	for k, es := range bySeason {
		if err := s.idx.Set(ctx, k.id, k.season, es); err != nil {
			return err
		}
	}
	return nil
}

// loaded returns the board when the index holds it.
func (s *Store) loaded(id string) (leaderboard.Board, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.boards[id]
	return b, ok
}

// Boards lists the boards from memory once loaded.
func (s *Store) Boards(ctx context.Context) ([]leaderboard.Board, error) {
	return s.Source.Boards(ctx)
}

// GetBoard returns a loaded board from memory.
func (s *Store) GetBoard(ctx context.Context, id string) (leaderboard.Board, error) {
	if b, ok := s.loaded(id); ok {
		return b, nil
	}
	return s.Source.GetBoard(ctx, id)
}

// ApplyOutcome records the match, then moves its players in the index.
func (s *Store) ApplyOutcome(ctx context.Context, m leaderboard.Match) (bool, error) {
	applied, err := s.Source.ApplyOutcome(ctx, m)
	if err != nil || !applied {
		return applied, err
	}
	ids := make([]string, len(m.Players))
	for i, p := range m.Players {
		ids[i] = p.PlayerID
	}
	if err := s.applyPlayers(ctx, ids); err != nil {
		// The outcome is committed; the next poll repairs the index.
		s.log.Warn("rank index update failed; the next refresh repairs it", "match", m.ID, "err", err)
	}
	return true, nil
}

// PutBoard creates or updates a board and (re)loads it.
func (s *Store) PutBoard(ctx context.Context, b leaderboard.Board) (leaderboard.Board, error) {
	b, err := s.Source.PutBoard(ctx, b)
	if err != nil {
		return b, err
	}
	if old, ok := s.loaded(b.ID); ok && old.Season == b.Season {
		s.mu.Lock()
		s.boards[b.ID] = b
		s.mu.Unlock()
		return b, nil
	}
	return b, s.load(ctx, b)
}

// EndSeason ends the season and loads the (empty) new one.
func (s *Store) EndSeason(ctx context.Context, boardID string, season int64, at time.Time) (leaderboard.Board, error) {
	b, err := s.Source.EndSeason(ctx, boardID, season, at)
	if err != nil {
		return b, err
	}
	return b, s.load(ctx, b)
}

// TopEntries pages through a board from the index.
func (s *Store) TopEntries(ctx context.Context, boardID string, limit int, after *leaderboard.EntryCursor) ([]leaderboard.Entry, error) {
	if limit < 1 || limit > leaderboard.MaxPageSize {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "limit must be 1 to %d", leaderboard.MaxPageSize)
	}
	if _, ok := s.loaded(boardID); !ok {
		return s.Source.TopEntries(ctx, boardID, limit, after)
	}
	start := 0
	if after != nil {
		var err error
		if start, err = s.idx.After(ctx, boardID, *after); err != nil {
			return nil, err
		}
	}
	return s.idx.Range(ctx, boardID, start, limit)
}

// PlayerRank returns a player's entry from the index.
func (s *Store) PlayerRank(ctx context.Context, boardID, playerID string) (leaderboard.Entry, error) {
	if _, ok := s.loaded(boardID); !ok {
		return s.Source.PlayerRank(ctx, boardID, playerID)
	}
	e, ok, err := s.idx.Rank(ctx, boardID, playerID)
	if err != nil {
		return leaderboard.Entry{}, err
	}
	if !ok {
		return leaderboard.Entry{}, leaderboard.Errorf(leaderboard.ErrNotFound, "player %q has no entry on board %q", playerID, boardID)
	}
	return e, nil
}

// AroundPlayer returns the entries around a player from the index.
func (s *Store) AroundPlayer(ctx context.Context, boardID, playerID string, n int) ([]leaderboard.Entry, error) {
	if n < 0 || n > leaderboard.MaxAround {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "around must be 0 to %d", leaderboard.MaxAround)
	}
	if _, ok := s.loaded(boardID); !ok {
		return s.Source.AroundPlayer(ctx, boardID, playerID, n)
	}
	me, err := s.PlayerRank(ctx, boardID, playerID)
	if err != nil {
		return nil, err
	}
	start := max(0, int(me.Rank)-1-n)
	return s.idx.Range(ctx, boardID, start, int(me.Rank)-1-start+1+n)
}
