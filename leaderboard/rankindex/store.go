// Package rankindex answers rank, around-me and top-N queries in O(log n)
// from a rank index kept beside the store, instead of counting rows in SQL.
//
// Store wraps a leaderboard store. At start (Run) it loads every board from
// the store into an Index; afterwards it learns of changes in three ways:
//
//   - Write-through: ApplyOutcome, PutBoard and EndSeason go through the
//     wrapper, which updates the index right after the store commits, so a
//     process reads its own writes. A stats worker in another process
//     writes through a shared (Redis) index with Writer, so its commits
//     rank within milliseconds everywhere.
//   - The change poll: Run polls the store every Config.Poll for matches
//     recorded since the last poll and re-reads their players' entries. The
//     store stamps a match with the database's clock when it records it,
//     and the poll reads the same clock, so the clocks of the hosts do not
//     matter. A transaction may commit up to its apply timeout after its
//     stamp, so each poll looks back Config.Overlap (longer than the stats
//     workers' apply timeout) and skips the matches it has already read.
//     A board whose season changed, or that is new, is reloaded.
//   - The drift check: every Config.DriftCheck, Run compares each board's
//     entry count and version sum in the index with the store's
//     (leaderboard.BoardSummary) and rebuilds a board that disagrees,
//     counting it in skirmish_leaderboard_index_repairs_total. Writes in
//     flight never look like drift: within a season both figures only
//     grow, so the index is wrong only when it is ahead of the store now,
//     or still behind where the store was one check ago.
//
// These paths, and other replicas, may deliver reads of one entry in any
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
	// Rebuild is Load even when the index already holds this season of
	// the board (the drift check found it wrong).
	Rebuild(ctx context.Context, b leaderboard.Board, scan func(func(leaderboard.Entry) error) error) error
	// Summary returns the season, entry count and version sum of a board
	// as the index holds it; ok is false when the board is not held.
	Summary(ctx context.Context, boardID string) (sum leaderboard.BoardSummary, ok bool, err error)
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
	// RecordedSince returns up to limit matches recorded after since by
	// the database's clock, oldest first.
	RecordedSince(ctx context.Context, since time.Time, limit int) ([]leaderboard.RecordedMatch, error)
	// DatabaseTime is the database's clock, which stamps recorded matches.
	DatabaseTime(ctx context.Context) (time.Time, error)
	// SummarizeBoard sums up the current season of a board.
	SummarizeBoard(ctx context.Context, boardID string) (leaderboard.BoardSummary, error)
}

// DefaultOverlap is how far back a poll looks by default: longer than the
// stats workers' default apply timeout (30s, stats.Config.ApplyTimeout),
// the longest a recorded match can take to commit.
const DefaultOverlap = 45 * time.Second

// Config tunes the refresh from other processes.
type Config struct {
	// Poll is how often to look for changes made by other processes.
	// Default 1s.
	Poll time.Duration
	// Overlap is how far back each poll looks again; it must exceed the
	// apply timeout of every stats worker that writes to the store.
	// Default DefaultOverlap.
	Overlap time.Duration
	// DriftCheck is how often every board's summary in the index is
	// compared with the store's (a count and sum over the board's rows in
	// SQL). Default 5m; negative turns the check off.
	DriftCheck time.Duration
}

// Store is a leaderboard.Store whose rank queries come from an Index.
type Store struct {
	Source
	cfg     Config
	idx     Index
	log     *slog.Logger
	ready   chan struct{}
	loads   prometheus.Counter
	repairs prometheus.Counter
	refresh prometheus.Histogram

	mu     sync.RWMutex
	boards map[string]leaderboard.Board // loaded boards

	// Owned by Run's goroutine.
	seen    map[string]time.Time // matches the poll has read, by recorded time
	checked map[string]checked   // the store's summaries at the last drift check
	synced  time.Time            // when the last complete poll started
}

// checked is the store's summary of a board and when it was read.
type checked struct {
	at  time.Time
	sum leaderboard.BoardSummary
}

var _ leaderboard.Store = (*Store)(nil)

// New wraps src; Run loads the index and keeps it current.
func New(cfg Config, src Source, idx Index, reg prometheus.Registerer, log *slog.Logger) (*Store, error) {
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.DriftCheck == 0 {
		cfg.DriftCheck = 5 * time.Minute
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
		seen: map[string]time.Time{}, checked: map[string]checked{},
		loads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_leaderboard_index_loads_total",
			Help: "Boards loaded into the rank index from the store (at start, new boards, new seasons).",
		}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_leaderboard_index_repairs_total",
			Help: "Boards rebuilt because the drift check found the rank index disagreeing with the store.",
		}),
		refresh: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skirmish_leaderboard_index_refresh_seconds",
			Help:    "Time to poll the store for changes made elsewhere and apply them to the rank index.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}),
	}
	for _, c := range []prometheus.Collector{s.loads, s.repairs, s.refresh} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("rank index metrics: %w", err)
		}
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

// Run loads every board, then polls for changes and checks for drift
// until ctx ends.
func (s *Store) Run(ctx context.Context) error {
	err := s.run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Store) run(ctx context.Context) error {
	now, err := s.Source.DatabaseTime(ctx)
	if err != nil {
		return err
	}
	since := now.Add(-s.cfg.Overlap)
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
	if _, err := s.sync(ctx, time.Time{}); err != nil {
		return err
	}
	close(s.ready)
	poll := time.NewTicker(s.cfg.Poll)
	defer poll.Stop()
	var drift <-chan time.Time
	if s.cfg.DriftCheck > 0 {
		t := time.NewTicker(s.cfg.DriftCheck)
		defer t.Stop()
		drift = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-drift:
			if t, err := s.checkDrift(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Warn("rank index drift check failed; retrying at the next one", "err", err)
			} else if !t.IsZero() {
				since = earliest(since, t)
			}
			continue
		case <-poll.C:
		}
		start := time.Now()
		dbNow, err := s.Source.DatabaseTime(ctx)
		if err == nil {
			var from time.Time
			from, err = s.sync(ctx, since)
			since = earliest(from, dbNow.Add(-s.cfg.Overlap))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("rank index refresh failed; retrying", "err", err)
			continue
		}
		s.refresh.Observe(time.Since(start).Seconds())
		s.synced = start
		s.forget(since)
		if isShared {
			if err := sh.SetSynced(ctx, dbNow); err != nil {
				s.log.Warn("rank index: cannot record sync time", "err", err)
			}
		}
	}
}

// sync loads new boards and boards with a new season, then applies the
// entries of players of matches recorded after since that it has not read
// yet. It returns since, moved back when a load may have missed writes.
func (s *Store) sync(ctx context.Context, since time.Time) (time.Time, error) {
	boards, err := s.Source.Boards(ctx)
	if err != nil {
		return since, err
	}
	for _, b := range boards {
		s.mu.RLock()
		old, ok := s.boards[b.ID]
		s.mu.RUnlock()
		if ok && b.Season < old.Season {
			continue // read before a season end this process has loaded
		}
		if !ok || old.Season != b.Season {
			loadStart, err := s.Source.DatabaseTime(ctx)
			if err != nil {
				return since, err
			}
			if err := s.load(ctx, b, false); err != nil {
				return since, err
			}
			if !since.IsZero() { // not the first sync: the poll starts after it
				since = earliest(since, s.rewind(loadStart))
			}
		} else if !sameBoard(old, b) {
			s.mu.Lock()
			s.boards[b.ID] = b
			s.mu.Unlock()
		}
	}
	if since.IsZero() {
		return since, nil
	}
	const page = 2000
	from := since
	for {
		ms, err := s.Source.RecordedSince(ctx, from, page)
		if err != nil {
			return since, err
		}
		var ids []string
		for _, m := range ms {
			if _, ok := s.seen[m.MatchID]; ok {
				continue
			}
			ids = append(ids, m.PlayerIDs...)
		}
		if err := s.applyPlayers(ctx, ids); err != nil {
			return since, err
		}
		for _, m := range ms {
			s.seen[m.MatchID] = m.Recorded
		}
		if len(ms) < page {
			return since, nil
		}
		// Matches stamped with the same microsecond as the last one of
		// this page may be cut off; the next poll looks back over them.
		from = ms[len(ms)-1].Recorded
	}
}

// rewind returns the time to poll from to cover writes that raced with a
// load or rebuild that started at the database time start, and forgets
// the matches recorded since then: the poll reads them again (the load
// may have replaced what it applied from them).
func (s *Store) rewind(start time.Time) time.Time {
	t := start.Add(-s.cfg.Overlap)
	for id, at := range s.seen {
		if !at.Before(t) {
			delete(s.seen, id)
		}
	}
	return t
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// forget drops the matches recorded before since: the poll no longer
// reads them.
func (s *Store) forget(since time.Time) {
	for id, at := range s.seen {
		if !at.After(since) {
			delete(s.seen, id)
		}
	}
}

// checkDrift compares every loaded board's summary in the index with the
// store's and rebuilds a board that disagrees. The index is wrong when it
// is ahead of the store (read after it), or still behind the store's
// summary of the previous check although a complete poll started after
// that: the poll would have applied every write committed by then, so
// what is still missing is lost. It returns the database time to
// poll again from when it rebuilt a board (zero otherwise).
func (s *Store) checkDrift(ctx context.Context) (time.Time, error) {
	s.mu.RLock()
	boards := make([]leaderboard.Board, 0, len(s.boards))
	for _, b := range s.boards {
		boards = append(boards, b)
	}
	s.mu.RUnlock()
	var rewound time.Time
	for _, b := range boards {
		held, ok, err := s.idx.Summary(ctx, b.ID)
		if err != nil {
			return rewound, err
		}
		at := time.Now()
		truth, err := s.Source.SummarizeBoard(ctx, b.ID)
		if err != nil {
			return rewound, err
		}
		prev, hadPrev := s.checked[b.ID]
		if !hadPrev || s.synced.After(prev.at) {
			// Keep the older summary until a poll has passed it.
			s.checked[b.ID] = checked{at: at, sum: truth}
		}
		if !ok || held.Season != truth.Season {
			continue // a season change in flight: the poll loads it
		}
		ahead := held.Entries > truth.Entries || held.VersionSum > truth.VersionSum
		behind := hadPrev && s.synced.After(prev.at) && prev.sum.Season == held.Season &&
			(held.Entries < prev.sum.Entries || held.VersionSum < prev.sum.VersionSum)
		if !ahead && !behind {
			continue
		}
		s.log.Warn("rank index disagrees with the store; rebuilding the board", "board", b.ID, "season", b.Season,
			"index_entries", held.Entries, "index_version_sum", held.VersionSum,
			"store_entries", truth.Entries, "store_version_sum", truth.VersionSum)
		start, err := s.Source.DatabaseTime(ctx)
		if err != nil {
			return rewound, err
		}
		b.Season = truth.Season
		if err := s.load(ctx, b, true); err != nil {
			return rewound, err
		}
		s.repairs.Inc()
		delete(s.checked, b.ID)
		if r := s.rewind(start); rewound.IsZero() || r.Before(rewound) {
			rewound = r
		}
	}
	return rewound, nil
}

func (s *Store) load(ctx context.Context, b leaderboard.Board, rebuild bool) error {
	start := time.Now()
	load := s.idx.Load
	if rebuild {
		load = s.idx.Rebuild
	}
	if err := load(ctx, b, func(fn func(leaderboard.Entry) error) error {
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
	return setPlayers(ctx, s.Source, s.idx, ids)
}

// setPlayers reads the players' entries from src and sets them in idx.
func setPlayers(ctx context.Context, src Source, idx Index, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	entries, err := src.PlayerEntries(ctx, ids)
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
		if err := idx.Set(ctx, k.id, k.season, es); err != nil {
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
	return b, s.load(ctx, b, false)
}

// EndSeason ends the season and loads the (empty) new one.
func (s *Store) EndSeason(ctx context.Context, boardID string, season int64, at time.Time) (leaderboard.Board, error) {
	b, err := s.Source.EndSeason(ctx, boardID, season, at)
	if err != nil {
		return b, err
	}
	return b, s.load(ctx, b, false)
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

// sameBoard reports whether two reads of a board agree in every field.
func sameBoard(a, b leaderboard.Board) bool {
	return a.SameRanking(b) && a.ID == b.ID && a.Title == b.Title && a.Reset == b.Reset &&
		a.Season == b.Season && a.SeasonStarted.Equal(b.SeasonStarted)
}
