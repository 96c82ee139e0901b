package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skirmishgg/skirmish/internal/displayname"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// Store is leaderboard.Store over a DB.
type Store struct {
	db  DB
	now func() time.Time
	// nowSQL is an expression for the database's clock in Unix
	// microseconds: matches are stamped with it when recorded, and the
	// rank index polls by it, so the clocks of the hosts that write and
	// poll do not matter.
	nowSQL string

	// pools caches the rating pool of each mode read from rating_pools:
	// a mode's pool never changes once set (PutRatingPool), so a cached
	// one stays right in every process. At most maxCachedPools modes.
	poolsMu sync.Mutex
	pools   map[string]string
}

// maxCachedPools bounds Store.pools; modes past it are read each time.
const maxCachedPools = 1024

var _ leaderboard.Store = (*Store)(nil)

// New returns a store over db, whose schema must be migrated and whose
// dialect is d, and makes sure the given boards exist (existing boards are
// left as they are).
func New(ctx context.Context, db DB, d Dialect, boards []leaderboard.Board) (*Store, error) {
	s := &Store{db: db, now: time.Now, nowSQL: nowSQL(d), pools: map[string]string{}}
	for _, b := range boards {
		b, err := checkBoard(b)
		if err != nil {
			return nil, err
		}
		err = db.InTx(ctx, func(tx Queryer) error {
			_, err := insertBoard(ctx, tx, b, s.now().UnixMicro())
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("create board %q: %w", b.ID, err)
		}
	}
	return s, nil
}

// checkBoard validates a board and puts its title in the form players
// see (displayname.Title); an empty title stays empty.
func checkBoard(b leaderboard.Board) (leaderboard.Board, error) {
	if err := b.Validate(); err != nil {
		return b, err
	}
	if b.Title != "" {
		t, err := displayname.Title(b.Title)
		if err != nil {
			return b, leaderboard.Errorf(leaderboard.ErrInvalid, "board %q: %v", b.ID, err)
		}
		b.Title = t
	}
	return b, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// CreatePlayer makes a player with a fresh time-ordered id.
// The name must pass displayname.Name; the player gets its enforced form.
func (s *Store) CreatePlayer(ctx context.Context, name string) (leaderboard.Player, error) {
	name, err := displayname.Name(name)
	if err != nil {
		return leaderboard.Player{}, leaderboard.Errorf(leaderboard.ErrInvalid, "%v", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("player id: %w", err)
	}
	p := leaderboard.Player{ID: id.String(), Name: name, Created: s.now().UTC().Truncate(time.Microsecond)}
	_, err = s.db.Exec(ctx, `INSERT INTO players (id, name, created_at) VALUES ($1, $2, $3)`,
		p.ID, p.Name, p.Created.UnixMicro())
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("create player: %w", err)
	}
	return p, nil
}

// GetPlayer returns a player with its lifetime stats and its ratings.
func (s *Store) GetPlayer(ctx context.Context, id string) (leaderboard.Player, error) {
	var p leaderboard.Player
	var created int64
	err := s.db.QueryRow(ctx, `SELECT id, name, created_at, matches, wins, losses FROM players WHERE id = $1`, id).Scan(
		&p.ID, &p.Name, &created, &p.Matches, &p.Wins, &p.Losses)
	if errors.Is(err, ErrNoRows) {
		return leaderboard.Player{}, leaderboard.Errorf(leaderboard.ErrNotFound, "player %q not found", id)
	}
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("get player %q: %w", id, err)
	}
	p.Created = fromMicros(created)
	rows, err := s.db.Query(ctx, `SELECT stat, value FROM player_stats WHERE player_id = $1`, id)
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("stats of player %q: %w", id, err)
	}
	for rows.Next() {
		var name string
		var v float64
		if err := rows.Scan(&name, &v); err != nil {
			rows.Close()
			return leaderboard.Player{}, fmt.Errorf("stats of player %q: %w", id, err)
		}
		if p.Stats == nil {
			p.Stats = map[string]float64{}
		}
		p.Stats[name] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return leaderboard.Player{}, fmt.Errorf("stats of player %q: %w", id, err)
	}
	rows, err = s.db.Query(ctx, `SELECT pool, rating, sigma, matches FROM player_ratings WHERE player_id = $1`, id)
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("ratings of player %q: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var pool string
		var r leaderboard.PoolRating
		if err := rows.Scan(&pool, &r.Rating, &r.Sigma, &r.Matches); err != nil {
			return leaderboard.Player{}, fmt.Errorf("ratings of player %q: %w", id, err)
		}
		if p.Ratings == nil {
			p.Ratings = map[string]leaderboard.PoolRating{}
		}
		p.Ratings[pool] = r
	}
	if err := rows.Err(); err != nil {
		return leaderboard.Player{}, fmt.Errorf("ratings of player %q: %w", id, err)
	}
	return p, nil
}

// Boards lists every board by id.
func (s *Store) Boards(ctx context.Context) ([]leaderboard.Board, error) {
	return listBoards(ctx, s.db)
}

func listBoards(ctx context.Context, q Queryer) ([]leaderboard.Board, error) {
	rows, err := q.Query(ctx, `SELECT `+boardCols+` FROM boards ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list boards: %w", err)
	}
	defer rows.Close()
	var boards []leaderboard.Board
	for rows.Next() {
		var b leaderboard.Board
		var started int64
		if err := rows.Scan(boardDest(&b, &started)...); err != nil {
			return nil, fmt.Errorf("list boards: %w", err)
		}
		boards = append(boards, fixBoard(b, started))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list boards: %w", err)
	}
	return boards, nil
}

// GetBoard returns one board.
func (s *Store) GetBoard(ctx context.Context, id string) (leaderboard.Board, error) {
	var b leaderboard.Board
	var started int64
	err := s.db.QueryRow(ctx, `SELECT `+boardCols+` FROM boards WHERE id = $1`, id).Scan(boardDest(&b, &started)...)
	if errors.Is(err, ErrNoRows) {
		return leaderboard.Board{}, leaderboard.Errorf(leaderboard.ErrNotFound, "board %q not found", id)
	}
	if err != nil {
		return leaderboard.Board{}, fmt.Errorf("get board %q: %w", id, err)
	}
	return fixBoard(b, started), nil
}

// maxRatingLookup bounds the players of one Ratings call: a party or a
// handful of players in practice.
const maxRatingLookup = 100

// Ratings returns the ratings of the players rated in mode's pool, in one
// statement that reads the pool's mapping and each player's row by primary
// key.
func (s *Store) Ratings(ctx context.Context, mode string, ids []string) (map[string]float64, error) {
	if len(ids) > maxRatingLookup {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "ratings of %d players asked, more than %d", len(ids), maxRatingLookup)
	}
	out := make(map[string]float64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, mode)
	var in strings.Builder
	for i, id := range ids {
		if i > 0 {
			in.WriteByte(',')
		}
		args = append(args, id)
		in.WriteString("$" + strconv.Itoa(len(args)))
	}
	rows, err := s.db.Query(ctx, `SELECT player_id, rating FROM player_ratings
		WHERE pool = COALESCE((SELECT pool FROM rating_pools WHERE mode = $1), $1) AND player_id IN (`+in.String()+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("ratings in mode %q: %w", mode, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r float64
		if err := rows.Scan(&id, &r); err != nil {
			return nil, fmt.Errorf("ratings in mode %q: %w", mode, err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ratings in mode %q: %w", mode, err)
	}
	return out, nil
}

// RatingPools returns the mapping of modes to rating pools.
func (s *Store) RatingPools(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Query(ctx, `SELECT mode, pool FROM rating_pools`)
	if err != nil {
		return nil, fmt.Errorf("rating pools: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var mode, pool string
		if err := rows.Scan(&mode, &pool); err != nil {
			return nil, fmt.Errorf("rating pools: %w", err)
		}
		out[mode] = pool
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rating pools: %w", err)
	}
	return out, nil
}

// PutRatingPool maps mode to pool, once.
func (s *Store) PutRatingPool(ctx context.Context, mode, pool string) error {
	if err := leaderboard.ValidModeName(mode); err != nil {
		return leaderboard.Errorf(leaderboard.ErrInvalid, "mode: %v", err)
	}
	if err := leaderboard.ValidModeName(pool); err != nil {
		return leaderboard.Errorf(leaderboard.ErrInvalid, "pool: %v", err)
	}
	err := s.db.InTx(ctx, func(tx Queryer) error {
		if _, err := tx.Exec(ctx, `INSERT INTO rating_pools (mode, pool) VALUES ($1, $2) ON CONFLICT (mode) DO NOTHING`, mode, pool); err != nil {
			return err
		}
		var old string
		if err := tx.QueryRow(ctx, `SELECT pool FROM rating_pools WHERE mode = $1`, mode).Scan(&old); err != nil {
			return err
		}
		if old != pool {
			return leaderboard.Errorf(leaderboard.ErrConflict,
				"mode %q is rated in pool %q already; its players' ratings would move: map a new mode instead", mode, old)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put rating pool of mode %q: %w", mode, err)
	}
	return nil
}

// poolOf returns the rating pool of a mode, mapping the mode to a pool of
// its own name when it has none yet. Only the first match of a mode
// writes; the others read (or find the pool cached), so concurrent matches
// never wait on the row.
func (s *Store) poolOf(ctx context.Context, tx Queryer, mode string) (string, error) {
	if mode == "" {
		return "", nil // a publisher that did not say: the pool of no mode
	}
	s.poolsMu.Lock()
	pool, ok := s.pools[mode]
	s.poolsMu.Unlock()
	if ok {
		return pool, nil
	}
	err := tx.QueryRow(ctx, `SELECT pool FROM rating_pools WHERE mode = $1`, mode).Scan(&pool)
	if errors.Is(err, ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO rating_pools (mode, pool) VALUES ($1, $1) ON CONFLICT (mode) DO NOTHING`, mode); err != nil {
			return "", fmt.Errorf("rating pool of mode %q: %w", mode, err)
		}
		// Not cached: the transaction that made the row may yet roll back.
		err = tx.QueryRow(ctx, `SELECT pool FROM rating_pools WHERE mode = $1`, mode).Scan(&pool)
		if err != nil {
			return "", fmt.Errorf("rating pool of mode %q: %w", mode, err)
		}
		return pool, nil
	}
	if err != nil {
		return "", fmt.Errorf("rating pool of mode %q: %w", mode, err)
	}
	s.poolsMu.Lock()
	if len(s.pools) < maxCachedPools {
		s.pools[mode] = pool
	}
	s.poolsMu.Unlock()
	return pool, nil
}

// nowSQL is the dialect's expression for the current time of the
// database server in Unix microseconds (SQLite's is the clock of the host
// that holds the file, to the millisecond).
func nowSQL(d Dialect) string {
	if d == Postgres {
		return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
	}
	return "CAST(unixepoch('subsec') * 1000000 AS INTEGER)"
}

// DatabaseTime returns the current time of the database's clock, the clock
// by which matches are stamped when recorded (RecordedSince).
func (s *Store) DatabaseTime(ctx context.Context) (time.Time, error) {
	var us int64
	if err := s.db.QueryRow(ctx, `SELECT `+s.nowSQL).Scan(&us); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return fromMicros(us), nil
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
