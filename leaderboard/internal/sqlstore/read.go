package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// ranking holds the SQL that orders one board: by score in the board's
// direction, then earlier scored_at, then player id, a total order.
type ranking struct {
	orderBy string
	// better is true for entries ranked ahead of ($2 score, $3 scored_at,
	// $4 player id); worse for entries behind it.
	better, worse string
}

func rankingOf(b leaderboard.Board) ranking {
	dir, gt, lt := "DESC", ">", "<"
	if b.Order == leaderboard.Ascending {
		dir, gt, lt = "ASC", "<", ">"
	}
	return ranking{
		orderBy: "e.score " + dir + ", e.scored_at ASC, e.player_id ASC",
		better:  "(e.score " + gt + " $2 OR (e.score = $2 AND (e.scored_at < $3 OR (e.scored_at = $3 AND e.player_id < $4))))",
		worse:   "(e.score " + lt + " $2 OR (e.score = $2 AND (e.scored_at > $3 OR (e.scored_at = $3 AND e.player_id > $4))))",
	}
}

// TopEntries returns a page of a board, best first.
func (s *Store) TopEntries(ctx context.Context, boardID string, limit int, after *leaderboard.EntryCursor) ([]leaderboard.Entry, error) {
	if limit < 1 || limit > leaderboard.MaxPageSize {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "limit must be 1 to %d", leaderboard.MaxPageSize)
	}
	b, err := s.GetBoard(ctx, boardID)
	if err != nil {
		return nil, err
	}
	r := rankingOf(b)
	const cols = `SELECT e.player_id, p.name, e.score, e.scored_at FROM board_entries e
		JOIN players p ON p.id = e.player_id WHERE e.board_id = $1`
	var rows Rows
	if after == nil {
		rows, err = s.db.Query(ctx, cols+` ORDER BY `+r.orderBy+` LIMIT $2`, b.ID, limit)
	} else {
		rows, err = s.db.Query(ctx, cols+` AND `+r.worse+` ORDER BY `+r.orderBy+` LIMIT $5`,
			b.ID, after.Score, after.Updated, after.PlayerID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("top of board %q: %w", b.ID, err)
	}
	defer rows.Close()
	entries := make([]leaderboard.Entry, 0, limit)
	for rows.Next() {
		var e leaderboard.Entry
		var at int64
		if err := rows.Scan(&e.PlayerID, &e.Name, &e.Score, &at); err != nil {
			return nil, fmt.Errorf("top of board %q: %w", b.ID, err)
		}
		e.Updated = fromMicros(at)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top of board %q: %w", b.ID, err)
	}
	first := int64(1)
	if after != nil && len(entries) > 0 {
		if first, err = s.rankOf(ctx, b, entries[0]); err != nil {
			return nil, err
		}
	}
	for i := range entries {
		entries[i].Rank = first + int64(i)
	}
	return entries, nil
}

// rankOf counts the entries ranked ahead of e. It scans them: the rank
// index of a later issue makes this O(log n).
func (s *Store) rankOf(ctx context.Context, b leaderboard.Board, e leaderboard.Entry) (int64, error) {
	var ahead int64
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM board_entries e WHERE e.board_id = $1 AND `+rankingOf(b).better,
		b.ID, e.Score, e.Updated.UnixMicro(), e.PlayerID).Scan(&ahead)
	if err != nil {
		return 0, fmt.Errorf("rank on board %q: %w", b.ID, err)
	}
	return ahead + 1, nil
}

// PlayerRank returns a player's entry and rank on a board.
func (s *Store) PlayerRank(ctx context.Context, boardID, playerID string) (leaderboard.Entry, error) {
	b, err := s.GetBoard(ctx, boardID)
	if err != nil {
		return leaderboard.Entry{}, err
	}
	e := leaderboard.Entry{PlayerID: playerID}
	var at int64
	err = s.db.QueryRow(ctx, `SELECT p.name, e.score, e.scored_at FROM board_entries e
		JOIN players p ON p.id = e.player_id WHERE e.board_id = $1 AND e.player_id = $2`,
		b.ID, playerID).Scan(&e.Name, &e.Score, &at)
	if errors.Is(err, ErrNoRows) {
		return leaderboard.Entry{}, leaderboard.Errorf(leaderboard.ErrNotFound, "player %q has no entry on board %q", playerID, b.ID)
	}
	if err != nil {
		return leaderboard.Entry{}, fmt.Errorf("entry of %q on board %q: %w", playerID, b.ID, err)
	}
	e.Updated = fromMicros(at)
	if e.Rank, err = s.rankOf(ctx, b, e); err != nil {
		return leaderboard.Entry{}, err
	}
	return e, nil
}

const resultCols = `mp.player_id, mp.name, mp.team, mp.placement, mp.stats,
	mp.left_early, mp.standing, mp.rating_before, mp.rating_after`

// standing scans a stored standing into a leaderboard.Standing.
type standing struct{ s *leaderboard.Standing }

func (d standing) Scan(v any) error {
	switch v := v.(type) {
	case string:
		*d.s = leaderboard.ParseStanding(v)
	case []byte:
		*d.s = leaderboard.ParseStanding(string(v))
	default:
		return fmt.Errorf("standing: unexpected %T", v)
	}
	return nil
}

func resultDest(r *leaderboard.Result) []any {
	return []any{&r.PlayerID, &r.Name, &r.Team, &r.Placement, statsDest{&r.Stats}, &r.Left, standing{&r.Standing}, &r.RatingBefore, &r.RatingAfter}
}

// statsDest scans a result's stats column (encodeStats) into a map; ""
// is no stats.
type statsDest struct{ m *map[string]float64 }

func (d statsDest) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("stats: unexpected %T", v)
	}
	*d.m = nil
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, d.m); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	return nil
}

// GetMatch returns a recorded match with its teams and players.
func (s *Store) GetMatch(ctx context.Context, id string) (leaderboard.Match, error) {
	m := leaderboard.Match{ID: id}
	var started, ended, recorded int64
	err := s.db.QueryRow(ctx, `SELECT room_id, mode, region, gameserver_id, started_at, ended_at,
			end_reason, rating_pool, recorded_at FROM matches WHERE id = $1`, id).
		Scan(&m.RoomID, &m.Mode, &m.Region, &m.GameserverID, &started, &ended, &m.EndReason, &m.Pool, &recorded)
	if errors.Is(err, ErrNoRows) {
		return leaderboard.Match{}, leaderboard.Errorf(leaderboard.ErrNotFound, "match %q not found", id)
	}
	if err != nil {
		return leaderboard.Match{}, fmt.Errorf("get match %q: %w", id, err)
	}
	if started != 0 {
		m.StartedAt = fromMicros(started)
	}
	m.EndedAt, m.Recorded = fromMicros(ended), fromMicros(recorded)

	rows, err := s.db.Query(ctx, `SELECT team, score, placement FROM match_teams WHERE match_id = $1 ORDER BY team`, id)
	if err != nil {
		return leaderboard.Match{}, fmt.Errorf("teams of match %q: %w", id, err)
	}
	for rows.Next() {
		var t leaderboard.TeamResult
		if err := rows.Scan(&t.Team, &t.Score, &t.Placement); err != nil {
			rows.Close()
			return leaderboard.Match{}, fmt.Errorf("teams of match %q: %w", id, err)
		}
		m.Teams = append(m.Teams, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return leaderboard.Match{}, fmt.Errorf("teams of match %q: %w", id, err)
	}

	rows, err = s.db.Query(ctx, `SELECT `+resultCols+` FROM match_players mp
		WHERE mp.match_id = $1 ORDER BY mp.placement, mp.team, mp.player_id`, id)
	if err != nil {
		return leaderboard.Match{}, fmt.Errorf("players of match %q: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r leaderboard.Result
		if err := rows.Scan(resultDest(&r)...); err != nil {
			return leaderboard.Match{}, fmt.Errorf("players of match %q: %w", id, err)
		}
		m.Players = append(m.Players, r)
	}
	if err := rows.Err(); err != nil {
		return leaderboard.Match{}, fmt.Errorf("players of match %q: %w", id, err)
	}
	return m, nil
}

// PlayerMatches returns a page of a player's history, latest first. An
// unknown player is ErrNotFound; a player with no matches, an empty page.
func (s *Store) PlayerMatches(ctx context.Context, playerID string, limit int, before *leaderboard.MatchCursor) ([]leaderboard.PlayerMatch, error) {
	if limit < 1 || limit > leaderboard.MaxPageSize {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "limit must be 1 to %d", leaderboard.MaxPageSize)
	}
	if _, err := s.GetPlayer(ctx, playerID); err != nil {
		return nil, err
	}
	q := `SELECT m.id, m.mode, m.end_reason, m.started_at, m.ended_at, ` + resultCols + `
		FROM match_players mp JOIN matches m ON m.id = mp.match_id WHERE mp.player_id = $1`
	args := []any{playerID}
	if before != nil {
		q += ` AND (mp.ended_at < $2 OR (mp.ended_at = $2 AND mp.match_id < $3))`
		args = append(args, before.EndedAt, before.MatchID)
	}
	q += fmt.Sprintf(` ORDER BY mp.ended_at DESC, mp.match_id DESC LIMIT $%d`, len(args)+1)
	rows, err := s.db.Query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("matches of %q: %w", playerID, err)
	}
	defer rows.Close()
	out := make([]leaderboard.PlayerMatch, 0, limit)
	for rows.Next() {
		var pm leaderboard.PlayerMatch
		var started, ended int64
		dest := append([]any{&pm.MatchID, &pm.Mode, &pm.EndReason, &started, &ended}, resultDest(&pm.Result)...)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("matches of %q: %w", playerID, err)
		}
		pm.Standing = pm.Result.Standing
		if started != 0 {
			pm.StartedAt = fromMicros(started)
		}
		pm.EndedAt = fromMicros(ended)
		out = append(out, pm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("matches of %q: %w", playerID, err)
	}
	return out, nil
}
