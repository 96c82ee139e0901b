package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the statement cache. The store's statements are a
// fixed set, but a multi-row statement has one text per row count.
const maxCachedStmts = 512

// stmtCache keeps one prepared statement per query text on the writer, so a
// transaction reuses it (Tx.StmtContext) instead of parsing the SQL again:
// SQLite's parser was most of the CPU of applying an outcome.
//
// The writer has one connection, which a transaction holds, so a statement
// cannot be prepared on the DB during one: a query met for the first time
// runs unprepared and is prepared after the transaction ends (prepareMissed).
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	missed map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt), missed: make(map[string]bool)}
}

// stmt returns the statement of q in t, or nil when q is not prepared yet.
func (c *stmtCache) stmt(ctx context.Context, t *sql.Tx, q string) *sql.Stmt {
	c.mu.Lock()
	s, ok := c.m[q]
	if !ok && len(c.m)+len(c.missed) < maxCachedStmts {
		c.missed[q] = true
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return t.StmtContext(ctx, s)
}

// prepareMissed prepares the queries that transactions met unprepared. It
// runs when no transaction holds the writer.
// c.mu is not held while preparing: a transaction holding the writer may
// be asking for a statement.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.missed {
		qs = append(qs, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range qs {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // it runs unprepared, as before
		}
		c.mu.Lock()
		if _, dup := c.m[q]; dup {
			_ = s.Close()
		} else {
			c.m[q] = s
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, s := range c.m {
		errs = append(errs, s.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}
