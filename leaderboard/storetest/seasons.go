package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// ranking applies duels so that player pNN has NN eliminations on the
// eliminations board, for NN from 1 to n.
func ranking(t *testing.T, s leaderboard.Store, n int) {
	for i := 1; i <= n; i++ {
		mustApply(t, s, duel(fmt.Sprintf("r%02d", i), fmt.Sprintf("p%02d", i), "loser", int64(i), t0.Add(time.Duration(i)*time.Minute)))
	}
}

func ids(es []leaderboard.Entry) string {
	out := ""
	for _, e := range es {
		out += fmt.Sprintf("%d:%s ", e.Rank, e.PlayerID)
	}
	return out
}

func testAround(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	// loser reaches 6 eliminations (1 a duel) with p06's match: the tie on
	// score and time breaks by id, so: loser p06 p05 p04 p03 p02 p01.
	ranking(t, s, 6)
	tests := []struct {
		player string
		n      int
		want   string
	}{
		{"p04", 1, "3:p05 4:p04 5:p03 "},
		{"p06", 2, "1:loser 2:p06 3:p05 4:p04 "},
		{"p01", 2, "5:p03 6:p02 7:p01 "},
		{"p03", 0, "5:p03 "},
	}
	for _, tt := range tests {
		got, err := s.AroundPlayer(c, "eliminations", tt.player, tt.n)
		if err != nil || ids(got) != tt.want {
			t.Errorf("AroundPlayer(%s, %d) = %q, %v, want %q", tt.player, tt.n, ids(got), err, tt.want)
		}
	}
	if _, err := s.AroundPlayer(c, "eliminations", "nobody", 2); !errors.Is(err, leaderboard.ErrNotFound) {
		t.Errorf("AroundPlayer(nobody) = %v, want ErrNotFound", err)
	}
	if _, err := s.AroundPlayer(c, "eliminations", "p01", leaderboard.MaxAround+1); !errors.Is(err, leaderboard.ErrInvalid) {
		t.Errorf("AroundPlayer(n too big) = %v, want ErrInvalid", err)
	}
}

func testSeasons(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	ranking(t, s, 3)
	b, err := s.GetBoard(c, "eliminations")
	if err != nil || b.Season != 1 || b.SeasonStarted.IsZero() {
		t.Fatalf("GetBoard = %+v, %v, want season 1 with a start", b, err)
	}
	end := t0.Add(time.Hour)
	nb, err := s.EndSeason(c, "eliminations", 1, end)
	if err != nil || nb.Season != 2 || !nb.SeasonStarted.Equal(end) {
		t.Fatalf("EndSeason = %+v, %v, want season 2 from %v", nb, err, end)
	}
	if _, err := s.EndSeason(c, "eliminations", 1, end); !errors.Is(err, leaderboard.ErrConflict) {
		t.Errorf("EndSeason(1) again = %v, want ErrConflict", err)
	}
	if top, err := s.TopEntries(c, "eliminations", 10, nil); err != nil || len(top) != 0 {
		t.Errorf("TopEntries after the reset = %v, %v, want empty", top, err)
	}
	mustApply(t, s, duel("after", "p01", "loser", 9, end.Add(time.Minute)))
	if top, _ := s.TopEntries(c, "eliminations", 10, nil); ids(top) != "1:p01 2:loser " {
		t.Errorf("TopEntries of season 2 = %q", ids(top))
	}
	// The archive keeps season 1's final standings, paged.
	page, err := s.SeasonEntries(c, "eliminations", 1, 2, nil)
	if err != nil || ids(page) != "1:loser 2:p03 " {
		t.Fatalf("SeasonEntries(1) = %q, %v", ids(page), err)
	}
	cur := leaderboard.CursorAfter(page[1])
	page, err = s.SeasonEntries(c, "eliminations", 1, 2, &cur)
	if err != nil || ids(page) != "3:p02 4:p01 " {
		t.Errorf("SeasonEntries(1, after p03) = %q, %v", ids(page), err)
	}
	seasons, err := s.Seasons(c, "eliminations")
	if err != nil || len(seasons) != 2 || seasons[0].Entries != 4 || !seasons[0].Ended.Equal(end) || !seasons[1].Ended.IsZero() {
		t.Errorf("Seasons = %+v, %v, want season 1 (4 entries, ended %v) and current season 2", seasons, err, end)
	}
	if _, err := s.SeasonEntries(c, "eliminations", 2, 10, nil); !errors.Is(err, leaderboard.ErrNotFound) {
		t.Errorf("SeasonEntries(current season) = %v, want ErrNotFound", err)
	}
}

func testPutBoard(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	b := leaderboard.Board{ID: "damage", Title: "Damage", Order: leaderboard.Descending, Stat: "damage",
		Aggregate: leaderboard.Max, Reset: "@weekly"}
	got, err := s.PutBoard(c, b)
	if err != nil || got.Reset != "@weekly" || got.Season != 1 {
		t.Fatalf("PutBoard = %+v, %v", got, err)
	}
	mustApply(t, s, duel("d1", "ada", "bob", 3, t0))
	mustApply(t, s, duel("d2", "ada", "bob", 1, t0.Add(time.Minute)))
	if e, err := s.PlayerRank(c, "damage", "ada"); err != nil || e.Score != 100 || e.Rank != 1 {
		t.Errorf("PlayerRank(damage, ada) = %+v, %v, want the best match's 100 damage at rank 1", e, err)
	}
	b.Title = "Most damage"
	if got, err := s.PutBoard(c, b); err != nil || got.Title != "Most damage" {
		t.Errorf("PutBoard(new title) = %+v, %v", got, err)
	}
	for name, change := range map[string]func(*leaderboard.Board){
		"aggregate": func(b *leaderboard.Board) { b.Aggregate = leaderboard.Sum },
		"stat":      func(b *leaderboard.Board) { b.Stat = "deaths" },
		"order":     func(b *leaderboard.Board) { b.Order = leaderboard.Ascending },
		"modes":     func(b *leaderboard.Board) { b.Modes = []string{"duel"} },
		"pool":      func(b *leaderboard.Board) { b.Pool = "duel" },
	} {
		nb := b
		change(&nb)
		if _, err := s.PutBoard(c, nb); !errors.Is(err, leaderboard.ErrConflict) {
			t.Errorf("PutBoard(new %s) = %v, want ErrConflict", name, err)
		}
	}
	if _, err := s.PutBoard(c, leaderboard.Board{ID: "y", Order: leaderboard.Descending, Stat: "rating", Aggregate: leaderboard.Last}); !errors.Is(err, leaderboard.ErrInvalid) {
		t.Errorf("PutBoard(rating without a pool) = %v, want ErrInvalid", err)
	}
	if _, err := s.PutBoard(c, leaderboard.Board{ID: "x", Order: "up"}); !errors.Is(err, leaderboard.ErrInvalid) {
		t.Errorf("PutBoard(bad order) = %v, want ErrInvalid", err)
	}
}
