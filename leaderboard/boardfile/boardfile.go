// Package boardfile reads leaderboard definitions and rating pools from a
// YAML file and applies them to a store at start:
//
//	boards:
//	  - id: eliminations
//	    title: Total eliminations
//	    order: desc          # desc (default) or asc
//	    stat: eliminations   # a stat the game reports, or wins, losses, matches, rating
//	    aggregate: sum       # sum, max, min or last
//	    modes: [duel, ffa]   # optional: count only these modes
//	    reset: "@weekly"     # optional cron schedule: seasons
//	  - id: rating-team
//	    title: Team rating
//	    stat: rating
//	    aggregate: last
//	    pool: team           # a board of rating names its rating pool
//	rating_pools:            # optional: mode -> pool (default: the mode's own name)
//	  team4: team
//
// Adding a board for a new game is a change of this file: name one of the
// stats its outcome reports (PlayerResult.stats) and the modes it counts.
//
// Boards in the file are created, or have their title and reset schedule
// updated; boards not in the file are left alone. A file that would change
// what an existing board ranks (order, stat, aggregate, modes, pool), or
// move a mode already rated to another pool, is refused: the entries or
// ratings would mean something else.
//
// Boards of the older shape (operator: best, set or increment; metric:
// eliminations, damage, wins, matches or rating) are read as the stat and
// aggregate that rank the same (leaderboard.LegacyBoard); their metric
// rating is the duel pool's rating.
package boardfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/seasons"
)

type file struct {
	Boards      []board           `yaml:"boards"`
	RatingPools map[string]string `yaml:"rating_pools"`
}

type board struct {
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Order     string   `yaml:"order"`
	Stat      string   `yaml:"stat"`
	Aggregate string   `yaml:"aggregate"`
	Modes     []string `yaml:"modes"`
	Pool      string   `yaml:"pool"`
	Reset     string   `yaml:"reset"`
	// Deprecated: the older shape.
	Operator string `yaml:"operator"`
	Metric   string `yaml:"metric"`
}

// File is what a boards file defines.
type File struct {
	Boards []leaderboard.Board
	// RatingPools maps modes to rating pools.
	RatingPools map[string]string
}

// Load reads and validates the boards of a file.
func Load(path string) ([]leaderboard.Board, error) {
	f, err := LoadFile(path)
	return f.Boards, err
}

// LoadFile reads and validates a file's boards and rating pools.
func LoadFile(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("boards file: %w", err)
	}
	f, err := ParseFile(b)
	if err != nil {
		return File{}, fmt.Errorf("boards file %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and validates boards from YAML. Unknown fields, duplicate
// ids and invalid boards are errors.
func Parse(data []byte) ([]leaderboard.Board, error) {
	f, err := ParseFile(data)
	return f.Boards, err
}

// ParseFile decodes and validates boards and rating pools from YAML.
func ParseFile(data []byte) (File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, err
	}
	seen := map[string]bool{}
	out := File{Boards: make([]leaderboard.Board, 0, len(f.Boards))}
	for i, fb := range f.Boards {
		b, err := fb.board()
		if err != nil {
			return File{}, fmt.Errorf("board %d: %w", i+1, err)
		}
		if err := b.Validate(); err != nil {
			return File{}, fmt.Errorf("board %d: %w", i+1, err)
		}
		if _, err := seasons.Parse(b.Reset); err != nil {
			return File{}, fmt.Errorf("board %q: %w", b.ID, err)
		}
		if seen[b.ID] {
			return File{}, fmt.Errorf("board %q is defined twice", b.ID)
		}
		seen[b.ID] = true
		out.Boards = append(out.Boards, b)
	}
	for _, mode := range slices.Sorted(maps.Keys(f.RatingPools)) {
		if err := leaderboard.ValidModeName(mode); err != nil {
			return File{}, fmt.Errorf("rating_pools: mode %v", err)
		}
		if err := leaderboard.ValidModeName(f.RatingPools[mode]); err != nil {
			return File{}, fmt.Errorf("rating_pools: pool of mode %q: %v", mode, err)
		}
	}
	out.RatingPools = f.RatingPools
	return out, nil
}

// board turns a board of the file into a leaderboard.Board.
func (fb board) board() (leaderboard.Board, error) {
	if fb.Operator != "" || fb.Metric != "" {
		if fb.Stat != "" || fb.Aggregate != "" || fb.Pool != "" || len(fb.Modes) > 0 {
			return leaderboard.Board{}, fmt.Errorf("board %q mixes the older operator and metric with stat, aggregate, modes or pool; use the newer fields only", fb.ID)
		}
		b, err := leaderboard.LegacyBoard(fb.ID, fb.Order, fb.Operator, fb.Metric)
		b.Title, b.Reset = fb.Title, fb.Reset
		return b, err
	}
	b := leaderboard.Board{ID: fb.ID, Title: fb.Title, Order: leaderboard.Order(fb.Order), Stat: fb.Stat,
		Aggregate: leaderboard.Aggregate(fb.Aggregate), Modes: fb.Modes, Pool: fb.Pool, Reset: fb.Reset}
	if b.Order == "" {
		b.Order = leaderboard.Descending
	}
	return b, nil
}

// Apply creates or updates the boards in the store. It checks every board
// before writing any, so a refused file changes nothing.
func Apply(ctx context.Context, s leaderboard.Store, boards []leaderboard.Board) error {
	return ApplyFile(ctx, s, File{Boards: boards})
}

// ApplyFile maps the file's modes to their rating pools, then creates or
// updates its boards. It checks every pool and board before writing any,
// so a refused file changes nothing.
func ApplyFile(ctx context.Context, s leaderboard.Store, f File) error {
	if len(f.RatingPools) > 0 {
		pools, err := s.RatingPools(ctx)
		if err != nil {
			return fmt.Errorf("boards file: %w", err)
		}
		for _, mode := range slices.Sorted(maps.Keys(f.RatingPools)) {
			if old, ok := pools[mode]; ok && old != f.RatingPools[mode] {
				return fmt.Errorf("boards file: rating_pools: cannot move mode %q from pool %q to %q: its players' ratings would move; map a new mode instead: %w",
					mode, old, f.RatingPools[mode], leaderboard.ErrConflict)
			}
		}
	}
	for _, b := range f.Boards {
		old, err := s.GetBoard(ctx, b.ID)
		if errors.Is(err, leaderboard.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("boards file: board %q: %w", b.ID, err)
		}
		for _, c := range []struct {
			name     string
			old, new any
		}{
			{"order", old.Order, b.Order},
			{"stat", old.Stat, b.Stat},
			{"aggregate", old.Aggregate, b.Aggregate},
			{"modes", old.Modes, b.Modes},
			{"pool", old.Pool, b.Pool},
		} {
			if fmt.Sprint(c.old) != fmt.Sprint(c.new) {
				return fmt.Errorf("boards file: board %q: cannot change %s from %v to %v: its entries would mean something else; use a new board id: %w",
					b.ID, c.name, c.old, c.new, leaderboard.ErrConflict)
			}
		}
	}
	for _, mode := range slices.Sorted(maps.Keys(f.RatingPools)) {
		if err := s.PutRatingPool(ctx, mode, f.RatingPools[mode]); err != nil {
			return fmt.Errorf("boards file: %w", err)
		}
	}
	for _, b := range f.Boards {
		if _, err := s.PutBoard(ctx, b); err != nil {
			return fmt.Errorf("boards file: board %q: %w", b.ID, err)
		}
	}
	return nil
}
