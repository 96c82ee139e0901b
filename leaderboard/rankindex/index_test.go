package rankindex_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
)

// reference ranks entries the slow, obvious way: sort by score (best
// first), then earlier time, then player id.
func reference(desc bool, es map[string]leaderboard.Entry) []leaderboard.Entry {
	out := make([]leaderboard.Entry, 0, len(es))
	for _, e := range es {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b leaderboard.Entry) int {
		c := cmp.Compare(a.Score, b.Score)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		if c := a.Updated.Compare(b.Updated); c != 0 {
			return c
		}
		return cmp.Compare(a.PlayerID, b.PlayerID)
	})
	for i := range out {
		out[i].Rank = int64(i + 1)
	}
	return out
}

// randomEntry makes scores and times with many ties, negative scores and
// ids that are prefixes of each other, so every tie-break is exercised.
func randomEntry(r *rand.Rand, id string) leaderboard.Entry {
	t0 := time.Unix(1_800_000_000, 0).UTC()
	return leaderboard.Entry{PlayerID: id, Name: "n-" + id, Score: float64(r.IntN(7) - 2),
		Updated: t0.Add(time.Duration(r.IntN(3)) * time.Microsecond)}
}

// TestIndexOrder: both backends rank exactly like the reference, after a
// load and after moves, for rank, range and cursors.
func TestIndexOrder(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		for _, order := range []leaderboard.Order{leaderboard.Descending, leaderboard.Ascending} {
			t.Run(b.name+"/"+string(order), func(t *testing.T) {
				idx := b.new(t)
				r := rand.New(rand.NewPCG(1, uint64(len(order))))
				es := map[string]leaderboard.Entry{}
				for i := range 300 {
					id := fmt.Sprintf("p%d", i) // p1 is a prefix of p10..p19
					es[id] = randomEntry(r, id)
				}
				desc := order == leaderboard.Descending
				board := leaderboard.Board{ID: "b", Order: order, Season: 1}
				err := idx.Load(ctx, board, func(fn func(leaderboard.Entry) error) error {
					for _, e := range reference(desc, es) {
						if err := fn(e); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				check(t, idx, reference(desc, es))
				var moved []leaderboard.Entry
				for i := range 60 {
					id := fmt.Sprintf("p%d", r.IntN(320)) // some new players
					e := randomEntry(r, id)
					e.Score += float64(i % 3)
					e.Version = es[id].Version + 1
					es[id] = e
					moved = append(moved, e)
				}
				// One at a time and in batches, as the store wrapper does.
				if err := idx.Set(ctx, "b", 1, moved[:1]); err != nil {
					t.Fatal(err)
				}
				if err := idx.Set(ctx, "b", 1, moved[1:]); err != nil {
					t.Fatal(err)
				}
				check(t, idx, reference(desc, es))
			})
		}
	}
}

func check(t *testing.T, idx rankindex.Index, want []leaderboard.Entry) {
	t.Helper()
	ctx := context.Background()
	got, err := idx.Range(ctx, "b", 0, len(want)+5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, sameEntry) {
		t.Fatalf("Range(0, all) differs from the reference:\n got %v\nwant %v", got, want)
	}
	for i, w := range want {
		e, ok, err := idx.Rank(ctx, "b", w.PlayerID)
		if err != nil || !ok || !sameEntry(e, w) {
			t.Fatalf("Rank(%q) = %v, %v, %v; want %v", w.PlayerID, e, ok, err, w)
		}
		// A cursor on an entry continues right after it.
		pos, err := idx.After(ctx, "b", leaderboard.CursorAfter(w))
		if err != nil || pos != i+1 {
			t.Fatalf("After(%q) = %d, %v; want %d", w.PlayerID, pos, err, i+1)
		}
		// A cursor on a score the player no longer has (it moved) lands
		// where that score would rank.
		c := leaderboard.CursorAfter(w)
		c.Score += 0.5
		pos, err = idx.After(ctx, "b", c)
		wantPos := 0
		for _, x := range want {
			if before(want[0].Score >= want[len(want)-1].Score, x, c) {
				wantPos++
			}
		}
		if err != nil || pos != wantPos {
			t.Fatalf("After(%q at %v) = %d, %v; want %d", w.PlayerID, c.Score, pos, err, wantPos)
		}
	}
	if _, ok, err := idx.Rank(ctx, "b", "nobody"); ok || err != nil {
		t.Fatalf("Rank(nobody) = %v, %v; want not found", ok, err)
	}
	if got, err := idx.Range(ctx, "b", len(want), 10); err != nil || len(got) != 0 {
		t.Fatalf("Range past the end = %v, %v; want empty", got, err)
	}
}

// before reports whether entry x ranks ahead of the cursor position c.
func before(desc bool, x leaderboard.Entry, c leaderboard.EntryCursor) bool {
	if x.Score != c.Score {
		return (x.Score > c.Score) == desc
	}
	if u := x.Updated.UnixMicro(); u != c.Updated {
		return u < c.Updated
	}
	return x.PlayerID <= c.PlayerID
}

func sameEntry(a, b leaderboard.Entry) bool {
	return a.Rank == b.Rank && a.PlayerID == b.PlayerID && a.Name == b.Name && a.Score == b.Score && a.Updated.Equal(b.Updated)
}

// TestRedisShared: a second replica on the same Redis finds the board
// built and sees the first replica's writes without reloading; a new
// season is rebuilt.
func TestRedisShared(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	prefix := testenv.RedisPrefix(t, addr)
	a, b := redisAt(t, addr, prefix), redisAt(t, addr, prefix)
	board := leaderboard.Board{ID: "wins", Order: leaderboard.Descending, Season: 1}
	e := leaderboard.Entry{PlayerID: "ada", Name: "Ada", Score: 3, Updated: time.Unix(1_800_000_000, 0).UTC()}
	scans := 0
	scan := func(fn func(leaderboard.Entry) error) error { scans++; return fn(e) }
	if err := a.Load(ctx, board, scan); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx, board, scan); err != nil {
		t.Fatal(err)
	}
	if scans != 1 {
		t.Errorf("store scanned %d times for two replicas, want 1", scans)
	}
	bob := leaderboard.Entry{PlayerID: "bob", Name: "Bob", Score: 5, Updated: e.Updated}
	if err := a.Set(ctx, "wins", 1, []leaderboard.Entry{bob}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Rank(ctx, "wins", "ada"); err != nil || !ok || got.Rank != 2 {
		t.Errorf("replica b: Rank(ada) = %v, %v, %v; want rank 2", got, ok, err)
	}
	board.Season = 2
	if err := b.Load(ctx, board, func(func(leaderboard.Entry) error) error { scans++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Range(ctx, "wins", 0, 10); err != nil || len(got) != 0 || scans != 2 {
		t.Errorf("after a new season: Range = %v, %v (scans %d); want empty after a rebuild", got, err, scans)
	}
	if _, err := a.Range(ctx, "unknown", 0, 10); err == nil {
		t.Error("Range on a board never loaded: no error")
	}
}

// TestIndexKeepsNewest: writers deliver reads of one entry in any order;
// the index keeps the newest version, ignores reads of another season,
// and never goes back to an older season on a late load.
func TestIndexKeepsNewest(t *testing.T) {
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0).UTC()
	entry := func(id string, score float64, v int64) leaderboard.Entry {
		return leaderboard.Entry{PlayerID: id, Name: id, Score: score, Updated: at.Add(time.Duration(v) * time.Second), Version: v}
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			idx := b.new(t)
			board := leaderboard.Board{ID: "b", Order: leaderboard.Descending, Season: 3}
			load := func(board leaderboard.Board, es ...leaderboard.Entry) {
				t.Helper()
				if err := idx.Load(ctx, board, func(fn func(leaderboard.Entry) error) error {
					for _, e := range es {
						if err := fn(e); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			set := func(season int64, es ...leaderboard.Entry) {
				t.Helper()
				if err := idx.Set(ctx, "b", season, es); err != nil {
					t.Fatal(err)
				}
			}
			load(board, entry("ada", 5, 2), entry("bob", 1, 1))
			set(3, entry("ada", 4, 1))                       // older read: ignored
			set(3, entry("ada", 9, 2))                       // same version: ignored
			set(3, entry("bob", 7, 2), entry("cat", 6, 1))   // newer, and a new player
			set(2, entry("ada", 100, 9), entry("dan", 8, 1)) // an ended season: ignored
			set(4, entry("eve", 100, 1))                     // a season not loaded: ignored
			want := []leaderboard.Entry{{Rank: 1, PlayerID: "bob", Score: 7}, {Rank: 2, PlayerID: "cat", Score: 6}, {Rank: 3, PlayerID: "ada", Score: 5}}
			got, err := idx.Range(ctx, "b", 0, 10)
			if err != nil || !sameRanking(got, want) {
				t.Fatalf("Range after out-of-order sets = %v, %v; want %v", got, err, want)
			}
			// A load of an earlier season that finishes late changes nothing.
			old := board
			old.Season = 2
			load(old, entry("zed", 50, 1))
			if got, err := idx.Range(ctx, "b", 0, 10); err != nil || !sameRanking(got, want) {
				t.Fatalf("Range after a late load of season 2 = %v, %v; want %v", got, err, want)
			}
			// A new season replaces the board; the old season's reads stop counting.
			board.Season = 4
			load(board)
			set(3, entry("bob", 70, 3))
			set(4, entry("eve", 1, 1))
			if got, err := idx.Range(ctx, "b", 0, 10); err != nil || !sameRanking(got, []leaderboard.Entry{{Rank: 1, PlayerID: "eve", Score: 1}}) {
				t.Fatalf("Range in season 4 = %v, %v; want eve alone", got, err)
			}
		})
	}
}

// sameRanking compares ranks, players and scores.
func sameRanking(got, want []leaderboard.Entry) bool {
	return slices.EqualFunc(got, want, func(a, b leaderboard.Entry) bool {
		return a.Rank == b.Rank && a.PlayerID == b.PlayerID && a.Score == b.Score
	})
}
