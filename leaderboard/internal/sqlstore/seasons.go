package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

const boardCols = `id, title, sort_order, stat, aggregate, modes, pool, reset_schedule, season, season_started`

func boardDest(b *leaderboard.Board, started *int64) []any {
	return []any{&b.ID, &b.Title, &b.Order, &b.Stat, &b.Aggregate, modesDest{&b.Modes}, &b.Pool, &b.Reset, &b.Season, started}
}

// modesDest scans the comma-separated modes column.
type modesDest struct{ m *[]string }

func (d modesDest) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("modes: unexpected %T", v)
	}
	*d.m = nil
	if s != "" {
		*d.m = strings.Split(s, ",")
	}
	return nil
}

func fixBoard(b leaderboard.Board, started int64) leaderboard.Board {
	if started != 0 {
		b.SeasonStarted = fromMicros(started)
	}
	return b
}

// insertBoard creates a board in season 1 started at now, unless one of
// its id exists; a new board of the rating stat starts with the current
// ratings of its pool. It reports whether it created the board.
func insertBoard(ctx context.Context, tx Queryer, b leaderboard.Board, now int64) (bool, error) {
	n, err := tx.Exec(ctx, `INSERT INTO boards (id, title, sort_order, stat, aggregate, modes, pool, reset_schedule, season, season_started)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9) ON CONFLICT (id) DO NOTHING`,
		b.ID, b.Title, string(b.Order), b.Stat, string(b.Aggregate), strings.Join(b.Modes, ","), b.Pool, b.Reset, now)
	if err != nil || n == 0 {
		return false, err
	}
	if b.Stat == leaderboard.StatRating {
		if _, err := tx.Exec(ctx, `INSERT INTO board_entries (board_id, player_id, score, scored_at)
			SELECT $1, player_id, rating, updated_at FROM player_ratings WHERE pool = $2`, b.ID, b.Pool); err != nil {
			return false, fmt.Errorf("seed rating board: %w", err)
		}
	}
	return true, nil
}

// PutBoard creates a board or updates its title and reset schedule.
func (s *Store) PutBoard(ctx context.Context, b leaderboard.Board) (leaderboard.Board, error) {
	b, err := checkBoard(b)
	if err != nil {
		return leaderboard.Board{}, err
	}
	err = s.db.InTx(ctx, func(tx Queryer) error {
		var old leaderboard.Board
		var started int64
		err := tx.QueryRow(ctx, `SELECT `+boardCols+` FROM boards WHERE id = $1`, b.ID).Scan(boardDest(&old, &started)...)
		if errors.Is(err, ErrNoRows) {
			_, err = insertBoard(ctx, tx, b, s.now().UnixMicro())
			return err
		}
		if err != nil {
			return err
		}
		if !old.SameRanking(b) {
			return leaderboard.Errorf(leaderboard.ErrConflict,
				"board %q exists with %s; only its title and reset schedule may change", b.ID, describe(old))
		}
		_, err = tx.Exec(ctx, `UPDATE boards SET title = $2, reset_schedule = $3 WHERE id = $1`, b.ID, b.Title, b.Reset)
		return err
	})
	if err != nil {
		return leaderboard.Board{}, fmt.Errorf("put board %q: %w", b.ID, err)
	}
	return s.GetBoard(ctx, b.ID)
}

// describe names what a board ranks, for an error.
func describe(b leaderboard.Board) string {
	d := fmt.Sprintf("order %s, stat %s, aggregate %s", b.Order, b.Stat, b.Aggregate)
	if len(b.Modes) > 0 {
		d += ", modes " + strings.Join(b.Modes, ",")
	}
	if b.Pool != "" {
		d += ", pool " + b.Pool
	}
	return d
}

// EndSeason archives the current season's standings and empties the board.
func (s *Store) EndSeason(ctx context.Context, boardID string, season int64, at time.Time) (leaderboard.Board, error) {
	b, err := s.GetBoard(ctx, boardID)
	if err != nil {
		return leaderboard.Board{}, err
	}
	err = s.db.InTx(ctx, func(tx Queryer) error {
		var started int64
		err := tx.QueryRow(ctx, `SELECT season_started FROM boards WHERE id = $1`, b.ID).Scan(&started)
		if err != nil {
			return err
		}
		// The conditional update makes replicas that race to end the same
		// season end it once; it also locks the board row.
		n, err := tx.Exec(ctx, `UPDATE boards SET season = season + 1, season_started = $3
			WHERE id = $1 AND season = $2`, b.ID, season, at.UnixMicro())
		if err != nil {
			return err
		}
		if n == 0 {
			return leaderboard.Errorf(leaderboard.ErrConflict, "season %d of board %q is not the current season", season, b.ID)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO board_seasons (board_id, season, started_at, ended_at, entries)
			VALUES ($1, $2, $3, $4, 0)`, b.ID, season, started, at.UnixMicro()); err != nil {
			return err
		}
		entries, err := tx.Exec(ctx, `INSERT INTO board_archive (board_id, season, place, player_id, score, scored_at)
			SELECT e.board_id, $2, ROW_NUMBER() OVER (ORDER BY `+rankingOf(b).orderBy+`), e.player_id, e.score, e.scored_at
			FROM board_entries e WHERE e.board_id = $1`, b.ID, season)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE board_seasons SET entries = $3 WHERE board_id = $1 AND season = $2`,
			b.ID, season, entries); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM board_entries WHERE board_id = $1`, b.ID)
		return err
	})
	if err != nil {
		return leaderboard.Board{}, fmt.Errorf("end season %d of board %q: %w", season, b.ID, err)
	}
	return s.GetBoard(ctx, b.ID)
}

// Seasons lists the ended seasons and then the current one.
func (s *Store) Seasons(ctx context.Context, boardID string) ([]leaderboard.Season, error) {
	b, err := s.GetBoard(ctx, boardID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT season, started_at, ended_at, entries FROM board_seasons
		WHERE board_id = $1 ORDER BY season`, b.ID)
	if err != nil {
		return nil, fmt.Errorf("seasons of board %q: %w", b.ID, err)
	}
	defer rows.Close()
	var out []leaderboard.Season
	for rows.Next() {
		var se leaderboard.Season
		var started, ended int64
		if err := rows.Scan(&se.Season, &started, &ended, &se.Entries); err != nil {
			return nil, fmt.Errorf("seasons of board %q: %w", b.ID, err)
		}
		if started != 0 {
			se.Started = fromMicros(started)
		}
		se.Ended = fromMicros(ended)
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seasons of board %q: %w", b.ID, err)
	}
	return append(out, leaderboard.Season{Season: b.Season, Started: b.SeasonStarted}), nil
}

// SeasonEntries pages through an archived season's final standings.
func (s *Store) SeasonEntries(ctx context.Context, boardID string, season int64, limit int, after *leaderboard.EntryCursor) ([]leaderboard.Entry, error) {
	if limit < 1 || limit > leaderboard.MaxPageSize {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "limit must be 1 to %d", leaderboard.MaxPageSize)
	}
	b, err := s.GetBoard(ctx, boardID)
	if err != nil {
		return nil, err
	}
	var n int64
	err = s.db.QueryRow(ctx, `SELECT entries FROM board_seasons WHERE board_id = $1 AND season = $2`, b.ID, season).Scan(&n)
	if errors.Is(err, ErrNoRows) {
		return nil, leaderboard.Errorf(leaderboard.ErrNotFound, "board %q has no ended season %d (current: %d)", b.ID, season, b.Season)
	}
	if err != nil {
		return nil, fmt.Errorf("season %d of board %q: %w", season, b.ID, err)
	}
	var from int64
	if after != nil {
		err := s.db.QueryRow(ctx, `SELECT place FROM board_archive WHERE board_id = $1 AND season = $2 AND player_id = $3`,
			b.ID, season, after.PlayerID).Scan(&from)
		if errors.Is(err, ErrNoRows) {
			return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "cursor names no entry of season %d", season)
		}
		if err != nil {
			return nil, fmt.Errorf("season %d of board %q: %w", season, b.ID, err)
		}
	}
	rows, err := s.db.Query(ctx, `SELECT a.place, a.player_id, p.name, a.score, a.scored_at
		FROM board_archive a JOIN players p ON p.id = a.player_id
		WHERE a.board_id = $1 AND a.season = $2 AND a.place > $3 ORDER BY a.place LIMIT $4`,
		b.ID, season, from, limit)
	if err != nil {
		return nil, fmt.Errorf("season %d of board %q: %w", season, b.ID, err)
	}
	return scanEntries(rows, limit, true)
}

// scanEntries reads rows of (rank?, player_id, name, score, scored_at).
func scanEntries(rows Rows, capacity int, withRank bool) ([]leaderboard.Entry, error) {
	defer rows.Close()
	out := make([]leaderboard.Entry, 0, capacity)
	for rows.Next() {
		var e leaderboard.Entry
		var at int64
		dest := []any{&e.PlayerID, &e.Name, &e.Score, &at}
		if withRank {
			dest = append([]any{&e.Rank}, dest...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan entries: %w", err)
		}
		e.Updated = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan entries: %w", err)
	}
	return out, nil
}
