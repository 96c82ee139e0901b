package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// What the rank index (leaderboard/rankindex) reads to build and refresh
// itself.

// ScanEntries calls fn with every entry of a board in season b.Season,
// best first, without ranks. When the board has moved on to another
// season it yields nothing: the caller learns of the new season from
// Boards. It streams: a board of ten million entries is never in memory
// twice.
func (s *Store) ScanEntries(ctx context.Context, b leaderboard.Board, fn func(leaderboard.Entry) error) error {
	rows, err := s.db.Query(ctx, `SELECT e.player_id, p.name, e.score, e.scored_at, e.version FROM board_entries e
		JOIN boards b ON b.id = e.board_id AND b.season = $2
		JOIN players p ON p.id = e.player_id WHERE e.board_id = $1 ORDER BY `+rankingOf(b).orderBy, b.ID, b.Season)
	if err != nil {
		return fmt.Errorf("scan board %q: %w", b.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e leaderboard.Entry
		var at int64
		if err := rows.Scan(&e.PlayerID, &e.Name, &e.Score, &at, &e.Version); err != nil {
			return fmt.Errorf("scan board %q: %w", b.ID, err)
		}
		e.Updated = fromMicros(at)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan board %q: %w", b.ID, err)
	}
	return nil
}

// PlayerEntries returns every board entry of the given players, each with
// the season its board was in when read (one statement reads both, so they
// agree), reading up to 500 players a query. board_entries has no index on player_id
// alone; naming every board lets the primary key (board_id, player_id)
// serve the lookup instead of a scan of the whole table.
func (s *Store) PlayerEntries(ctx context.Context, playerIDs []string) ([]leaderboard.BoardEntry, error) {
	boards, err := s.Boards(ctx)
	if err != nil || len(playerIDs) == 0 {
		return nil, err
	}
	var out []leaderboard.BoardEntry
	for len(playerIDs) > 0 {
		ids := playerIDs[:min(len(playerIDs), 500)]
		playerIDs = playerIDs[len(ids):]
		var bq, q strings.Builder
		args := make([]any, 0, len(boards)+len(ids))
		for i, b := range boards {
			if i > 0 {
				bq.WriteByte(',')
			}
			args = append(args, b.ID)
			fmt.Fprintf(&bq, "$%d", len(args))
		}
		for i, id := range ids {
			if i > 0 {
				q.WriteByte(',')
			}
			args = append(args, id)
			fmt.Fprintf(&q, "$%d", len(args))
		}
		rows, err := s.db.Query(ctx, `SELECT e.board_id, b.season, e.player_id, p.name, e.score, e.scored_at, e.version
			FROM board_entries e JOIN boards b ON b.id = e.board_id JOIN players p ON p.id = e.player_id
			WHERE e.board_id IN (`+bq.String()+`) AND e.player_id IN (`+q.String()+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("entries of %d players: %w", len(ids), err)
		}
		for rows.Next() {
			var e leaderboard.BoardEntry
			var at int64
			if err := rows.Scan(&e.BoardID, &e.Season, &e.PlayerID, &e.Name, &e.Score, &at, &e.Version); err != nil {
				rows.Close()
				return nil, fmt.Errorf("entries of %d players: %w", len(ids), err)
			}
			e.Updated = fromMicros(at)
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("entries of %d players: %w", len(ids), err)
		}
	}
	return out, nil
}

// RecordedSince returns up to limit matches recorded after since (by the
// database's clock, see DatabaseTime), oldest first, with their players.
func (s *Store) RecordedSince(ctx context.Context, since time.Time, limit int) ([]leaderboard.RecordedMatch, error) {
	rows, err := s.db.Query(ctx, `SELECT m.id, m.recorded_at, mp.player_id
		FROM (SELECT id, recorded_at FROM matches WHERE recorded_at > $1 ORDER BY recorded_at, id LIMIT $2) m
		JOIN match_players mp ON mp.match_id = m.id ORDER BY m.recorded_at, m.id`, since.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("matches recorded since %v: %w", since, err)
	}
	defer rows.Close()
	var out []leaderboard.RecordedMatch
	for rows.Next() {
		var id, player string
		var at int64
		if err := rows.Scan(&id, &at, &player); err != nil {
			return nil, fmt.Errorf("matches recorded since %v: %w", since, err)
		}
		if len(out) == 0 || out[len(out)-1].MatchID != id {
			out = append(out, leaderboard.RecordedMatch{MatchID: id, Recorded: fromMicros(at)})
		}
		last := &out[len(out)-1]
		last.PlayerIDs = append(last.PlayerIDs, player)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("matches recorded since %v: %w", since, err)
	}
	return out, nil
}

// SummarizeBoard counts the entries of a board's current season and sums
// their versions, in one statement, so that the three agree. It reads every
// entry of the board (through the primary key): run it on a slow period.
func (s *Store) SummarizeBoard(ctx context.Context, boardID string) (leaderboard.BoardSummary, error) {
	var sum leaderboard.BoardSummary
	err := s.db.QueryRow(ctx, `SELECT b.season, COUNT(e.player_id), CAST(COALESCE(SUM(e.version), 0) AS BIGINT)
		FROM boards b LEFT JOIN board_entries e ON e.board_id = b.id
		WHERE b.id = $1 GROUP BY b.season`, boardID).Scan(&sum.Season, &sum.Entries, &sum.VersionSum)
	if errors.Is(err, ErrNoRows) {
		return sum, leaderboard.Errorf(leaderboard.ErrNotFound, "board %q not found", boardID)
	}
	if err != nil {
		return sum, fmt.Errorf("summarize board %q: %w", boardID, err)
	}
	return sum, nil
}
