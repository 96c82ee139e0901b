// Package litequeue is the embedded queue.Queue that `skirmish dev` uses: an
// SQLite file (pure Go, modernc.org/sqlite) holding the goqite table
// (maragu.dev/goqite).
//
// goqite stores, sends, receives and deletes messages. This package adds what
// goqite lacks to give the semantics of an SQS standard queue:
//   - batches: Send, Receive and Delete handle up to queue.MaxBatch messages
//     in one transaction;
//   - long polling: Receive waits up to its wait argument, polling the file
//     and waking at once on a Send from the same process;
//   - receive counts and sent times on received messages;
//   - receipt handles that name one receive, so that ExtendVisibility only
//     acts for the latest receiver of a message;
//   - dead-lettering: a message received MaxReceives times and not deleted
//     moves to the queue "<name>-dlq" in the same file when its visibility
//     timeout runs out, with its receive count set back to 0, so the
//     dead-letter queue can be opened and read as an ordinary queue.
//
// All state lives in the file: several processes (a gameserver and a stats
// worker) may open the same file at once; SQLite's locking (WAL, a busy
// timeout and immediate transactions) keeps them consistent.
package litequeue

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"maragu.dev/goqite"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/skirmishgg/skirmish/internal/queue"
)

// Config configures a Queue. The zero value of each field means its default.
type Config struct {
	// Name of the queue in the file. Default queue.MatchOutcomes.
	Name string
	// VisibilityTimeout is how long a received message stays hidden.
	// Default 30s.
	VisibilityTimeout time.Duration
	// MaxReceives is how many times a message may be received before it
	// moves to the dead-letter queue DeadLetterName(Name). Default 5.
	MaxReceives int
	// PollInterval is how often a waiting Receive looks at the file for
	// messages sent by other processes. Default 100ms.
	PollInterval time.Duration
}

const (
	defaultVisibility   = 30 * time.Second
	defaultMaxReceives  = 5
	defaultPollInterval = 100 * time.Millisecond
	busyTimeout         = 10 * time.Second
	// timeFormat is goqite's timestamp layout: UTC, milliseconds.
	timeFormat = "2006-01-02T15:04:05.000Z07:00"
)

// DeadLetterName is the name of the dead-letter queue of the queue name.
func DeadLetterName(name string) string { return name + "-dlq" }

//go:embed schema.sql
var schema string

// Queue is a queue.Queue stored in an SQLite file.
type Queue struct {
	cfg  Config
	db   *sql.DB
	gq   *goqite.Queue
	dlq  string
	sent notifier
}

var _ queue.Queue = (*Queue)(nil)

// ErrInvalidHandle is returned for a receipt handle this package did not make.
var ErrInvalidHandle = errors.New("litequeue: invalid receipt handle")

// Open opens (creating when missing) the queue file at path.
func Open(ctx context.Context, path string, cfg Config) (*Queue, error) {
	if cfg.Name == "" {
		cfg.Name = queue.MatchOutcomes
	}
	if cfg.VisibilityTimeout == 0 {
		cfg.VisibilityTimeout = defaultVisibility
	}
	if cfg.MaxReceives == 0 {
		cfg.MaxReceives = defaultMaxReceives
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = defaultPollInterval
	}
	switch {
	case path == "":
		return nil, errors.New("litequeue: path is empty")
	case cfg.VisibilityTimeout < time.Millisecond:
		return nil, fmt.Errorf("litequeue: visibility timeout %v: must be at least 1ms", cfg.VisibilityTimeout)
	case cfg.MaxReceives < 1:
		return nil, fmt.Errorf("litequeue: max receives %d: must be at least 1", cfg.MaxReceives)
	case cfg.PollInterval < 0:
		return nil, fmt.Errorf("litequeue: poll interval %v: must not be negative", cfg.PollInterval)
	}
	db, err := openDB(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("litequeue: %w", err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("litequeue: create schema in %s: %w", path, err)
	}
	return &Queue{
		cfg: cfg,
		db:  db,
		gq: goqite.New(goqite.NewOpts{
			DB:         db,
			Name:       cfg.Name,
			MaxReceive: cfg.MaxReceives,
			Timeout:    cfg.VisibilityTimeout,
		}),
		dlq: DeadLetterName(cfg.Name),
	}, nil
}

// openDB opens the SQLite file at path the way this package does: WAL,
// a busy timeout, and transactions that take the write lock when they begin,
// so that several processes can share the file.
//
// Turning a new file to WAL needs a lock that the busy timeout does not wait
// for, so two processes opening a new file at once retry here.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate",
		path, busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Every operation is a write transaction and SQLite has one writer:
	// queue this process's operations for one connection here rather than
	// have them wait on the file lock, which sleeps and polls.
	db.SetMaxOpenConns(1)
	wait := 5 * time.Millisecond
	for deadline := time.Now().Add(busyTimeout); ; wait = min(2*wait, 200*time.Millisecond) {
		err = db.PingContext(ctx)
		if err == nil {
			return db, nil
		}
		var se *sqlite.Error
		if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	_ = db.Close()
	return nil, fmt.Errorf("open %s: %w", path, err)
}

// Close closes the file.
func (q *Queue) Close() error { return q.db.Close() }

// Send enqueues msgs in one transaction.
func (q *Queue) Send(ctx context.Context, msgs []queue.Outgoing) error {
	if len(msgs) > queue.MaxBatch {
		return fmt.Errorf("litequeue: send %d messages: at most %d at a time", len(msgs), queue.MaxBatch)
	}
	if len(msgs) == 0 {
		return nil
	}
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range msgs {
			body := m.Body
			if body == nil {
				body = []byte{}
			}
			if err := q.gq.SendTx(ctx, tx, goqite.Message{Body: body}); err != nil {
				return fmt.Errorf("message %q: %w", m.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("litequeue: send to %s: %w", q.cfg.Name, err)
	}
	q.sent.broadcast()
	return nil
}

// Receive returns up to max messages, waiting up to wait for the first.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	if max < 1 || max > queue.MaxBatch {
		return nil, fmt.Errorf("litequeue: receive %d messages: want 1 to %d", max, queue.MaxBatch)
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var tick <-chan time.Time
	if q.cfg.PollInterval > 0 {
		ticker := time.NewTicker(q.cfg.PollInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	for {
		sent := q.sent.wait() // taken before looking, so no Send is missed
		msgs, err := q.receiveOnce(ctx, max)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, nil
		case <-tick:
		case <-sent:
		}
	}
}

func (q *Queue) receiveOnce(ctx context.Context, max int) ([]queue.Message, error) {
	var msgs []queue.Message
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		msgs = msgs[:0]
		if err := q.deadLetter(ctx, tx); err != nil {
			return err
		}
		for len(msgs) < max {
			m, err := q.gq.ReceiveTx(ctx, tx)
			if err != nil {
				return err
			}
			if m == nil {
				break
			}
			var received int
			var created string
			if err := tx.QueryRowContext(ctx, `select received, created from goqite where id = ?`, m.ID).
				Scan(&received, &created); err != nil {
				return fmt.Errorf("read message %s: %w", m.ID, err)
			}
			sentAt, err := time.Parse(time.RFC3339Nano, created)
			if err != nil {
				return fmt.Errorf("message %s created %q: %w", m.ID, created, err)
			}
			msgs = append(msgs, queue.Message{
				ID:            string(m.ID),
				Body:          m.Body,
				ReceiptHandle: makeHandle(string(m.ID), received),
				ReceiveCount:  received,
				SentAt:        sentAt,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("litequeue: receive from %s: %w", q.cfg.Name, err)
	}
	return msgs, nil
}

// deadLetter moves the messages received MaxReceives times whose
// visibility timeout has ended to the dead-letter queue: goqite leaves them
// where they are.
func (q *Queue) deadLetter(ctx context.Context, tx *sql.Tx) error {
	now := time.Now().UTC().Format(timeFormat)
	query := `update goqite set queue = ?, received = 0, timeout = ?
		 where queue = ? and received >= ? and timeout <= ?`
	if q.cfg.MaxReceives >= 2 {
		query += ` and received >= 2` // lets SQLite use goqite_redelivered_idx
	}
	if _, err := tx.ExecContext(ctx, query, q.dlq, now, q.cfg.Name, q.cfg.MaxReceives, now); err != nil {
		return fmt.Errorf("dead-letter: %w", err)
	}
	return nil
}

// Delete removes the messages. A handle from an earlier receive of a message
// deletes it too: the caller has finished with it.
func (q *Queue) Delete(ctx context.Context, receiptHandles []string) error {
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		for _, h := range receiptHandles {
			id, _, err := parseHandle(h)
			if err != nil {
				return err
			}
			if err := q.gq.DeleteTx(ctx, tx, goqite.ID(id)); err != nil {
				return fmt.Errorf("message %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("litequeue: delete from %s: %w", q.cfg.Name, err)
	}
	return nil
}

// ExtendVisibility hides the messages for d from now. A handle from an
// earlier receive does nothing: the message has since been received again.
func (q *Queue) ExtendVisibility(ctx context.Context, receiptHandles []string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("litequeue: extend visibility by %v: must not be negative", d)
	}
	err := q.inTx(ctx, func(tx *sql.Tx) error {
		timeout := time.Now().UTC().Add(d).Format(timeFormat)
		for _, h := range receiptHandles {
			id, received, err := parseHandle(h)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx,
				`update goqite set timeout = ? where queue = ? and id = ? and received = ?`,
				timeout, q.cfg.Name, id, received); err != nil {
				return fmt.Errorf("message %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("litequeue: extend visibility in %s: %w", q.cfg.Name, err)
	}
	return nil
}

func (q *Queue) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// notifier wakes every waiting Receive of this process when a Send commits.
// Other processes' sends are seen by polling.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
