package sqlstore

import (
	"context"
	"database/sql"
	"embed"
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

// Migrate applies every pending migration. On PostgreSQL it holds an
// advisory lock, so replicas that start together migrate once.
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
