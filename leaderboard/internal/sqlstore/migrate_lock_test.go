package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard/internal/sqlstore"
)

// TestMigrateConcurrently: several handles that migrate one new SQLite
// file at the same moment, as the leaderboard and the stats worker
// started together do, all succeed and apply each migration once.
func TestMigrateConcurrently(t *testing.T) {
	const rounds, handles = 10, 4
	ctx := t.Context()
	want := versions(t, openSQLite(t, filepath.Join(t.TempDir(), "alone.db")))
	for round := range rounds {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("lb%d.db", round))
		dbs := make([]*sql.DB, handles)
		for i := range dbs {
			dbs[i] = openSQLite(t, path)
		}
		start := make(chan struct{})
		errs := make(chan error, handles)
		for _, db := range dbs {
			go func() {
				<-start
				errs <- sqlstore.Migrate(ctx, db, sqlstore.SQLite)
			}()
		}
		close(start)
		for range handles {
			if err := <-errs; err != nil {
				t.Errorf("round %d: one of %d Migrate calls at once: %v", round, handles, err)
			}
		}
		if got := versions(t, dbs[0]); !reflect.DeepEqual(got, want) {
			t.Errorf("round %d: version table after concurrent migrations = %v, want %v", round, got, want)
		}
	}
}

// openSQLite opens the file at path with a busy timeout, as the stores
// do, and closes it when the test ends.
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// versions migrates db if it is new and lists the rows of its version
// table as "version×count".
func versions(t *testing.T, db *sql.DB) []string {
	t.Helper()
	ctx := t.Context()
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT version_id, COUNT(*), MIN(is_applied) FROM leaderboard_schema_version GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, n int64
		var applied bool
		if err := rows.Scan(&v, &n, &applied); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d×%d applied=%t", v, n, applied))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrateWaitsForLock: a Migrate of an SQLite file whose migration lock
// another process holds waits for it, touches nothing meanwhile, stops when
// its context ends, and migrates once the lock is free.
func TestMigrateWaitsForLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lb.db")
	db := openSQLite(t, path)
	if err := db.PingContext(t.Context()); err != nil { // so that the deadline below is spent on the lock
		t.Fatal(err)
	}
	unlock, err := sqlstore.LockSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = sqlstore.Migrate(ctx, db, sqlstore.SQLite)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), path+".migrate.lock") {
		t.Errorf("Migrate while the lock is held = %v, want an error naming %s.migrate.lock that wraps %v", err, path, context.DeadlineExceeded)
	}
	var tables int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sqlite_master`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("tables made while the lock was held = %d, %v; want 0", tables, err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(t.Context(), db, sqlstore.SQLite); err != nil {
		t.Errorf("Migrate after the lock was freed: %v", err)
	}
}

// TestMigrateInMemory: an in-memory database, which has no file to lock,
// migrates without a lock file.
func TestMigrateInMemory(t *testing.T) {
	t.Chdir(t.TempDir())
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // each connection has its own in-memory database
	if err := sqlstore.Migrate(t.Context(), db, sqlstore.SQLite); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if files, _ := filepath.Glob("*"); len(files) != 0 {
		t.Errorf("files made by migrating an in-memory database: %v", files)
	}
}
