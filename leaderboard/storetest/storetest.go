// Package storetest is the one test suite every leaderboard.Store must
// pass. A store package calls Run from its own test with a constructor.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/displayname"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// NewStore returns an empty store for one test; it closes the store in
// t.Cleanup.
type NewStore func(t *testing.T) leaderboard.Store

// Run runs the suite; each subtest gets a fresh store.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s leaderboard.Store)
	}{
		{"ApplyOutcome", testApply},
		{"ApplyOutcomeTwice", testApplyTwice},
		{"ApplyOutcomeConcurrently", testApplyConcurrently},
		{"TiesBreakByTime", testTies},
		{"TopEntriesPages", testPages},
		{"PlayerMatches", testPlayerMatches},
		{"Players", testPlayers},
		{"NotFound", testNotFound},
		{"Invalid", testInvalid},
		{"AroundPlayer", testAround},
		{"Seasons", testSeasons},
		{"PutBoard", testPutBoard},
		{"VoidAndLeavers", testVoidAndLeavers},
		{"ServerLostReplaced", testServerLostReplaced},
		{"OutcomeNames", testOutcomeNames},
		{"StatBoards", testStatBoards},
		{"RatingPools", testRatingPools},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// duel is a finished 1v1: winner beats loser with the given eliminations.
func duel(id, winner, loser string, elims int64, ended time.Time) leaderboard.Match {
	return leaderboard.Match{
		ID: id, RoomID: "room-" + id, Mode: "duel", Region: "local", GameserverID: "gs1",
		StartedAt: ended.Add(-3 * time.Minute), EndedAt: ended, EndReason: "score_limit",
		Teams: []leaderboard.TeamResult{{Team: 1, Score: elims, Placement: 1}, {Team: 2, Score: 1, Placement: 2}},
		Players: []leaderboard.Result{
			{PlayerID: winner, Name: "W " + winner, Team: 1, Placement: 1, Stats: arena(elims, 1, 25*(elims+1), 40, 20)},
			{PlayerID: loser, Name: "L " + loser, Team: 2, Placement: 2, Stats: arena(1, elims, 50, 30, 5), Left: true},
		},
	}
}

// arena returns Arena's stats of one player.
func arena(elims, deaths, damage, fired, hit int64) map[string]float64 {
	return map[string]float64{"eliminations": float64(elims), "deaths": float64(deaths), "damage": float64(damage),
		"shots_fired": float64(fired), "shots_hit": float64(hit)}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustApply(t *testing.T, s leaderboard.Store, m leaderboard.Match) {
	t.Helper()
	applied, err := s.ApplyOutcome(ctx(t), m)
	if err != nil || !applied {
		t.Fatalf("ApplyOutcome(%q) = %v, %v, want true, nil", m.ID, applied, err)
	}
}

func testApply(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	a, err := s.CreatePlayer(c, "ada")
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, duel("m1", a.ID, "bob", 10, t0))
	// The ratings the rating system gives two new players after a duel.
	rated := leaderboard.Rate(duel("m1", a.ID, "bob", 10, t0), nil)
	win, lose := rated[a.ID].Mu, rated["bob"].Mu

	got, err := s.GetPlayer(c, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "ada" || got.Matches != 1 || got.Wins != 1 || got.Losses != 0 ||
		!reflect.DeepEqual(got.Stats, arena(10, 1, 275, 40, 20)) || got.Ratings["duel"].Rating != win ||
		got.Ratings["duel"].Matches != 1 || len(got.Ratings) != 1 {
		t.Errorf("GetPlayer(winner) = %+v", got)
	}
	bob, err := s.GetPlayer(c, "bob")
	if err != nil {
		t.Fatalf("GetPlayer(bob), created by the outcome: %v", err)
	}
	if bob.Name != "L bob" || bob.Matches != 1 || bob.Losses != 1 || bob.Ratings["duel"].Rating != lose {
		t.Errorf("GetPlayer(loser) = %+v", bob)
	}
	ratings, err := s.Ratings(c, "duel", []string{a.ID, "bob", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ratings) != 2 || ratings[a.ID] != win || ratings["bob"] != lose {
		t.Errorf("Ratings(duel) = %v, want %s:%v bob:%v", ratings, a.ID, win, lose)
	}
	// Another mode is another pool, in which neither has played.
	if ratings, err := s.Ratings(c, "ffa", []string{a.ID, "bob"}); err != nil || len(ratings) != 0 {
		t.Errorf("Ratings(ffa) = %v, %v, want none", ratings, err)
	}

	wantTop := map[string][]leaderboard.Entry{
		"eliminations": {{Rank: 1, PlayerID: a.ID, Name: "ada", Score: 10, Updated: t0}, {Rank: 2, PlayerID: "bob", Name: "L bob", Score: 1, Updated: t0}},
		"wins":         {{Rank: 1, PlayerID: a.ID, Name: "ada", Score: 1, Updated: t0}, {Rank: 2, PlayerID: "bob", Name: "L bob", Score: 0, Updated: t0}},
		"rating":       {{Rank: 1, PlayerID: a.ID, Name: "ada", Score: win, Updated: t0}, {Rank: 2, PlayerID: "bob", Name: "L bob", Score: lose, Updated: t0}},
	}
	for board, want := range wantTop {
		got, err := s.TopEntries(c, board, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("TopEntries(%q) =\n%v, want\n%v", board, got, want)
		}
		e, err := s.PlayerRank(c, board, "bob")
		if err != nil || e != want[1] {
			t.Errorf("PlayerRank(%q, bob) = %v, %v, want %v", board, e, err, want[1])
		}
	}

	m, err := s.GetMatch(c, "m1")
	if err != nil {
		t.Fatal(err)
	}
	want := duel("m1", a.ID, "bob", 10, t0)
	want.Players[0].Standing, want.Players[1].Standing = leaderboard.Won, leaderboard.Lost
	// "W <uuid>" is longer than a name may be: history keeps its first 24
	// characters (displayname.Sanitize).
	want.Players[0].Name = want.Players[0].Name[:displayname.MaxLen]
	want.Players[0].RatingBefore, want.Players[0].RatingAfter = 1500, win
	want.Players[1].RatingBefore, want.Players[1].RatingAfter = 1500, lose
	want.Pool = "duel"
	if m.Recorded.IsZero() {
		t.Errorf("GetMatch: Recorded is zero")
	}
	m.Recorded = time.Time{}
	if fmt.Sprintf("%+v", m) != fmt.Sprintf("%+v", want) {
		t.Errorf("GetMatch =\n%+v, want\n%+v", m, want)
	}
}

func testApplyTwice(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	m := duel("m1", "ada", "bob", 10, t0)
	mustApply(t, s, m)
	before, _ := s.GetPlayer(c, "ada")
	top, _ := s.TopEntries(c, "eliminations", 10, nil)
	applied, err := s.ApplyOutcome(c, m)
	if err != nil || applied {
		t.Fatalf("ApplyOutcome(again) = %v, %v, want false, nil", applied, err)
	}
	// A redelivery with other numbers must not change anything either.
	m.Players[0].Stats["eliminations"] = 99
	if applied, err := s.ApplyOutcome(c, m); err != nil || applied {
		t.Fatalf("ApplyOutcome(changed redelivery) = %v, %v, want false, nil", applied, err)
	}
	after, _ := s.GetPlayer(c, "ada")
	if !reflect.DeepEqual(after, before) {
		t.Errorf("GetPlayer after redelivery = %+v, want %+v", after, before)
	}
	top2, _ := s.TopEntries(c, "eliminations", 10, nil)
	if fmt.Sprint(top2) != fmt.Sprint(top) {
		t.Errorf("TopEntries after redelivery = %v, want %v", top2, top)
	}
}

func testApplyConcurrently(t *testing.T, s leaderboard.Store) {
	const workers = 4
	results := make(chan bool, workers*3)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range 3 {
				applied, err := s.ApplyOutcome(ctx(t), duel(fmt.Sprint("m", i), "ada", "bob", 5, t0.Add(time.Duration(i)*time.Minute)))
				if err != nil {
					t.Errorf("ApplyOutcome: %v", err)
				}
				results <- applied
			}
		})
	}
	wg.Wait()
	close(results)
	n := 0
	for applied := range results {
		if applied {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d applications succeeded, want 3 (one per match)", n)
	}
	p, err := s.GetPlayer(ctx(t), "ada")
	if err != nil || p.Matches != 3 || p.Stats["eliminations"] != 15 || p.Ratings["duel"].Matches != 3 {
		t.Errorf("GetPlayer(ada) = %+v, %v, want 3 matches and 15 eliminations", p, err)
	}
}

func testTies(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	// zed reaches 3 eliminations first, amy later: zed ranks higher
	// although "amy" sorts first; within one match, the id decides.
	mustApply(t, s, duel("m1", "zed", "l1", 3, t0))
	mustApply(t, s, duel("m2", "amy", "l2", 3, t0.Add(time.Minute)))
	mustApply(t, s, duel("m3", "kit", "joe", 1, t0.Add(2*time.Minute))) // kit and joe: 1 each
	got, err := s.TopEntries(c, "eliminations", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range got {
		order = append(order, e.PlayerID)
	}
	want := "[zed amy l1 l2 joe kit]"
	if fmt.Sprint(order) != want {
		t.Errorf("TopEntries order = %v, want %s", order, want)
	}
	for i, id := range []string{"zed", "amy", "l1", "l2", "joe", "kit"} {
		e, err := s.PlayerRank(c, "eliminations", id)
		if err != nil || e.Rank != int64(i+1) {
			t.Errorf("PlayerRank(%q) = %d, %v, want %d", id, e.Rank, err, i+1)
		}
	}
}

func testPages(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	for i := range 7 {
		mustApply(t, s, duel(fmt.Sprint("m", i), fmt.Sprint("w", i), fmt.Sprint("l", i), int64(2+i%3), t0.Add(time.Duration(i)*time.Second)))
	}
	all, err := s.TopEntries(c, "eliminations", 100, nil)
	if err != nil || len(all) != 14 {
		t.Fatalf("TopEntries(100) = %d entries, %v, want 14", len(all), err)
	}
	var paged []leaderboard.Entry
	var cur *leaderboard.EntryCursor
	for range 10 {
		page, err := s.TopEntries(c, "eliminations", 4, cur)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if len(page) < 4 {
			break
		}
		next := leaderboard.CursorAfter(page[len(page)-1])
		cur = &next
	}
	if fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Errorf("pages of 4 =\n%v, want\n%v", paged, all)
	}
	for i, e := range all {
		if e.Rank != int64(i+1) {
			t.Errorf("entry %d has rank %d", i, e.Rank)
		}
	}
}

func testPlayerMatches(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	for i := range 5 {
		mustApply(t, s, duel(fmt.Sprint("m", i), "ada", fmt.Sprint("o", i), 3, t0.Add(time.Duration(i)*time.Minute)))
	}
	var ids []string
	var cur *leaderboard.MatchCursor
	for range 5 {
		page, err := s.PlayerMatches(c, "ada", 2, cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, pm := range page {
			ids = append(ids, pm.MatchID)
			if pm.Result.PlayerID != "ada" || pm.Result.Stats["eliminations"] != 3 || pm.Mode != "duel" || pm.Standing != leaderboard.Won {
				t.Errorf("PlayerMatches row = %+v", pm)
			}
		}
		if len(page) < 2 {
			break
		}
		next := leaderboard.CursorBefore(page[len(page)-1])
		cur = &next
	}
	if fmt.Sprint(ids) != "[m4 m3 m2 m1 m0]" {
		t.Errorf("PlayerMatches pages = %v, want [m4 m3 m2 m1 m0]", ids)
	}
	p, err := s.CreatePlayer(c, "new")
	if err != nil {
		t.Fatal(err)
	}
	if page, err := s.PlayerMatches(c, p.ID, 10, nil); err != nil || len(page) != 0 {
		t.Errorf("PlayerMatches(new player) = %v, %v, want empty", page, err)
	}
}

func testPlayers(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	p, err := s.CreatePlayer(c, "Zoë")
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.CreatePlayer(c, "Zoë")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || p.ID == q.ID {
		t.Errorf("CreatePlayer ids %q, %q: want distinct and non-empty", p.ID, q.ID)
	}
	got, err := s.GetPlayer(c, p.ID)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("GetPlayer = %+v, %v, want %+v", got, err, p)
	}
	boards, err := s.Boards(c)
	var ids, want []string
	for _, b := range boards {
		ids = append(ids, b.ID)
	}
	for _, b := range leaderboard.DefaultBoards() {
		want = append(want, b.ID)
	}
	slices.Sort(want)
	if err != nil || !slices.Equal(ids, want) {
		t.Errorf("Boards = %v, %v, want the default boards in id order %v", ids, err, want)
	}
	if err := s.Ping(c); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testNotFound(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	mustApply(t, s, duel("m1", "ada", "bob", 3, t0))
	p, err := s.CreatePlayer(c, "no games")
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"GetPlayer":              func() error { _, err := s.GetPlayer(c, "nobody"); return err },
		"GetBoard":               func() error { _, err := s.GetBoard(c, "nothing"); return err },
		"GetMatch":               func() error { _, err := s.GetMatch(c, "m404"); return err },
		"TopEntries":             func() error { _, err := s.TopEntries(c, "nothing", 10, nil); return err },
		"PlayerRank(board)":      func() error { _, err := s.PlayerRank(c, "nothing", "ada"); return err },
		"PlayerRank(player)":     func() error { _, err := s.PlayerRank(c, "wins", "nobody"); return err },
		"PlayerRank(no entry)":   func() error { _, err := s.PlayerRank(c, "wins", p.ID); return err },
		"PlayerMatches(unknown)": func() error { _, err := s.PlayerMatches(c, "nobody", 10, nil); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, leaderboard.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", name, err)
		}
	}
}

func testInvalid(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	noID := duel("", "a", "b", 1, t0)
	twice := duel("m", "a", "a", 1, t0)
	calls := map[string]func() error{
		"TopEntries(limit 0)":    func() error { _, err := s.TopEntries(c, "wins", 0, nil); return err },
		"TopEntries(limit 101)":  func() error { _, err := s.TopEntries(c, "wins", 101, nil); return err },
		"PlayerMatches(limit 0)": func() error { _, err := s.PlayerMatches(c, "a", 0, nil); return err },
		"CreatePlayer(empty)":    func() error { _, err := s.CreatePlayer(c, ""); return err },
		"CreatePlayer(long)":     func() error { _, err := s.CreatePlayer(c, "abcdefghijklmnopqrstuvwxyz"); return err },
		"ApplyOutcome(no id)":    func() error { _, err := s.ApplyOutcome(c, noID); return err },
		"ApplyOutcome(twice)":    func() error { _, err := s.ApplyOutcome(c, twice); return err },
		"ApplyOutcome(empty)":    func() error { _, err := s.ApplyOutcome(c, leaderboard.Match{ID: "x"}); return err },
		"Ratings(too many)":      func() error { _, err := s.Ratings(c, "duel", make([]string, 101)); return err },
		"PutRatingPool(bad)":     func() error { return s.PutRatingPool(c, "duel", "a pool") },
	}
	for name, stats := range map[string]map[string]float64{
		"NaN":         {"lap_ms": math.NaN()},
		"Inf":         {"lap_ms": math.Inf(-1)},
		"too big":     {"gold": 2e15},
		"reserved":    {"wins": 1},
		"upper case":  {"Kills": 1},
		"digit first": {"1st": 1},
		"too long":    {strings.Repeat("a", 33): 1},
		"too many":    manyStats(33),
	} {
		m := duel("bad-stats", "a", "b", 1, t0)
		m.Players[1].Stats = stats
		calls["ApplyOutcome(stats "+name+")"] = func() error { _, err := s.ApplyOutcome(c, m); return err }
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, leaderboard.ErrInvalid) {
			t.Errorf("%s = %v, want ErrInvalid", name, err)
		}
	}
}

func manyStats(n int) map[string]float64 {
	out := map[string]float64{}
	for i := range n {
		out[fmt.Sprintf("s%d", i)] = 1
	}
	return out
}
