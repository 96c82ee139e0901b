package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/skirmishgg/skirmish/internal/displayname"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// ApplyOutcome records a match in one transaction, once per match id. A
// match always goes into history with every player's stats; it changes the
// stat sums, the ratings in the pool of its mode and the board entries only
// of the players for whom it counts (leaderboard.Match.Judge:
// void matches change nothing, leavers lose, nobody else is punished).
//
// Concurrency: the match row is inserted first (after reading its mode's
// rating pool), so a second transaction with the same id waits on the first
// and then inserts nothing. Players are locked (by an upsert) in id order,
// so two matches with common players cannot deadlock, and each reads the
// other's committed rating in the pool after taking the lock.
//
// Round trips: each step is one statement for all the players of the match
// (multi-row VALUES), so an outcome costs about a dozen statements whatever
// its size (one more the first time a mode is seen: its rating pool); the adapters reuse prepared statements (database/sql statements on
// SQLite, pgx's statement cache on PostgreSQL).
func (s *Store) ApplyOutcome(ctx context.Context, m leaderboard.Match) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	m.Players = slices.Clone(m.Players)
	sanitizeNames(&m)
	slices.SortFunc(m.Players, func(a, b leaderboard.Result) int { return cmp.Compare(a.PlayerID, b.PlayerID) })
	now := s.now()
	if m.EndedAt.IsZero() {
		m.EndedAt = now
	}
	ended := m.EndedAt.UnixMicro()
	applied := false
	err := s.db.InTx(ctx, func(tx Queryer) error {
		var err error
		if m.Pool, err = s.poolOf(ctx, tx, m.Mode); err != nil {
			return err
		}
		insert := func() (int64, error) {
			return tx.Exec(ctx, `INSERT INTO matches (id, room_id, mode, region, gameserver_id,
				started_at, ended_at, end_reason, rating_pool, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, `+s.nowSQL+`) ON CONFLICT (id) DO NOTHING`,
				m.ID, m.RoomID, m.Mode, m.Region, m.GameserverID,
				toMicros(m.StartedAt), ended, m.EndReason, m.Pool)
		}
		n, err := insert()
		if err != nil {
			return fmt.Errorf("insert match: %w", err)
		}
		if n == 0 {
			// Already recorded: change nothing, unless the record is the
			// matchmaker's server_lost stand-in and this is the
			// gameserver's own outcome, published from its outbox after
			// the matchmaker presumed it lost.
			replaced, err := dropServerLost(ctx, tx, m)
			if err != nil || !replaced {
				return err
			}
			if n, err = insert(); err != nil || n == 0 {
				return fmt.Errorf("insert match after its server_lost record: %w", err)
			}
		}
		applied = true
		if err := insertTeams(ctx, tx, m); err != nil {
			return err
		}
		before, err := lockPlayers(ctx, tx, m, now.UnixMicro())
		if err != nil {
			return err
		}
		after := leaderboard.RateMatch(m, before)
		for i, st := range m.Judge() {
			p := &m.Players[i]
			p.Standing = st
			p.RatingBefore = before[p.PlayerID].Mu
			p.RatingAfter = after[p.PlayerID].Mu
		}
		if err := insertResults(ctx, tx, m); err != nil {
			return err
		}
		// Only the players for whom the match counts change stats,
		// ratings and boards (leaderboard.Match.Judge).
		counted := m
		counted.Players = slices.DeleteFunc(slices.Clone(m.Players), func(p leaderboard.Result) bool {
			return p.Standing == leaderboard.Void
		})
		if len(counted.Players) == 0 {
			return nil
		}
		if err := updateStats(ctx, tx, counted, after); err != nil {
			return err
		}
		if err := addStats(ctx, tx, counted); err != nil {
			return err
		}
		boards, err := listBoards(ctx, tx)
		if err != nil {
			return err
		}
		return scoreEntries(ctx, tx, counted, boards, ended)
	})
	if err != nil {
		return false, fmt.Errorf("apply match %q: %w", m.ID, err)
	}
	return applied, nil
}

// dropServerLost deletes the recorded match m.ID when it is a server_lost
// record and m is not: such a record changed nothing but the history
// (docs/match-rules.md), so the real outcome takes its place. It reports
// whether it deleted one.
func dropServerLost(ctx context.Context, tx Queryer, m leaderboard.Match) (bool, error) {
	if m.EndReason == leaderboard.EndServerLost {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM match_players WHERE match_id = $1
		AND EXISTS (SELECT 1 FROM matches WHERE id = $1 AND end_reason = $2)`, m.ID, leaderboard.EndServerLost); err != nil {
		return false, fmt.Errorf("replace server_lost record: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM match_teams WHERE match_id = $1
		AND EXISTS (SELECT 1 FROM matches WHERE id = $1 AND end_reason = $2)`, m.ID, leaderboard.EndServerLost); err != nil {
		return false, fmt.Errorf("replace server_lost record: %w", err)
	}
	n, err := tx.Exec(ctx, `DELETE FROM matches WHERE id = $1 AND end_reason = $2`, m.ID, leaderboard.EndServerLost)
	if err != nil {
		return false, fmt.Errorf("replace server_lost record: %w", err)
	}
	return n > 0, nil
}

// FallbackName names a player whose name in an outcome has nothing left
// that displayname.Name accepts.
const FallbackName = "player"

// sanitizeNames puts every player name of an outcome in the form
// displayname.Name accepts, removing what it refuses (displayname.Sanitize)
// or, when nothing is left, using FallbackName: a name from the queue that
// breaks the rule must not fail its outcome forever. Names from sign-in
// tokens are already in that form and stay as they are.
func sanitizeNames(m *leaderboard.Match) {
	for i := range m.Players {
		m.Players[i].Name = displayname.Sanitize(m.Players[i].Name, FallbackName)
	}
}

// values returns "($1, ..., $cols), ..." for rows rows of cols
// placeholders each, every placeholder wrapped by the cast of its column
// when casts is not nil (VALUES in FROM has no target columns to type
// PostgreSQL's parameters).
func values(rows, cols int, casts []string) string {
	var b strings.Builder
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if casts != nil {
				b.WriteString("CAST($" + strconv.Itoa(n) + " AS " + casts[c] + ")")
			} else {
				b.WriteString("$" + strconv.Itoa(n))
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func insertTeams(ctx context.Context, tx Queryer, m leaderboard.Match) error {
	if len(m.Teams) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(m.Teams))
	for _, t := range m.Teams {
		args = append(args, m.ID, t.Team, t.Score, t.Placement)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO match_teams (match_id, team, score, placement)
		VALUES `+values(len(m.Teams), 4, nil)+` ON CONFLICT (match_id, team) DO NOTHING`, args...); err != nil {
		return fmt.Errorf("insert teams: %w", err)
	}
	return nil
}

// lockPlayers creates the players that are new and locks every player of
// the match, in id order, and returns their ratings in the match's pool
// (players not rated in it yet are left out: RateMatch rates them as new).
// The no-op update locks an existing row.
func lockPlayers(ctx context.Context, tx Queryer, m leaderboard.Match, now int64) (map[string]leaderboard.Rating, error) {
	args := make([]any, 0, 3*len(m.Players))
	for _, p := range m.Players {
		args = append(args, p.PlayerID, p.Name, now)
	}
	n, err := tx.Exec(ctx, `INSERT INTO players (id, name, created_at)
		VALUES `+values(len(m.Players), 3, nil)+`
		ON CONFLICT (id) DO UPDATE SET name = players.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("lock players: %w", err)
	}
	if n != int64(len(m.Players)) {
		return nil, fmt.Errorf("lock players: %d of %d rows", n, len(m.Players))
	}
	args = append(args[:0], m.Pool)
	var in strings.Builder
	for i, p := range m.Players {
		if i > 0 {
			in.WriteByte(',')
		}
		args = append(args, p.PlayerID)
		in.WriteString("$" + strconv.Itoa(len(args)))
	}
	rows, err := tx.Query(ctx, `SELECT player_id, rating, sigma FROM player_ratings
		WHERE pool = $1 AND player_id IN (`+in.String()+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("ratings of players: %w", err)
	}
	defer rows.Close()
	before := make(map[string]leaderboard.Rating, len(m.Players))
	for rows.Next() {
		var id string
		var r leaderboard.Rating
		if err := rows.Scan(&id, &r.Mu, &r.Sigma); err != nil {
			return nil, fmt.Errorf("ratings of players: %w", err)
		}
		before[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ratings of players: %w", err)
	}
	for _, p := range m.Players {
		if _, ok := before[p.PlayerID]; !ok {
			before[p.PlayerID] = leaderboard.Rating{Mu: leaderboard.SkirmishParams.Mu, Sigma: leaderboard.SkirmishParams.Sigma}
		}
	}
	return before, nil
}

// insertResults stores every player's result row, stats included.
func insertResults(ctx context.Context, tx Queryer, m leaderboard.Match) error {
	args := make([]any, 0, 11*len(m.Players))
	for _, p := range m.Players {
		stats, err := encodeStats(p.Stats)
		if err != nil {
			return fmt.Errorf("stats of %q: %w", p.PlayerID, err)
		}
		args = append(args, m.ID, p.PlayerID, p.Name, p.Team, p.Placement, stats, p.Left, p.Standing.String(),
			p.RatingBefore, p.RatingAfter, m.EndedAt.UnixMicro())
	}
	if _, err := tx.Exec(ctx, `INSERT INTO match_players (match_id, player_id, name, team, placement,
			stats, left_early, standing, rating_before, rating_after, ended_at)
		VALUES `+values(len(m.Players), 11, nil), args...); err != nil {
		return fmt.Errorf("insert results: %w", err)
	}
	return nil
}

// encodeStats is the stats column of a result: a JSON object of numbers by
// name (keys sorted), or "" for none.
func encodeStats(stats map[string]float64) (string, error) {
	if len(stats) == 0 {
		return "", nil
	}
	b, err := json.Marshal(stats)
	return string(b), err
}

// countCasts are the types of the columns of updateStats' VALUES: id,
// wins, losses. SQLite and PostgreSQL both name them column1 to column3.
var countCasts = []string{"TEXT", "BIGINT", "BIGINT"}

// updateStats counts the match in every player's record and sets their
// rating in the match's pool: an UPDATE ... FROM (VALUES ...), which
// SQLite (3.33 on) and PostgreSQL both run, and an upsert of the ratings.
func updateStats(ctx context.Context, tx Queryer, m leaderboard.Match, after map[string]leaderboard.Rating) error {
	args := make([]any, 0, len(countCasts)*len(m.Players))
	for _, p := range m.Players {
		var win, loss int64
		switch p.Standing {
		case leaderboard.Won:
			win = 1
		case leaderboard.Lost:
			loss = 1
		}
		args = append(args, p.PlayerID, win, loss)
	}
	n, err := tx.Exec(ctx, `UPDATE players SET matches = players.matches + 1,
			wins = players.wins + v.column2, losses = players.losses + v.column3
		FROM (VALUES `+values(len(m.Players), len(countCasts), countCasts)+`) AS v
		WHERE players.id = v.column1`, args...)
	if err != nil {
		return fmt.Errorf("update stats: %w", err)
	}
	if n != int64(len(m.Players)) {
		return fmt.Errorf("update stats: %d of %d players updated", n, len(m.Players))
	}
	args = make([]any, 0, 6*len(m.Players))
	for _, p := range m.Players {
		args = append(args, m.Pool, p.PlayerID, p.RatingAfter, after[p.PlayerID].Sigma, 1, m.EndedAt.UnixMicro())
	}
	if _, err := tx.Exec(ctx, `INSERT INTO player_ratings (pool, player_id, rating, sigma, matches, updated_at)
		VALUES `+values(len(m.Players), 6, nil)+`
		ON CONFLICT (pool, player_id) DO UPDATE SET rating = excluded.rating, sigma = excluded.sigma,
			matches = player_ratings.matches + 1, updated_at = excluded.updated_at`, args...); err != nil {
		return fmt.Errorf("update ratings: %w", err)
	}
	return nil
}

// addStats adds every player's stats of the match to their lifetime sums.
func addStats(ctx context.Context, tx Queryer, m leaderboard.Match) error {
	var args []any
	for _, p := range m.Players {
		for _, name := range slices.Sorted(maps.Keys(p.Stats)) {
			args = append(args, p.PlayerID, name, p.Stats[name])
		}
	}
	if len(args) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO player_stats (player_id, stat, value)
		VALUES `+values(len(args)/3, 3, nil)+`
		ON CONFLICT (player_id, stat) DO UPDATE SET value = player_stats.value + excluded.value`, args...); err != nil {
		return fmt.Errorf("add stats: %w", err)
	}
	return nil
}

// scoreEntries applies the match to every board's entries of its players,
// one statement per kind of update: boards whose operator (and order, for
// Best) are the same share an INSERT ... ON CONFLICT. Rows go in board then
// player order.
func scoreEntries(ctx context.Context, tx Queryer, m leaderboard.Match, boards []leaderboard.Board, at int64) error {
	var clauses []string
	byClause := map[string][]any{}
	for _, b := range boards {
		clause, err := upsertClause(b)
		if err != nil {
			return fmt.Errorf("board %q: %w", b.ID, err)
		}
		if _, ok := byClause[clause]; !ok {
			clauses = append(clauses, clause)
			byClause[clause] = nil
		}
		for _, p := range m.Players {
			if v, ok := b.Value(m, p); ok {
				byClause[clause] = append(byClause[clause], b.ID, p.PlayerID, v, at)
			}
		}
	}
	for _, clause := range clauses {
		args := byClause[clause]
		if len(args) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO board_entries (board_id, player_id, score, scored_at)
			VALUES `+values(len(args)/4, 4, nil)+` ON CONFLICT (board_id, player_id) `+clause, args...); err != nil {
			return fmt.Errorf("score board entries: %w", err)
		}
	}
	return nil
}

// upsertClause is how a board's aggregate applies a value to an entry. A
// score that does not change keeps its time, so it keeps its place among
// ties, and its version; every change adds one to the version.
func upsertClause(b leaderboard.Board) (string, error) {
	switch b.Aggregate {
	case leaderboard.Sum:
		return `DO UPDATE SET score = board_entries.score + excluded.score, version = board_entries.version + 1,
			scored_at = CASE WHEN excluded.scored_at > board_entries.scored_at THEN excluded.scored_at ELSE board_entries.scored_at END
			WHERE excluded.score <> 0`, nil
	case leaderboard.Last:
		return `DO UPDATE SET score = excluded.score, scored_at = excluded.scored_at, version = board_entries.version + 1
			WHERE excluded.score <> board_entries.score`, nil
	case leaderboard.Max, leaderboard.Min:
		op := ">"
		if b.Aggregate == leaderboard.Min {
			op = "<"
		}
		return `DO UPDATE SET score = excluded.score, scored_at = excluded.scored_at, version = board_entries.version + 1
			WHERE excluded.score ` + op + ` board_entries.score`, nil
	default:
		return "", fmt.Errorf("unknown aggregate %q", b.Aggregate)
	}
}
