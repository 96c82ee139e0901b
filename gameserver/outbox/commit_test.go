package outbox_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/outbox"
)

// TestConcurrentAddsAreDurable checks the group commit: once each of many
// concurrent Adds returned, its outcome is in the file, as a second handle
// opened on it (as after a crash and restart) sees, before the first is
// closed.
func TestConcurrentAddsAreDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openOutbox(t, path)
	const adders, each = 16, 25
	var wg sync.WaitGroup
	for a := range adders {
		wg.Go(func() {
			for i := range each {
				if err := ob.Add(context.Background(), outcome(a*each+i)); err != nil {
					t.Errorf("Add error: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	again, err := outbox.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	if n := pending(t, again); n != adders*each {
		t.Fatalf("Pending after reopening = %d, want %d", n, adders*each)
	}
	add(t, ob, 0, 10) // adding a match id that waits already does nothing
	if n := pending(t, again); n != adders*each {
		t.Fatalf("Pending after adding duplicates = %d, want %d", n, adders*each)
	}
}

// TestAddWithEndedContext: an Add whose context ended before it could
// commit returns the context's error.
func TestAddWithEndedContext(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ob.Add(ctx, outcome(1))
	if err == nil {
		// The commit slot was free, so the Add committed: that is allowed.
		if n := pending(t, ob); n != 1 {
			t.Fatalf("Add returned nil but Pending = %d, want 1", n)
		}
	}
}

// TestManyBatchesInFlight: with several batches in flight and adds racing
// the publisher, every outcome arrives and the outbox ends empty.
func TestManyBatchesInFlight(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	q := openQueue(t)
	f := newFailing(q, 3) // the first sends fail and are retried
	cfg := fast
	cfg.InFlight = 4
	p, err := outbox.NewPublisher(cfg, ob, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	var wg sync.WaitGroup
	for a := range 4 {
		wg.Go(func() {
			for i := a * 50; i < a*50+50; i++ {
				if err := ob.Add(context.Background(), outcome(i)); err != nil {
					t.Errorf("Add error: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := collect(t, q, 200)
	if len(got) != 200 {
		t.Fatalf("received %d distinct outcomes, want 200", len(got))
	}
	deadline := time.Now().Add(10 * time.Second)
	for pending(t, ob) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Pending = %d after every outcome arrived, want 0", pending(t, ob))
		}
		time.Sleep(10 * time.Millisecond) // polling the file
	}
}
