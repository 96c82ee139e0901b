package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/leaderboard/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) leaderboard.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data", "leaderboard.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lb.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreatePlayer(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if got, err := s.GetPlayer(ctx, p.ID); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("GetPlayer after reopen = %+v, %v, want %+v", got, err, p)
	}
}

// TestBulkLoad: the load tests' bulk load fills a board with new players.
func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lb.db"))
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
