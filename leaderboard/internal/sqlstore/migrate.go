package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's bookkeeping table, named for this part so that
// other parts may share the database.
const versionTable = "leaderboard_schema_version"

// Dialect is the SQL dialect a migration runs against.
type Dialect string

const (
	SQLite   Dialect = Dialect(goose.DialectSQLite3)
	Postgres Dialect = Dialect(goose.DialectPostgres)
)

// Migrate applies every pending migration, holding a lock across the whole
// run so that any number of processes that migrate one database at the
// same moment apply each migration once and all succeed:
//
//   - on PostgreSQL, a session advisory lock (goose's
//     lock.NewPostgresSessionLocker) on one connection of db;
//   - on SQLite, an exclusive OS lock on the file <database>.migrate.lock
//     beside the database file (see LockSQLite), found from db with
//     PRAGMA database_list. An in-memory or temporary database has no file
//     and only its own process can open it: Migrate takes no lock on it, so
//     handles that share one (cache=shared) must not migrate it at once.
//
// A Migrate waiting for the lock gives up when ctx is done, with an error
// that wraps ctx.Err() (on PostgreSQL also after goose's 5 minutes).
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	return MigrateTo(ctx, db, d, 0)
}

// MigrateTo applies the pending migrations up to and including version
// (0: all of them), as Migrate does. Tests use it to build a database of
// an older shape.
func MigrateTo(ctx context.Context, db *sql.DB, d Dialect, version int64) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true)}
	if d == Postgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(goose.Dialect(d), db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if d == SQLite {
		// goose has no locker for SQLite: the lock is held here, around
		// the whole run, the version table's creation included.
		unlock, err := lockSQLiteDB(ctx, db)
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		return errors.Join(up(ctx, p, version), unlock())
	}
	return up(ctx, p, version)
}

// up runs p's pending migrations up to and including version (0: all).
func up(ctx context.Context, p *goose.Provider, version int64) error {
	var err error
	if version > 0 {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
