package stats_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
)

// unreachableQueue is a real queue whose receives fail while cut is set,
// as SQS does when it cannot be reached.
type unreachableQueue struct {
	*memQueue
	cut atomic.Bool
}

func (q *unreachableQueue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	if q.cut.Load() {
		return nil, errors.New("dial tcp: connection refused")
	}
	return q.memQueue.Receive(ctx, max, wait)
}

// unreachableStore is a real store whose pings fail while cut is set.
type unreachableStore struct {
	leaderboard.Store
	cut atomic.Bool
}

func (s *unreachableStore) Ping(ctx context.Context) error {
	if s.cut.Load() {
		return errors.New("dial tcp: connection refused")
	}
	return s.Store.Ping(ctx)
}

// TestWorkerReady: Ready follows the worker: not before Run, ready while
// it polls, not while receives from the queue fail or the store does not
// answer (and ready again once they do), and not once it stops.
func TestWorkerReady(t *testing.T) {
	store := &unreachableStore{Store: stores(t)["sqlite"](t)}
	q := &unreachableQueue{memQueue: newMemQueue()}
	w, err := stats.New(stats.Config{Pollers: 1, Wait: 20 * time.Millisecond, RetryDelay: 10 * time.Millisecond},
		q, store, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// waitReady waits until Ready's answer is want ("" for ready).
	waitReady := func(when, want string) {
		t.Helper()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		timeout := time.After(10 * time.Second)
		for {
			got := ""
			if err := w.Ready(t.Context()); err != nil {
				got = err.Error()
			}
			if got == want {
				return
			}
			select {
			case <-tick.C:
			case <-timeout:
				t.Fatalf("%s: Ready = %q, want %q", when, got, want)
			}
		}
	}
	waitReady("before Run", "not polling yet")
	stop := run(t, w)
	waitReady("while polling", "")
	q.cut.Store(true)
	waitReady("queue cut", "the queue does not answer")
	q.cut.Store(false)
	waitReady("queue back", "")
	store.cut.Store(true)
	waitReady("store cut", "the store does not answer")
	store.cut.Store(false)
	waitReady("store back", "")
	stop()
	waitReady("after Run", "shutting down")
}
