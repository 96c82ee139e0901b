// Package sqlite is the embedded leaderboard store: SQLite through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode, with one writer
// connection and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/internal/sqlstore"
)

// Store is the SQLite leaderboard store.
type Store struct {
	*sqlstore.Store
	write, read *sql.DB
	stmts       *stmtCache
}

var _ leaderboard.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path, applies
// the migrations and makes sure the default boards exist. Any number of
// processes (a leaderboard, stats workers) may open one file at the same
// moment, new or not: they take turns under the lock of
// sqlstore.LockSQLite, on the file path+".migrate.lock", to turn the file
// to WAL and to migrate it.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("leaderboard database directory: %w", err)
	}
	// busy_timeout covers the moments when another process holds the
	// write lock; _txlock=immediate takes the write lock at BEGIN, so a
	// transaction never fails half way for want of it.
	dsn := func(extra string) string {
		return "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
			"&_pragma=synchronous(NORMAL)" + extra
	}
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1) // SQLite has one writer; queue for it here
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s := &Store{write: write, read: read, stmts: newStmtCache(write)}
	if err := s.toWAL(ctx, path); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := sqlstore.Migrate(ctx, write, sqlstore.SQLite); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Store, err = sqlstore.New(ctx, db{read: read, write: write, stmts: s.stmts}, sqlstore.SQLite, leaderboard.DefaultBoards())
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// toWAL opens the writer's connection, which turns a new file to WAL (the
// journal_mode pragma of the DSN), under the migration lock. Turning a file
// to WAL takes a lock that SQLite does not wait for, busy timeout or not:
// two processes opening a new file at once could fail with SQLITE_BUSY, so
// they take turns. Once the file is in WAL, it stays so, and the pragma of
// later connections, readers included, has nothing to wait for.
func (s *Store) toWAL(ctx context.Context, path string) error {
	unlock, err := sqlstore.LockSQLite(ctx, path)
	if err != nil {
		return err
	}
	return errors.Join(s.write.PingContext(ctx), unlock())
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.stmts.close(), s.read.Close(), s.write.Close())
}

// db adapts database/sql to sqlstore.DB: reads go to the reader pool,
// writes and transactions to the single writer.
type db struct {
	read, write *sql.DB
	stmts       *stmtCache // prepared statements of the writer
}

func (d db) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return execOn(ctx, d.write, q, args)
}

func (d db) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return queryOn(ctx, d.read, q, args)
}

func (d db) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{d.read.QueryRowContext(ctx, q, args...)}
}

func (d db) Ping(ctx context.Context) error { return d.read.PingContext(ctx) }

func (d db) InTx(ctx context.Context, fn func(sqlstore.Queryer) error) error {
	t, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx{t, d.stmts}); err != nil {
		t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	d.stmts.prepareMissed(ctx)
	return nil
}

type tx struct {
	t     *sql.Tx
	stmts *stmtCache
}

func (t tx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if s := t.stmts.stmt(ctx, t.t, q); s != nil {
		res, err := s.ExecContext(ctx, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	return execOn(ctx, t.t, q, args)
}

func (t tx) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	if s := t.stmts.stmt(ctx, t.t, q); s != nil {
		r, err := s.QueryContext(ctx, args...)
		if err != nil {
			return nil, err
		}
		return rows{r}, nil
	}
	return queryOn(ctx, t.t, q, args)
}

func (t tx) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	if s := t.stmts.stmt(ctx, t.t, q); s != nil {
		return row{s.QueryRowContext(ctx, args...)}
	}
	return row{t.t.QueryRowContext(ctx, q, args...)}
}

type conn interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func execOn(ctx context.Context, c conn, q string, args []any) (int64, error) {
	res, err := c.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func queryOn(ctx context.Context, c conn, q string, args []any) (sqlstore.Rows, error) {
	r, err := c.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	} else {
		return err
	}
}

type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }
