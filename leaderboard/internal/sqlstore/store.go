package sqlstore

import (
	"context"
	"errors"
	"fmt"
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
}

var _ leaderboard.Store = (*Store)(nil)

// New returns a store over db, whose schema must be migrated and whose
// dialect is d, and makes sure the given boards exist (existing boards are
// left as they are).
func New(ctx context.Context, db DB, d Dialect, boards []leaderboard.Board) (*Store, error) {
	s := &Store{db: db, now: time.Now, nowSQL: nowSQL(d)}
	for _, b := range boards {
		b, err := checkBoard(b)
		if err != nil {
			return nil, err
		}
		_, err = db.Exec(ctx, `INSERT INTO boards (id, title, sort_order, operator, metric, reset_schedule, season, season_started)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7) ON CONFLICT (id) DO NOTHING`,
			b.ID, b.Title, string(b.Order), string(b.Operator), string(b.Metric), b.Reset, s.now().UnixMicro())
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
	p := leaderboard.Player{ID: id.String(), Name: name, Created: s.now().UTC().Truncate(time.Microsecond), Rating: leaderboard.DefaultRating}
	_, err = s.db.Exec(ctx, `INSERT INTO players (id, name, created_at, rating) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Name, p.Created.UnixMicro(), p.Rating)
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("create player: %w", err)
	}
	return p, nil
}

// GetPlayer returns a player with its stats.
func (s *Store) GetPlayer(ctx context.Context, id string) (leaderboard.Player, error) {
	var p leaderboard.Player
	var created int64
	err := s.db.QueryRow(ctx, `SELECT id, name, created_at, rating, matches, wins, losses,
			eliminations, deaths, damage, shots_fired, shots_hit
		FROM players WHERE id = $1`, id).Scan(
		&p.ID, &p.Name, &created, &p.Rating, &p.Matches, &p.Wins, &p.Losses,
		&p.Eliminations, &p.Deaths, &p.Damage, &p.ShotsFired, &p.ShotsHit)
	if errors.Is(err, ErrNoRows) {
		return leaderboard.Player{}, leaderboard.Errorf(leaderboard.ErrNotFound, "player %q not found", id)
	}
	if err != nil {
		return leaderboard.Player{}, fmt.Errorf("get player %q: %w", id, err)
	}
	p.Created = fromMicros(created)
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

// Ratings returns the ratings of the players that exist.
func (s *Store) Ratings(ctx context.Context, ids []string) (map[string]float64, error) {
	out := make(map[string]float64, len(ids))
	// One query per id keeps the SQL portable; the matchmaker asks for a
	// handful of players at a time.
	for _, id := range ids {
		var r float64
		err := s.db.QueryRow(ctx, `SELECT rating FROM players WHERE id = $1`, id).Scan(&r)
		if errors.Is(err, ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rating of %q: %w", id, err)
		}
		out[id] = r
	}
	return out, nil
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
