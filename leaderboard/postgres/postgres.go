// Package postgres is the production leaderboard store: PostgreSQL through
// pgx and its connection pool.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/internal/sqlstore"
)

// Store is the PostgreSQL leaderboard store.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
}

var _ leaderboard.Store = (*Store)(nil)

const noParallel = "max_parallel_workers_per_gather"

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string), applies the migrations under an advisory lock and
// makes sure the default boards exist.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("leaderboard database URL: %w", err)
	}
	// The store's queries touch a few rows each by primary key. Without
	// fresh statistics (a table just filled by COPY, before autovacuum's
	// ANALYZE) the planner overestimates them and starts a parallel
	// worker, which costs ~20 ms a query here: score updates at 10M rows
	// fell to 13-40 a second. A DSN that sets the parameter wins.
	if _, ok := cfg.ConnConfig.RuntimeParams[noParallel]; !ok {
		cfg.ConnConfig.RuntimeParams[noParallel] = "0"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	err = sqlstore.Migrate(ctx, sqldb, sqlstore.Postgres)
	sqldb.Close()
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool}
	s.Store, err = sqlstore.New(ctx, db{pool}, sqlstore.Postgres, leaderboard.DefaultBoards())
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// db adapts pgxpool to sqlstore.DB.
type db struct{ pool *pgxpool.Pool }

func (d db) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.pool.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (d db) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	r, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (d db) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{d.pool.QueryRow(ctx, q, args...)}
}

func (d db) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }

func (d db) InTx(ctx context.Context, fn func(sqlstore.Queryer) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(t pgx.Tx) error { return fn(tx{t}) })
}

type tx struct{ t pgx.Tx }

func (t tx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.t.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t tx) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	r, err := t.t.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (t tx) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{t.t.QueryRow(ctx, q, args...)}
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	} else {
		return err
	}
}
