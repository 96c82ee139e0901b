// Package sqlstore implements leaderboard.Store once, in SQL that SQLite
// and PostgreSQL both run, over a small DB seam that leaderboard/sqlite
// (database/sql with modernc.org/sqlite) and leaderboard/postgres (pgxpool)
// adapt their drivers to. It also holds the one set of migrations.
package sqlstore

import (
	"context"
	"errors"
)

// ErrNoRows is what Row.Scan returns when the query matched nothing;
// adapters translate their driver's own value to it.
var ErrNoRows = errors.New("no rows")

// Queryer runs statements. Placeholders are $1, $2, ... in both dialects.
type Queryer interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Row is the result of QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// Rows is the result of Query.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// DB is a database with transactions.
type DB interface {
	Queryer
	// InTx runs fn in a read-write transaction and commits when fn returns
	// nil, else rolls back.
	InTx(ctx context.Context, fn func(tx Queryer) error) error
	Ping(ctx context.Context) error
}
