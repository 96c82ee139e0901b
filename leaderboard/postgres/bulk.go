package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// BulkLoad fills a board fast for load tests with COPY: the players, then
// their entries, 200,000 rows to a transaction. The players must not exist
// yet. Rank indexes already running do not see the entries until they
// reload.
func (s *Store) BulkLoad(ctx context.Context, boardID string, entries iter.Seq[leaderboard.Entry]) (int, error) {
	n := 0
	var batch []leaderboard.Entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"players"}, []string{"id", "name", "created_at"},
			pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
				x := batch[i]
				return []any{x.PlayerID, x.Name, x.Updated.UnixMicro()}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"board_entries"}, []string{"board_id", "player_id", "score", "scored_at"},
			pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
				x := batch[i]
				return []any{boardID, x.PlayerID, x.Score, x.Updated.UnixMicro()}, nil
			})); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	for x := range entries {
		if batch = append(batch, x); len(batch) == 200_000 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("bulk load board %q: %w", boardID, err)
			}
		}
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("bulk load board %q: %w", boardID, err)
	}
	// Fresh statistics, so the planner does not scan millions of rows
	// before autovacuum gets to them.
	if _, err := s.pool.Exec(ctx, "ANALYZE players, board_entries"); err != nil {
		return n, fmt.Errorf("bulk load board %q: analyze: %w", boardID, err)
	}
	return n, nil
}
