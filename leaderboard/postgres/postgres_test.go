package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) leaderboard.Store {
		s, err := postgres.Open(context.Background(), testenv.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"); err == nil {
		t.Error("Open(unreachable) = nil error")
	}
}

// TestBulkLoad: the load tests' bulk load fills a board with new players.
func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Unix(1_800_000_000, 0).UTC()
	n, err := s.BulkLoad(ctx, "eliminations", func(yield func(leaderboard.Entry) bool) {
		for i := range 3 {
			if !yield(leaderboard.Entry{PlayerID: fmt.Sprint("p", i), Name: "bench", Score: float64(i), Updated: at}) {
				return
			}
		}
	})
	if err != nil || n != 3 {
		t.Fatalf("BulkLoad = %d, %v; want 3", n, err)
	}
	if e, err := s.PlayerRank(ctx, "eliminations", "p2"); err != nil || e.Rank != 1 || e.Score != 2 {
		t.Errorf("PlayerRank(p2) = %+v, %v; want rank 1 with 2", e, err)
	}
}
