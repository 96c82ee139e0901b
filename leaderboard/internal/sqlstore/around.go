package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// AroundPlayer returns up to n entries on each side of a player. It counts
// the entries ahead in SQL, which scans them; the rank index
// (leaderboard/rankindex) answers the same in O(log n).
func (s *Store) AroundPlayer(ctx context.Context, boardID, playerID string, n int) ([]leaderboard.Entry, error) {
	if n < 0 || n > leaderboard.MaxAround {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "around must be 0 to %d", leaderboard.MaxAround)
	}
	me, err := s.PlayerRank(ctx, boardID, playerID)
	if err != nil {
		return nil, err
	}
	b, err := s.GetBoard(ctx, boardID)
	if err != nil {
		return nil, err
	}
	r := rankingOf(b)
	const cols = `SELECT e.player_id, p.name, e.score, e.scored_at FROM board_entries e
		JOIN players p ON p.id = e.player_id WHERE e.board_id = $1 AND `
	args := []any{b.ID, me.Score, me.Updated.UnixMicro(), me.PlayerID, n}
	rows, err := s.db.Query(ctx, cols+r.better+` ORDER BY `+reversed(r.orderBy)+` LIMIT $5`, args...)
	if err != nil {
		return nil, fmt.Errorf("entries ahead of %q on %q: %w", playerID, b.ID, err)
	}
	ahead, err := scanEntries(rows, n, false)
	if err != nil {
		return nil, err
	}
	slices.Reverse(ahead)
	rows, err = s.db.Query(ctx, cols+r.worse+` ORDER BY `+r.orderBy+` LIMIT $5`, args...)
	if err != nil {
		return nil, fmt.Errorf("entries behind %q on %q: %w", playerID, b.ID, err)
	}
	behind, err := scanEntries(rows, n, false)
	if err != nil {
		return nil, err
	}
	out := append(append(ahead, me), behind...)
	first := me.Rank - int64(len(ahead))
	for i := range out {
		out[i].Rank = first + int64(i)
	}
	return out, nil
}

// reversed flips every direction of an ORDER BY list.
func reversed(orderBy string) string {
	parts := strings.Split(orderBy, ", ")
	for i, p := range parts {
		switch {
		case strings.HasSuffix(p, " DESC"):
			parts[i] = strings.TrimSuffix(p, " DESC") + " ASC"
		case strings.HasSuffix(p, " ASC"):
			parts[i] = strings.TrimSuffix(p, " ASC") + " DESC"
		}
	}
	return strings.Join(parts, ", ")
}
