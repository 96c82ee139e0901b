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
		{"unknown field", "boards:\n  - id: a\n    operator: best\n    metric: wins\n    colour: red\n", "colour"},
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
	write := func(y string) []leaderboard.Board {
		t.Helper()
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		bs, err := boardfile.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	bs := write(`boards:
  - id: fastest
    title: Fewest deaths
    order: asc
    operator: best
    metric: matches
  - id: wins
    title: Weekly wins
    operator: increment
    metric: wins
    reset: "@weekly"
`)
	if err := boardfile.Apply(ctx, s, bs); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]leaderboard.Board{
		"fastest": {Title: "Fewest deaths", Order: leaderboard.Ascending, Operator: leaderboard.Best},
		"wins":    {Title: "Weekly wins", Order: leaderboard.Descending, Operator: leaderboard.Increment, Reset: "@weekly"},
	} {
		b, err := s.GetBoard(ctx, id)
		if err != nil || b.Title != want.Title || b.Order != want.Order || b.Operator != want.Operator || b.Reset != want.Reset {
			t.Errorf("GetBoard(%q) = %+v, %v; want %+v", id, b, err, want)
		}
	}
	// Changing what an existing board ranks is refused, naming the board
	// and the field, and changes nothing.
	for _, tc := range []struct{ field, yaml string }{
		{"order", "boards:\n  - {id: fastest, title: New, order: desc, operator: best, metric: matches}\n"},
		{"operator", "boards:\n  - {id: wins, operator: best, metric: wins}\n"},
		{"metric", "boards:\n  - {id: wins, operator: increment, metric: damage}\n"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			err := boardfile.Apply(ctx, s, write(tc.yaml))
			if !errors.Is(err, leaderboard.ErrConflict) || !strings.Contains(err.Error(), "cannot change "+tc.field) {
				t.Errorf("Apply = %v, want a conflict naming %s", err, tc.field)
			}
		})
	}
	if b, _ := s.GetBoard(ctx, "fastest"); b.Title != "Fewest deaths" {
		t.Errorf("refused file changed the title to %q", b.Title)
	}
}
