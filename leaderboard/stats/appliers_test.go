package stats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
)

// TestWorkerAppliesBatchConcurrently: with several pollers and the
// outcomes of a batch applied at once, matches that share players and
// redeliveries of the same match still count exactly once each.
func TestWorkerAppliesBatchConcurrently(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			store := newStore(t)
			q := newMemQueue()
			reg := prometheus.NewRegistry()
			w, err := stats.New(stats.Config{Pollers: 3, Appliers: 4, Wait: 5 * time.Second}, q, store, reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			const matches = 30
			var ids []string
			for i := range matches {
				// Every match has "hub" in it; each is sent twice.
				for copy := range 2 {
					id := fmt.Sprintf("m%d-%d", i, copy)
					ids = append(ids, id)
					body := encode(t, outcome(fmt.Sprintf("m%d", i), "hub", fmt.Sprintf("p%d", i%7)))
					if err := q.Send(context.Background(), []queue.Outgoing{{ID: id, Body: body}}); err != nil {
						t.Fatal(err)
					}
				}
			}
			run(t, w)
			waitDeleted(t, q, ids)
			p, err := store.GetPlayer(context.Background(), "hub")
			if err != nil || p.Matches != matches {
				t.Fatalf("GetPlayer(hub) = %+v, %v, want %d matches", p, err, matches)
			}
			if got := counter(t, reg, "skirmish_stats_outcomes_applied_total", ""); got != matches {
				t.Errorf("applied = %v, want %d", got, matches)
			}
			if got := counter(t, reg, "skirmish_stats_outcomes_duplicate_total", ""); got != matches {
				t.Errorf("duplicates = %v, want %d", got, matches)
			}
		})
	}
}
