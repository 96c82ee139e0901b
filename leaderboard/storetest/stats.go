package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// race is a finished race of mode: each player's stats as given, placed in
// the order given.
func race(id, mode string, ended time.Time, players ...leaderboard.Result) leaderboard.Match {
	for i := range players {
		players[i].Name = players[i].PlayerID
		players[i].Team = int64(i + 1)
		players[i].Placement = int64(i + 1)
	}
	return leaderboard.Match{ID: id, Mode: mode, EndedAt: ended, EndReason: leaderboard.EndScoreLimit, Players: players}
}

// testStatBoards: boards rank a game's own stats by name, with each
// aggregate and order, only for the modes they count; a player whose
// result lacks the stat gets no entry from that match.
func testStatBoards(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	for _, b := range []leaderboard.Board{
		{ID: "fastest-lap", Title: "Fastest lap", Order: leaderboard.Ascending, Stat: "lap_ms", Aggregate: leaderboard.Min, Modes: []string{"race"}},
		{ID: "laps", Title: "Laps", Order: leaderboard.Descending, Stat: "laps", Aggregate: leaderboard.Sum, Modes: []string{"race", "sprint"}},
		{ID: "gold", Title: "Gold now", Order: leaderboard.Descending, Stat: "gold", Aggregate: leaderboard.Last},
		{ID: "slowest-lap", Title: "Slowest lap", Order: leaderboard.Descending, Stat: "lap_ms", Aggregate: leaderboard.Max},
	} {
		got, err := s.PutBoard(c, b)
		if err != nil || !got.SameRanking(b) {
			t.Fatalf("PutBoard(%s) = %+v, %v; want %+v", b.ID, got, err, b)
		}
	}
	mustApply(t, s, race("r1", "race", t0,
		leaderboard.Result{PlayerID: "ada", Stats: map[string]float64{"lap_ms": 61_250.5, "laps": 3, "gold": 5}},
		leaderboard.Result{PlayerID: "bob", Stats: map[string]float64{"laps": 1, "gold": 9}}, // did not finish a lap
	))
	mustApply(t, s, race("r2", "race", t0.Add(time.Minute),
		leaderboard.Result{PlayerID: "bob", Stats: map[string]float64{"lap_ms": 60_000, "laps": 3, "gold": 2}},
		leaderboard.Result{PlayerID: "ada", Stats: map[string]float64{"lap_ms": 64_000, "laps": 3}},
	))
	// Another mode: counted by the boards of every mode and of "sprint".
	mustApply(t, s, race("s1", "sprint", t0.Add(2*time.Minute),
		leaderboard.Result{PlayerID: "ada", Stats: map[string]float64{"lap_ms": 1, "laps": 1}},
	))
	want := map[string]string{
		"fastest-lap": fmt.Sprintf("bob=60000@%d,ada=61250.5@%d,", t0.Add(time.Minute).UnixMicro(), t0.UnixMicro()),
		"laps":        fmt.Sprintf("ada=7@%d,bob=4@%d,", t0.Add(2*time.Minute).UnixMicro(), t0.Add(time.Minute).UnixMicro()),
		"gold":        fmt.Sprintf("ada=5@%d,bob=2@%d,", t0.UnixMicro(), t0.Add(time.Minute).UnixMicro()),
		"slowest-lap": fmt.Sprintf("ada=64000@%d,bob=60000@%d,", t0.Add(time.Minute).UnixMicro(), t0.Add(time.Minute).UnixMicro()),
	}
	for board, w := range want {
		top, err := s.TopEntries(c, board, 10, nil)
		if err != nil || entriesString(top) != w {
			t.Errorf("TopEntries(%s) = %s, %v; want %s", board, entriesString(top), err, w)
		}
	}
	if e, err := s.PlayerRank(c, "fastest-lap", "bob"); err != nil || e.Rank != 1 {
		t.Errorf("PlayerRank(fastest-lap, bob) = %+v, %v; want rank 1", e, err)
	}
	ada, err := s.GetPlayer(c, "ada")
	if want := map[string]float64{"lap_ms": 61_250.5 + 64_000 + 1, "laps": 7, "gold": 5}; err != nil || !reflect.DeepEqual(ada.Stats, want) {
		t.Errorf("GetPlayer(ada).Stats = %v, %v; want %v", ada.Stats, err, want)
	}
	m, err := s.GetMatch(c, "r1")
	if err != nil || len(m.Players) != 2 || !reflect.DeepEqual(m.Players[1].Stats, map[string]float64{"laps": 1, "gold": 9}) {
		t.Errorf("GetMatch(r1) = %+v, %v; want bob's two stats", m, err)
	}
	page, err := s.PlayerMatches(c, "ada", 10, nil)
	if err != nil || len(page) != 3 || page[0].Result.Stats["lap_ms"] != 1 || page[2].Result.Stats["lap_ms"] != 61_250.5 {
		t.Errorf("PlayerMatches(ada) = %+v, %v; want three with their stats", page, err)
	}
	// A match without stats (a lost server's) is recorded without any.
	mustApply(t, s, race("lost", "race", t0.Add(3*time.Minute), leaderboard.Result{PlayerID: "ada"}))
	if m, err := s.GetMatch(c, "lost"); err != nil || m.Players[0].Stats != nil {
		t.Errorf("GetMatch(lost) = %+v, %v; want no stats", m, err)
	}
}

// testRatingPools: ratings are kept per pool; a mode is its own pool
// unless mapped, and the mapping of a mode cannot move; the matchmaker's
// lookup reads the pool of the mode it asks for; a board of the rating
// stat ranks one pool, starting from the pool's ratings when it is made;
// a void match changes nothing in any pool.
func testRatingPools(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	if err := s.PutRatingPool(c, "team4", "team"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRatingPool(c, "team4", "team"); err != nil {
		t.Errorf("PutRatingPool(same again) = %v", err)
	}
	if err := s.PutRatingPool(c, "team4", "team4"); !errors.Is(err, leaderboard.ErrConflict) {
		t.Errorf("PutRatingPool(team4 moved) = %v, want ErrConflict", err)
	}
	team := func(id, mode string, at time.Time) leaderboard.Match {
		m := duel(id, "ada", "bob", 5, at)
		m.Mode = mode
		m.Players[1].Left = false
		return m
	}
	mustApply(t, s, team("t1", "team", t0))
	mustApply(t, s, team("t2", "team4", t0.Add(time.Minute)))
	ada, err := s.GetPlayer(c, "ada")
	if err != nil || len(ada.Ratings) != 1 || ada.Ratings["team"].Matches != 2 {
		t.Errorf("GetPlayer(ada).Ratings = %+v, %v; want two matches in pool team only", ada.Ratings, err)
	}
	for _, mode := range []string{"team", "team4"} {
		r, err := s.Ratings(c, mode, []string{"ada", "bob"})
		if err != nil || len(r) != 2 || r["ada"] != ada.Ratings["team"].Rating || r["bob"] >= r["ada"] {
			t.Errorf("Ratings(%s) = %v, %v; want the team pool's, ada %v", mode, r, err, ada.Ratings["team"].Rating)
		}
	}
	if m, err := s.GetMatch(c, "t2"); err != nil || m.Pool != "team" || m.Players[0].RatingBefore == leaderboard.DefaultRating {
		t.Errorf("GetMatch(t2) = pool %q, rating before %v, %v; want pool team, rated from t1's rating", m.Pool, m.Players[0].RatingBefore, err)
	}
	top, err := s.TopEntries(c, "rating-team", 10, nil)
	if err != nil || len(top) != 2 || top[0].PlayerID != "ada" || top[0].Score != ada.Ratings["team"].Rating {
		t.Errorf("TopEntries(rating-team) = %v, %v; want ada first at %v", top, err, ada.Ratings["team"].Rating)
	}
	for _, board := range []string{"rating", "rating-team4"} {
		if top, err := s.TopEntries(c, board, 10, nil); err != nil || len(top) != 0 {
			t.Errorf("TopEntries(%s) = %v, %v; want empty", board, top, err)
		}
	}
	// A duel is the duel pool's: the team ratings stay.
	mustApply(t, s, duel("d1", "bob", "ada", 5, t0.Add(2*time.Minute)))
	after, _ := s.GetPlayer(c, "ada")
	if after.Ratings["team"] != ada.Ratings["team"] || after.Ratings["duel"].Matches != 1 {
		t.Errorf("GetPlayer(ada).Ratings after a duel = %+v; want team unchanged %+v and one duel", after.Ratings, ada.Ratings["team"])
	}
	pools, err := s.RatingPools(c)
	if want := map[string]string{"team": "team", "team4": "team", "duel": "duel"}; err != nil || !reflect.DeepEqual(pools, want) {
		t.Errorf("RatingPools = %v, %v; want %v", pools, err, want)
	}
	if err := s.PutRatingPool(c, "duel", "team"); !errors.Is(err, leaderboard.ErrConflict) {
		t.Errorf("PutRatingPool(duel, a mode already played) = %v, want ErrConflict", err)
	}
	// A void team4 match changes no rating.
	void := team("v1", "team4", t0.Add(3*time.Minute))
	void.EndReason = leaderboard.EndServerLost
	mustApply(t, s, void)
	if p, _ := s.GetPlayer(c, "ada"); !reflect.DeepEqual(p.Ratings, after.Ratings) {
		t.Errorf("GetPlayer(ada).Ratings after a void match = %+v, want %+v", p.Ratings, after.Ratings)
	}
	// A rating board made now starts with the pool's ratings.
	b := leaderboard.Board{ID: "team-ladder", Order: leaderboard.Descending, Stat: leaderboard.StatRating, Aggregate: leaderboard.Last, Pool: "team"}
	if _, err := s.PutBoard(c, b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TopEntries(c, "team-ladder", 10, nil); err != nil || entriesString(got) != entriesString(top) {
		t.Errorf("TopEntries(new team-ladder) = %v, %v; want %v", got, err, top)
	}
}
