package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
)

// BenchmarkApplyDuel applies Arena duels with five stats a player among
// 500 players: the stats worker's cost per outcome.
//
//	go test -run '^$' -bench 'ApplyDuel|Ratings4' -benchtime 2000x ./leaderboard/sqlite/ ./leaderboard/postgres/
func BenchmarkApplyDuel(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, testenv.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st := func(e float64) map[string]float64 {
		return map[string]float64{"eliminations": e, "deaths": 3, "damage": 250, "shots_fired": 40, "shots_hit": 12}
	}
	b.ResetTimer()
	for i := range b.N {
		a, c := fmt.Sprint("p", i%500), fmt.Sprint("p", (i+1)%500)
		_, err := s.ApplyOutcome(ctx, leaderboard.Match{ID: fmt.Sprint("m", i), Mode: "duel", EndedAt: time.Unix(1_800_000_000+int64(i), 0), EndReason: "score_limit",
			Players: []leaderboard.Result{{PlayerID: a, Name: a, Team: 1, Placement: 1, Stats: st(10)}, {PlayerID: c, Name: c, Team: 2, Placement: 2, Stats: st(4)}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRatings4 looks up four players' ratings in a mode's pool, as
// the matchmaker does for a party.
func BenchmarkRatings4(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, testenv.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 200 {
		a, c := fmt.Sprint("p", i), fmt.Sprint("p", i+200)
		s.ApplyOutcome(ctx, leaderboard.Match{ID: fmt.Sprint("m", i), Mode: "duel", EndReason: "score_limit",
			Players: []leaderboard.Result{{PlayerID: a, Name: a, Team: 1, Placement: 1}, {PlayerID: c, Name: c, Team: 2, Placement: 2}}})
	}
	ids := []string{"p1", "p2", "p201", "p3"}
	b.ResetTimer()
	for range b.N {
		if r, err := s.Ratings(ctx, "duel", ids); err != nil || len(r) != 4 {
			b.Fatal(r, err)
		}
	}
}
