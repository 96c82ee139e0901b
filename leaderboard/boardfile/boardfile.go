// Package boardfile reads leaderboard definitions from a YAML file and
// applies them to a store at start:
//
//	boards:
//	  - id: eliminations
//	    title: Total eliminations
//	    order: desc          # desc (default) or asc
//	    operator: increment  # best, set or increment
//	    metric: eliminations # eliminations, damage, wins, matches, rating
//	    reset: "@weekly"     # optional cron schedule: seasons
//
// Boards in the file are created, or have their title and reset schedule
// updated; boards not in the file are left alone. A file that would change
// an existing board's order, operator or metric is refused: the board's
// entries would mean something else.
package boardfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/seasons"
)

type file struct {
	Boards []board `yaml:"boards"`
}

type board struct {
	ID       string `yaml:"id"`
	Title    string `yaml:"title"`
	Order    string `yaml:"order"`
	Operator string `yaml:"operator"`
	Metric   string `yaml:"metric"`
	Reset    string `yaml:"reset"`
}

// Load reads and validates the boards of a file.
func Load(path string) ([]leaderboard.Board, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("boards file: %w", err)
	}
	bs, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("boards file %s: %w", path, err)
	}
	return bs, nil
}

// Parse decodes and validates boards from YAML. Unknown fields, duplicate
// ids and invalid boards are errors.
func Parse(data []byte) ([]leaderboard.Board, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]leaderboard.Board, 0, len(f.Boards))
	for i, fb := range f.Boards {
		b := leaderboard.Board{ID: fb.ID, Title: fb.Title, Order: leaderboard.Order(fb.Order),
			Operator: leaderboard.Operator(fb.Operator), Metric: leaderboard.Metric(fb.Metric), Reset: fb.Reset}
		if b.Order == "" {
			b.Order = leaderboard.Descending
		}
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("board %d: %w", i+1, err)
		}
		if _, err := seasons.Parse(b.Reset); err != nil {
			return nil, fmt.Errorf("board %q: %w", b.ID, err)
		}
		if seen[b.ID] {
			return nil, fmt.Errorf("board %q is defined twice", b.ID)
		}
		seen[b.ID] = true
		out = append(out, b)
	}
	return out, nil
}

// Apply creates or updates the boards in the store. It checks every board
// before writing any, so a refused file changes nothing.
func Apply(ctx context.Context, s leaderboard.Store, boards []leaderboard.Board) error {
	for _, b := range boards {
		old, err := s.GetBoard(ctx, b.ID)
		if errors.Is(err, leaderboard.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("boards file: board %q: %w", b.ID, err)
		}
		for _, f := range []struct {
			name     string
			old, new string
		}{
			{"order", string(old.Order), string(b.Order)},
			{"operator", string(old.Operator), string(b.Operator)},
			{"metric", string(old.Metric), string(b.Metric)},
		} {
			if f.old != f.new {
				return fmt.Errorf("boards file: board %q: cannot change %s from %q to %q: its entries would mean something else; use a new board id: %w",
					b.ID, f.name, f.old, f.new, leaderboard.ErrConflict)
			}
		}
	}
	for _, b := range boards {
		if _, err := s.PutBoard(ctx, b); err != nil {
			return fmt.Errorf("boards file: board %q: %w", b.ID, err)
		}
	}
	return nil
}
