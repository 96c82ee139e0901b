package sqlite_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

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
