// Package outbox is the gameserver's durable outbox for match outcomes: an
// SQLite file where a room's outcome is committed before the end of the match
// is acknowledged, and from which a Publisher sends outcomes to the queue.
// An outcome leaves the file only after the queue accepted it, so outcomes
// survive the queue being down and the gameserver restarting.
package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

const schema = `
create table if not exists outbox (
  seq integer primary key,
  match_id text not null unique,
  body blob not null,      -- the outcome as protojson, as it is sent
  added_ms integer not null -- when Add committed it, Unix milliseconds
) strict;
`

// Outbox is the outbox file.
type Outbox struct {
	db     *sql.DB
	path   string
	notify chan struct{} // a token when Add commits; the Publisher waits on it

	insStmt, delStmt *sql.Stmt // prepared once, used by every group commit

	slot    chan struct{} // held by the writer committing a group
	mu      sync.Mutex    // guards waiting
	waiting []*write      // writes queued for the next group commit
}

// entry is one outcome waiting to be sent.
type entry struct {
	seq     int64
	matchID string
	body    []byte
	addedMs int64
}

// Open opens (creating when missing) the outbox file at path.
func Open(ctx context.Context, path string) (*Outbox, error) {
	if path == "" {
		return nil, errors.New("outbox: path is empty")
	}
	// synchronous(FULL): a committed Add survives a power loss, not only a
	// crash of the process.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	ob := &Outbox{db: db, path: path, notify: make(chan struct{}, 1), slot: make(chan struct{}, 1)}
	if ob.insStmt, err = db.PrepareContext(ctx,
		`insert into outbox (match_id, body, added_ms) values (?, ?, ?) on conflict (match_id) do nothing`); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	if ob.delStmt, err = db.PrepareContext(ctx, `delete from outbox where seq = ?`); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	return ob, nil
}

// Close closes the file.
func (ob *Outbox) Close() error {
	return errors.Join(ob.insStmt.Close(), ob.delStmt.Close(), ob.db.Close())
}

// Add commits the outcome to the outbox. When Add returns nil the outcome is
// on disk. Adding a match id that is already waiting does nothing.
// Concurrent Adds share one transaction and one fsync (see commit.go).
func (ob *Outbox) Add(ctx context.Context, o *skirmishv1.MatchOutcome) error {
	if o == nil || o.GetMatchId() == "" {
		return errors.New("outbox: add: outcome has no match id")
	}
	body, err := protojson.Marshal(o)
	if err != nil {
		return fmt.Errorf("outbox: add match %s: %w", o.GetMatchId(), err)
	}
	w := &write{add: &entry{matchID: o.GetMatchId(), body: body, addedMs: time.Now().UnixMilli()}}
	if err := ob.commit(ctx, w); err != nil {
		return fmt.Errorf("outbox: add match %s: %w", o.GetMatchId(), err)
	}
	select {
	case ob.notify <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}

// Pending is how many outcomes wait to be sent.
func (ob *Outbox) Pending(ctx context.Context) (int, error) {
	n, _, err := ob.stats(ctx)
	return n, err
}

// stats is the number of waiting outcomes and when the oldest was added
// (zero when none wait).
func (ob *Outbox) stats(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest sql.NullInt64
	if err := ob.db.QueryRowContext(ctx, `select count(*), min(added_ms) from outbox`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: count %s: %w", ob.path, err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, time.UnixMilli(oldest.Int64), nil
}

// next returns up to n of the oldest waiting outcomes, leaving out those
// whose seq is in skip (batches in flight).
func (ob *Outbox) next(ctx context.Context, n int, skip map[int64]bool) ([]entry, error) {
	rows, err := ob.db.QueryContext(ctx, `select seq, match_id, body from outbox order by seq limit ?`, n+len(skip))
	if err != nil {
		return nil, fmt.Errorf("outbox: read %s: %w", ob.path, err)
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.seq, &e.matchID, &e.body); err != nil {
			return nil, fmt.Errorf("outbox: read %s: %w", ob.path, err)
		}
		if !skip[e.seq] && len(out) < n {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: read %s: %w", ob.path, err)
	}
	return out, nil
}

// remove deletes sent outcomes, in a group commit with other writes.
func (ob *Outbox) remove(ctx context.Context, entries []entry) error {
	w := &write{del: make([]int64, len(entries))}
	for i, e := range entries {
		w.del[i] = e.seq
	}
	if err := ob.commit(ctx, w); err != nil {
		return fmt.Errorf("outbox: remove %d sent outcomes: %w", len(entries), err)
	}
	return nil
}
