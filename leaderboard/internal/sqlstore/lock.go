package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gofrs/flock"
)

// lockSuffix names the lock file of an SQLite database: path+lockSuffix.
const lockSuffix = ".migrate.lock"

// lockPoll is how often a waiter tries the lock again.
const lockPoll = 10 * time.Millisecond

// LockSQLite takes the lock that Migrate holds on the SQLite database file
// at path: an exclusive OS lock (flock(2); LockFileEx on Windows) on the
// file path+".migrate.lock", made beside the database when missing and left
// there, so that every process, and every handle in one process, locks the
// same file. The OS drops the lock when its holder exits, however it exits.
//
// LockSQLite waits until the lock is free or ctx is done. The caller must
// call unlock when done.
func LockSQLite(ctx context.Context, path string) (unlock func() error, err error) {
	// 0644 like the database file that SQLite makes: whoever may open the
	// database may take the lock.
	f := flock.New(path+lockSuffix, flock.SetPermissions(0o644))
	if _, err := f.TryLockContext(ctx, lockPoll); err != nil {
		return nil, fmt.Errorf("wait for the migration lock %s: %w", f.Path(), err)
	}
	return func() error {
		if err := f.Unlock(); err != nil {
			return fmt.Errorf("release the migration lock %s: %w", f.Path(), err)
		}
		return nil
	}, nil
}

// lockSQLiteDB takes LockSQLite's lock on the file of db's main database,
// which it finds with PRAGMA database_list. An in-memory or temporary
// database has no file, and no other process can open it: there is
// nothing to lock, and unlock does nothing.
func lockSQLiteDB(ctx context.Context, db *sql.DB) (unlock func() error, err error) {
	var file string
	err = db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file)
	if err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	if file == "" {
		return func() error { return nil }, nil
	}
	return LockSQLite(ctx, file)
}
