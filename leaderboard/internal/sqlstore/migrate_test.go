package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/internal/sqlstore"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
)

// oldShape is a database of Arena's era (migration 00070): Arena's
// figures in columns, one rating for every mode, boards of a metric and an
// operator. ada played a duel (won) and an ffa; bob lost the duel; cy
// played only the ffa; a duel lost with its server is void for ada and bob.
var oldShape = []string{
	`INSERT INTO players (id, name, created_at, rating, rating_sigma, matches, wins, losses, eliminations, deaths, damage, shots_fired, shots_hit) VALUES
		('ada', 'ada', 1, 1620.5, 410, 2, 2, 0, 13, 2, 350, 90, 40),
		('bob', 'bob', 1, 1440.25, 420, 1, 0, 1, 1, 10, 50, 30, 5),
		('cy', 'cy', 1, 1480, 450, 1, 0, 1, 2, 3, 60, 20, 6),
		('new', 'new', 1, 1500, 500, 0, 0, 0, 0, 0, 0, 0, 0)`,
	`INSERT INTO boards (id, title, sort_order, operator, metric, reset_schedule, season, season_started) VALUES
		('eliminations', 'Total eliminations', 'desc', 'increment', 'eliminations', '', 1, 1),
		('rating', 'Skill rating', 'desc', 'set', 'rating', '', 1, 1),
		('wins', 'Wins', 'desc', 'increment', 'wins', '', 1, 1),
		('damage', 'Most damage in a match', 'desc', 'best', 'damage', '@weekly', 1, 1),
		('fewest', 'Fewest', 'asc', 'best', 'matches', '', 1, 1)`,
	`INSERT INTO board_entries (board_id, player_id, score, scored_at, version) VALUES
		('eliminations', 'ada', 13, 2000, 2), ('eliminations', 'bob', 1, 1000, 1), ('eliminations', 'cy', 2, 2000, 1),
		('rating', 'ada', 1620.5, 2000, 2), ('rating', 'bob', 1440.25, 1000, 1), ('rating', 'cy', 1480, 2000, 1),
		('damage', 'ada', 300, 1000, 1)`,
	`INSERT INTO matches (id, room_id, mode, region, gameserver_id, started_at, ended_at, end_reason, recorded_at) VALUES
		('m1', 'r1', 'duel', 'eu', 'gs1', 500, 1000, 'score_limit', 1001),
		('m2', 'r2', 'ffa', 'eu', 'gs1', 1500, 2000, 'time_limit', 2001),
		('m3', 'r3', 'duel', 'eu', 'gs1', 2500, 3000, 'server_lost', 3001)`,
	`INSERT INTO match_players (match_id, player_id, name, team, placement, eliminations, deaths, damage, shots_fired, shots_hit,
			left_early, standing, rating_before, rating_after, ended_at) VALUES
		('m1', 'ada', 'ada', 1, 1, 10, 1, 300, 60, 30, false, 'won', 1500, 1560, 1000),
		('m1', 'bob', 'bob', 2, 2, 1, 10, 50, 30, 5, false, 'lost', 1500, 1440.25, 1000),
		('m2', 'ada', 'ada', 1, 1, 3, 1, 50, 30, 10, false, 'won', 1560, 1620.5, 2000),
		('m2', 'cy', 'cy', 2, 2, 2, 3, 60, 20, 6, false, 'lost', 1500, 1480, 2000),
		('m3', 'ada', 'ada', 1, 0, 0, 0, 0, 0, 0, false, 'void', 1620.5, 1620.5, 3000),
		('m3', 'bob', 'bob', 2, 0, 0, 0, 0, 0, 0, false, 'void', 1440.25, 1440.25, 3000)`,
}

func TestMigrateArenaData(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lb.db")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		fill(t, db, sqlstore.SQLite)
		db.Close()
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open (migrating): %v", err)
		}
		t.Cleanup(func() { s.Close() })
		checkMigrated(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.Postgres(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		fill(t, db, sqlstore.Postgres)
		db.Close()
		s, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("open (migrating): %v", err)
		}
		t.Cleanup(func() { s.Close() })
		checkMigrated(t, s)
	})
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" driver

// fill migrates db to the shape before stats and fills it with oldShape.
func fill(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	ctx := context.Background()
	if err := sqlstore.MigrateTo(ctx, db, d, 70); err != nil {
		t.Fatal(err)
	}
	for _, q := range oldShape {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
}

func checkMigrated(t *testing.T, s leaderboard.Store) {
	ctx := context.Background()
	players := map[string]leaderboard.Player{
		"ada": {Matches: 2, Wins: 2, Stats: map[string]float64{"eliminations": 13, "deaths": 2, "damage": 350, "shots_fired": 90, "shots_hit": 40},
			Ratings: map[string]leaderboard.PoolRating{"duel": {Rating: 1620.5, Sigma: 410, Matches: 1}, "ffa": {Rating: 1620.5, Sigma: 410, Matches: 1}}},
		"bob": {Matches: 1, Losses: 1, Stats: map[string]float64{"eliminations": 1, "deaths": 10, "damage": 50, "shots_fired": 30, "shots_hit": 5},
			Ratings: map[string]leaderboard.PoolRating{"duel": {Rating: 1440.25, Sigma: 420, Matches: 1}}},
		"cy": {Matches: 1, Losses: 1, Stats: map[string]float64{"eliminations": 2, "deaths": 3, "damage": 60, "shots_fired": 20, "shots_hit": 6},
			Ratings: map[string]leaderboard.PoolRating{"ffa": {Rating: 1480, Sigma: 450, Matches: 1}}},
		"new": {},
	}
	for id, want := range players {
		got, err := s.GetPlayer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want.ID, want.Name, want.Created = id, id, got.Created
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetPlayer(%s) =\n%+v, want\n%+v", id, got, want)
		}
	}
	m, err := s.GetMatch(ctx, "m1")
	if err != nil || m.Pool != "duel" || len(m.Players) != 2 ||
		!reflect.DeepEqual(m.Players[0].Stats, map[string]float64{"eliminations": 10, "deaths": 1, "damage": 300, "shots_fired": 60, "shots_hit": 30}) ||
		m.Players[0].RatingAfter != 1560 {
		t.Errorf("GetMatch(m1) = %+v, %v", m, err)
	}
	if m, err := s.GetMatch(ctx, "m3"); err != nil || m.Players[0].Stats != nil || m.Players[0].Standing != leaderboard.Void {
		t.Errorf("GetMatch(m3) = %+v, %v; want void results without stats", m, err)
	}
	wantBoards := map[string]leaderboard.Board{
		"eliminations": {Order: leaderboard.Descending, Stat: "eliminations", Aggregate: leaderboard.Sum},
		"rating":       {Order: leaderboard.Descending, Stat: "rating", Aggregate: leaderboard.Last, Pool: "duel"},
		"wins":         {Order: leaderboard.Descending, Stat: "wins", Aggregate: leaderboard.Sum},
		"damage":       {Order: leaderboard.Descending, Stat: "damage", Aggregate: leaderboard.Max},
		"fewest":       {Order: leaderboard.Ascending, Stat: "matches", Aggregate: leaderboard.Min},
	}
	for id, want := range wantBoards {
		b, err := s.GetBoard(ctx, id)
		if err != nil || !b.SameRanking(want) {
			t.Errorf("GetBoard(%s) = %+v, %v; want %+v", id, b, err, want)
		}
	}
	if b, _ := s.GetBoard(ctx, "damage"); b.Reset != "@weekly" || b.Title != "Most damage in a match" {
		t.Errorf("GetBoard(damage) lost its title or schedule: %+v", b)
	}
	entries := func(board string) string {
		top, err := s.TopEntries(ctx, board, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out string
		for _, e := range top {
			out += fmt.Sprintf("%s=%v@%d ", e.PlayerID, e.Score, e.Updated.UnixMicro())
		}
		return out
	}
	for board, want := range map[string]string{
		"eliminations": "ada=13@2000 cy=2@2000 bob=1@1000 ",
		// The duel pool's rating; cy never played a duel.
		"rating": "ada=1620.5@2000 bob=1440.25@1000 ",
		// Made at open from the ffa pool's ratings.
		"rating-ffa":  "ada=1620.5@2000 cy=1480@2000 ",
		"rating-team": "",
		"damage":      "ada=300@1000 ",
	} {
		if got := entries(board); got != want {
			t.Errorf("TopEntries(%s) = %q, want %q", board, got, want)
		}
	}
	pools, err := s.RatingPools(ctx)
	if want := map[string]string{"duel": "duel", "ffa": "ffa"}; err != nil || !reflect.DeepEqual(pools, want) {
		t.Errorf("RatingPools = %v, %v; want %v", pools, err, want)
	}
	if r, err := s.Ratings(ctx, "duel", []string{"ada", "bob", "cy"}); err != nil || !reflect.DeepEqual(r, map[string]float64{"ada": 1620.5, "bob": 1440.25}) {
		t.Errorf("Ratings(duel) = %v, %v", r, err)
	}
	// The migrated store goes on: a new duel moves ada's duel rating from
	// her migrated one and adds to her stats.
	err = applyDuel(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	ada, _ := s.GetPlayer(ctx, "ada")
	if ada.Ratings["duel"].Matches != 2 || ada.Ratings["duel"].Rating <= 1620.5 || ada.Stats["eliminations"] != 18 || ada.Ratings["ffa"].Matches != 1 {
		t.Errorf("GetPlayer(ada) after a new duel = %+v", ada)
	}
}

func applyDuel(ctx context.Context, s leaderboard.Store) error {
	_, err := s.ApplyOutcome(ctx, leaderboard.Match{ID: "m4", Mode: "duel", EndedAt: time.UnixMicro(4000), EndReason: leaderboard.EndScoreLimit,
		Players: []leaderboard.Result{
			{PlayerID: "ada", Name: "ada", Team: 1, Placement: 1, Stats: map[string]float64{"eliminations": 5}},
			{PlayerID: "bob", Name: "bob", Team: 2, Placement: 2, Stats: map[string]float64{"eliminations": 0}},
		}})
	return err
}
