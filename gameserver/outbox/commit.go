package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Group commit. Every change to the file (an Add's insert, a Publisher's
// delete of what the queue accepted) is a write that waits for an fsync
// (synchronous=FULL). Writers that arrive while a commit is running queue
// up; the next writer to get the commit slot commits everything queued in
// one transaction, so N concurrent Adds cost about one fsync, not N. A
// writer returns only after the commit that holds its change succeeded, so
// Add returning nil still means the outcome is on disk.

// commitTimeout bounds one group commit. It is not the caller's context: a
// commit carries other callers' writes, which one caller's cancelation
// must not fail.
const commitTimeout = 30 * time.Second

// write is one caller's change, waiting for the commit that includes it.
type write struct {
	add  *entry  // a row to insert, or nil
	del  []int64 // seqs to delete
	err  error   // the commit's result, set before done closes
	done chan struct{}
}

// commit queues w and returns when a commit that includes it ended, with
// that commit's error, or when ctx ends first (the write may then be
// committed or not).
func (ob *Outbox) commit(ctx context.Context, w *write) error {
	w.done = make(chan struct{})
	ob.mu.Lock()
	ob.waiting = append(ob.waiting, w)
	ob.mu.Unlock()
	select {
	case ob.slot <- struct{}{}: // our turn to commit
	case <-w.done: // a commit that was starting took our write along
		return w.err
	case <-ctx.Done():
		if ob.forget(w) {
			return ctx.Err()
		}
		<-w.done // already in a commit: its result is ours
		return w.err
	}
	defer func() { <-ob.slot }()
	ob.mu.Lock()
	batch := ob.waiting
	ob.waiting = nil
	ob.mu.Unlock()
	if len(batch) > 0 { // empty when the commit before ours took our write
		err := ob.apply(context.WithoutCancel(ctx), batch)
		for _, b := range batch {
			b.err = err
			close(b.done)
		}
	}
	<-w.done
	return w.err
}

// forget takes w off the queue and reports whether it was still there.
func (ob *Outbox) forget(w *write) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	for i, x := range ob.waiting {
		if x == w {
			ob.waiting = append(ob.waiting[:i], ob.waiting[i+1:]...)
			return true
		}
	}
	return false
}

// apply runs a batch of writes in one transaction.
func (ob *Outbox) apply(ctx context.Context, batch []*write) error {
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	tx, err := ob.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	var ins, del *sql.Stmt
	for _, w := range batch {
		if w.add != nil {
			if ins == nil {
				ins = tx.StmtContext(ctx, ob.insStmt)
			}
			if _, err := ins.ExecContext(ctx, w.add.matchID, w.add.body, w.add.addedMs); err != nil {
				return fmt.Errorf("outbox: add match %s: %w", w.add.matchID, err)
			}
		}
		for _, seq := range w.del {
			if del == nil {
				del = tx.StmtContext(ctx, ob.delStmt)
			}
			if _, err := del.ExecContext(ctx, seq); err != nil {
				return fmt.Errorf("outbox: remove %d: %w", seq, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit: %w", err)
	}
	return nil
}
