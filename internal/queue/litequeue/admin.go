package litequeue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
)

var _ queue.Admin = (*Queue)(nil)

// Depth counts the messages of the queue and its dead-letter queue. A
// message received MaxReceives times whose visibility timeout has ended
// counts as dead: the next receive moves it there.
func (q *Queue) Depth(ctx context.Context) (queue.Depth, error) {
	var d queue.Depth
	now := time.Now().UTC().Format(timeFormat)
	err := q.db.QueryRowContext(ctx, `select
			coalesce(sum(queue = ?1 and timeout <= ?2 and received < ?4), 0),
			coalesce(sum(queue = ?1 and timeout > ?2), 0),
			coalesce(sum(queue = ?3 or (queue = ?1 and timeout <= ?2 and received >= ?4)), 0)
		from goqite where queue in (?1, ?3)`,
		q.cfg.Name, now, q.dlq, q.cfg.MaxReceives).Scan(&d.Visible, &d.InFlight, &d.Dead)
	if err != nil {
		return queue.Depth{}, fmt.Errorf("litequeue: depth of %s: %w", q.cfg.Name, err)
	}
	return d, nil
}

// DeadLetters returns up to max dead letters, oldest first, without
// receiving them.
func (q *Queue) DeadLetters(ctx context.Context, max int) ([]queue.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("litequeue: dead letters: max %d must be at least 1", max)
	}
	if err := q.inTx(ctx, func(tx *sql.Tx) error { return q.deadLetter(ctx, tx) }); err != nil {
		return nil, fmt.Errorf("litequeue: dead letters of %s: %w", q.cfg.Name, err)
	}
	rows, err := q.db.QueryContext(ctx,
		`select id, body, created from goqite where queue = ? order by created, id limit ?`, q.dlq, max)
	if err != nil {
		return nil, fmt.Errorf("litequeue: dead letters of %s: %w", q.cfg.Name, err)
	}
	defer rows.Close()
	var out []queue.Message
	for rows.Next() {
		var m queue.Message
		var created string
		if err := rows.Scan(&m.ID, &m.Body, &created); err != nil {
			return nil, fmt.Errorf("litequeue: dead letters of %s: %w", q.cfg.Name, err)
		}
		m.SentAt, _ = time.Parse(time.RFC3339Nano, created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("litequeue: dead letters of %s: %w", q.cfg.Name, err)
	}
	return out, nil
}

// Redrive moves up to max dead letters, oldest first, back to the queue.
func (q *Queue) Redrive(ctx context.Context, max int) (int, error) {
	if max < 1 {
		return 0, fmt.Errorf("litequeue: redrive: max %d must be at least 1", max)
	}
	var n int64
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		if err := q.deadLetter(ctx, tx); err != nil {
			return err
		}
		now := time.Now().UTC().Format(timeFormat)
		res, err := tx.ExecContext(ctx, `update goqite set queue = ?, received = 0, timeout = ?
			where id in (select id from goqite where queue = ? order by created, id limit ?)`,
			q.cfg.Name, now, q.dlq, max)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("litequeue: redrive %s: %w", q.cfg.Name, err)
	}
	if n > 0 {
		q.sent.broadcast()
	}
	return int(n), nil
}
