package sqlite

import (
	"context"
	"fmt"
	"iter"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// BulkLoad fills a board fast for load tests: it inserts the players
// (skipping ones that exist) and their entries with prepared statements,
// 100,000 rows to a transaction so that the WAL stays small. Rank
// indexes already running do not see the entries until they reload.
func (s *Store) BulkLoad(ctx context.Context, boardID string, entries iter.Seq[leaderboard.Entry]) (int, error) {
	n := 0
	var batch []leaderboard.Entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		p, err := tx.PrepareContext(ctx, `INSERT INTO players (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		e, err := tx.PrepareContext(ctx, `INSERT INTO board_entries (board_id, player_id, score, scored_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (board_id, player_id) DO UPDATE SET score = excluded.score, scored_at = excluded.scored_at, version = board_entries.version + 1`)
		if err != nil {
			return err
		}
		for _, x := range batch {
			at := x.Updated.UnixMicro()
			if _, err := p.ExecContext(ctx, x.PlayerID, x.Name, at); err != nil {
				return err
			}
			if _, err := e.ExecContext(ctx, boardID, x.PlayerID, x.Score, at); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	for x := range entries {
		if batch = append(batch, x); len(batch) == 100_000 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("bulk load board %q: %w", boardID, err)
			}
		}
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("bulk load board %q: %w", boardID, err)
	}
	return n, nil
}
