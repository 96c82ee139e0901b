package boardfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/boardfile"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
)

func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", "boards:\n  - id: a\n    stat: wins\n    aggregate: sum\n    colour: red\n", "colour"},
		{"bad stat", "boards:\n  - {id: a, stat: Kills, aggregate: sum}\n", "lower_snake_case"},
		{"no stat", "boards:\n  - {id: a, aggregate: sum}\n", "stat"},
		{"bad aggregate", "boards:\n  - {id: a, stat: laps, aggregate: avg}\n", `aggregate "avg"`},
		{"rating without pool", "boards:\n  - {id: a, stat: rating, aggregate: last}\n", "pool"},
		{"bad mode", "boards:\n  - {id: a, stat: laps, aggregate: sum, modes: ['a,b']}\n", "modes[0]"},
		{"mode twice", "boards:\n  - {id: a, stat: laps, aggregate: sum, modes: [x, x]}\n", "twice"},
		{"mixed shapes", "boards:\n  - {id: a, stat: laps, aggregate: sum, operator: best, metric: wins}\n", "mixes"},
		{"bad pool", "rating_pools:\n  team4: 'a team'\n", "rating_pools"},
		{"bad order", "boards:\n  - id: a\n    order: up\n    operator: best\n    metric: wins\n", `order "up"`},
		{"bad operator", "boards:\n  - id: a\n    operator: max\n    metric: wins\n", `operator "max"`},
		{"bad metric", "boards:\n  - id: a\n    operator: best\n    metric: kills\n", `metric "kills"`},
		{"no id", "boards:\n  - operator: best\n    metric: wins\n", "board id"},
		{"bad cron", "boards:\n  - id: a\n    operator: best\n    metric: wins\n    reset: every tuesday\n", "cron"},
		{"duplicate", "boards:\n  - {id: a, operator: best, metric: wins}\n  - {id: a, operator: set, metric: wins}\n", "twice"},
		{"not yaml", "boards: [", "yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := boardfile.Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	path := filepath.Join(t.TempDir(), "boards.yaml")
	write := func(y string) boardfile.File {
		t.Helper()
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		bs, err := boardfile.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	bs := write(`boards:
  - id: fastest
    title: Fastest lap
    order: asc
    stat: lap_ms
    aggregate: min
    modes: [race, sprint]
  - id: wins
    title: Weekly wins
    operator: increment
    metric: wins
    reset: "@weekly"
  - id: team-rating
    stat: rating
    aggregate: last
    pool: team
rating_pools:
  team4: team
`)
	if err := boardfile.ApplyFile(ctx, s, bs); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]leaderboard.Board{
		"fastest":     {Title: "Fastest lap", Order: leaderboard.Ascending, Stat: "lap_ms", Aggregate: leaderboard.Min, Modes: []string{"race", "sprint"}},
		"wins":        {Title: "Weekly wins", Order: leaderboard.Descending, Stat: "wins", Aggregate: leaderboard.Sum, Reset: "@weekly"},
		"team-rating": {Order: leaderboard.Descending, Stat: "rating", Aggregate: leaderboard.Last, Pool: "team"},
	} {
		b, err := s.GetBoard(ctx, id)
		if err != nil || b.Title != want.Title || !b.SameRanking(want) || b.Reset != want.Reset {
			t.Errorf("GetBoard(%q) = %+v, %v; want %+v", id, b, err, want)
		}
	}
	if pools, err := s.RatingPools(ctx); err != nil || pools["team4"] != "team" {
		t.Errorf("RatingPools = %v, %v; want team4 in pool team", pools, err)
	}
	// Changing what an existing board ranks, or a mode's pool, is refused,
	// naming the board and the field, and changes nothing.
	for _, tc := range []struct{ field, yaml string }{
		{"order", "boards:\n  - {id: fastest, title: New, order: desc, stat: lap_ms, aggregate: min, modes: [race, sprint]}\n"},
		{"aggregate", "boards:\n  - {id: wins, stat: wins, aggregate: max}\n"},
		{"stat", "boards:\n  - {id: wins, operator: increment, metric: damage}\n"},
		{"modes", "boards:\n  - {id: fastest, order: asc, stat: lap_ms, aggregate: min, modes: [race]}\n"},
		{"pool", "boards:\n  - {id: team-rating, stat: rating, aggregate: last, pool: team4}\n"},
		{"mode \"team4\" from pool", "rating_pools: {team4: team4}\nboards:\n  - {id: fastest, title: New, order: asc, stat: lap_ms, aggregate: min, modes: [race, sprint]}\n"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			err := boardfile.ApplyFile(ctx, s, write(tc.yaml))
			if !errors.Is(err, leaderboard.ErrConflict) || !strings.Contains(err.Error(), "cannot change "+tc.field) && !strings.Contains(err.Error(), "cannot move "+tc.field) {
				t.Errorf("Apply = %v, want a conflict naming %s", err, tc.field)
			}
		})
	}
	if b, _ := s.GetBoard(ctx, "fastest"); b.Title != "Fastest lap" {
		t.Errorf("refused file changed the title to %q", b.Title)
	}
}
