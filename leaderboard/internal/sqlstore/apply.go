package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// ApplyOutcome records a match in one transaction, once per match id.
//
// Concurrency: the match row is inserted first, so a second transaction
// with the same id waits on the first and then inserts nothing. Players are
// locked (by an upsert) in id order, so two matches with common players
// cannot deadlock, and each reads the other's committed rating.
func (s *Store) ApplyOutcome(ctx context.Context, m leaderboard.Match) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	m.Players = slices.Clone(m.Players)
	slices.SortFunc(m.Players, func(a, b leaderboard.Result) int { return cmp.Compare(a.PlayerID, b.PlayerID) })
	now := s.now()
	if m.EndedAt.IsZero() {
		m.EndedAt = now
	}
	ended := m.EndedAt.UnixMicro()
	applied := false
	err := s.db.InTx(ctx, func(tx Queryer) error {
		n, err := tx.Exec(ctx, `INSERT INTO matches (id, room_id, mode, region, gameserver_id,
				started_at, ended_at, end_reason, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			m.ID, m.RoomID, m.Mode, m.Region, m.GameserverID,
			toMicros(m.StartedAt), ended, m.EndReason, now.UnixMicro())
		if err != nil {
			return fmt.Errorf("insert match: %w", err)
		}
		if n == 0 {
			return nil // already recorded: change nothing
		}
		applied = true
		for _, t := range m.Teams {
			if _, err := tx.Exec(ctx, `INSERT INTO match_teams (match_id, team, score, placement)
				VALUES ($1, $2, $3, $4) ON CONFLICT (match_id, team) DO NOTHING`,
				m.ID, t.Team, t.Score, t.Placement); err != nil {
				return fmt.Errorf("insert team %d: %w", t.Team, err)
			}
		}
		before := make(map[string]float64, len(m.Players))
		for _, p := range m.Players {
			var r float64
			// The no-op update locks an existing row and returns its rating.
			err := tx.QueryRow(ctx, `INSERT INTO players (id, name, created_at, rating) VALUES ($1, $2, $3, $4)
				ON CONFLICT (id) DO UPDATE SET name = players.name RETURNING rating`,
				p.PlayerID, playerName(p), now.UnixMicro(), leaderboard.DefaultRating).Scan(&r)
			if err != nil {
				return fmt.Errorf("lock player %q: %w", p.PlayerID, err)
			}
			before[p.PlayerID] = r
		}
		after := leaderboard.Rate(m, before)
		for i := range m.Players {
			m.Players[i].RatingBefore = before[m.Players[i].PlayerID]
			m.Players[i].RatingAfter = after[m.Players[i].PlayerID]
			if err := recordPlayer(ctx, tx, m, m.Players[i]); err != nil {
				return err
			}
		}
		boards, err := listBoards(ctx, tx)
		if err != nil {
			return err
		}
		for _, b := range boards {
			for _, p := range m.Players {
				if err := scoreEntry(ctx, tx, b, p.PlayerID, b.Value(m, p), ended); err != nil {
					return fmt.Errorf("board %q: %w", b.ID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("apply match %q: %w", m.ID, err)
	}
	return applied, nil
}

func playerName(p leaderboard.Result) string {
	if leaderboard.ValidateName(p.Name) != nil {
		return "player"
	}
	return p.Name
}

// recordPlayer stores one player's result row and adds it to their stats.
func recordPlayer(ctx context.Context, tx Queryer, m leaderboard.Match, p leaderboard.Result) error {
	_, err := tx.Exec(ctx, `INSERT INTO match_players (match_id, player_id, name, team, placement,
			eliminations, deaths, damage, shots_fired, shots_hit, left_early, standing,
			rating_before, rating_after, ended_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		m.ID, p.PlayerID, p.Name, p.Team, p.Placement,
		p.Eliminations, p.Deaths, p.Damage, p.ShotsFired, p.ShotsHit, p.Left, m.Standing(p).String(),
		p.RatingBefore, p.RatingAfter, m.EndedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("insert result of %q: %w", p.PlayerID, err)
	}
	var win, loss int64
	switch m.Standing(p) {
	case leaderboard.Won:
		win = 1
	case leaderboard.Lost:
		loss = 1
	}
	_, err = tx.Exec(ctx, `UPDATE players SET rating = $2, matches = matches + 1,
			wins = wins + $3, losses = losses + $4, eliminations = eliminations + $5,
			deaths = deaths + $6, damage = damage + $7, shots_fired = shots_fired + $8,
			shots_hit = shots_hit + $9
		WHERE id = $1`,
		p.PlayerID, p.RatingAfter, win, loss, p.Eliminations, p.Deaths, p.Damage, p.ShotsFired, p.ShotsHit)
	if err != nil {
		return fmt.Errorf("update stats of %q: %w", p.PlayerID, err)
	}
	return nil
}

// scoreEntry applies one value to one entry by the board's operator. A
// score that does not change keeps its time, so it keeps its place among
// ties.
func scoreEntry(ctx context.Context, tx Queryer, b leaderboard.Board, playerID string, v float64, at int64) error {
	var update string
	switch b.Operator {
	case leaderboard.Increment:
		update = `DO UPDATE SET score = board_entries.score + excluded.score,
			scored_at = CASE WHEN excluded.scored_at > board_entries.scored_at THEN excluded.scored_at ELSE board_entries.scored_at END
			WHERE excluded.score <> 0`
	case leaderboard.Set:
		update = `DO UPDATE SET score = excluded.score, scored_at = excluded.scored_at
			WHERE excluded.score <> board_entries.score`
	case leaderboard.Best:
		op := ">"
		if b.Order == leaderboard.Ascending {
			op = "<"
		}
		update = `DO UPDATE SET score = excluded.score, scored_at = excluded.scored_at
			WHERE excluded.score ` + op + ` board_entries.score`
	default:
		return fmt.Errorf("unknown operator %q", b.Operator)
	}
	_, err := tx.Exec(ctx, `INSERT INTO board_entries (board_id, player_id, score, scored_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (board_id, player_id) `+update,
		b.ID, playerID, v, at)
	return err
}
