package leaderboard

import (
	"strings"
	"time"
)

// Order is the direction in which a board ranks scores.
type Order string

const (
	// Descending ranks the highest score first (the default).
	Descending Order = "desc"
	// Ascending ranks the lowest score first, as for fastest times.
	Ascending Order = "asc"
)

// Operator says how a match's value for a player changes the player's
// score on a board.
type Operator string

const (
	// Best keeps the best value of any single match.
	Best Operator = "best"
	// Set replaces the score with the latest value.
	Set Operator = "set"
	// Increment adds the value to the score.
	Increment Operator = "increment"
)

// Metric names the per-match value a board ranks.
type Metric string

const (
	MetricEliminations Metric = "eliminations" // eliminations in the match
	MetricDamage       Metric = "damage"       // damage dealt in the match
	MetricWins         Metric = "wins"         // 1 for a win, else 0
	MetricMatches      Metric = "matches"      // 1 for every match played
	MetricRating       Metric = "rating"       // the rating after the match
)

// Board is a ranking of players by one metric.
type Board struct {
	ID       string
	Title    string
	Order    Order
	Operator Operator
	Metric   Metric
	// Reset is an optional cron schedule (5 fields, or a descriptor such
	// as "@weekly") at which the current season ends: its entries are
	// archived and the board starts empty. Empty: the board never resets.
	Reset string
	// Season is the current season, from 1; set by the store.
	Season int64
	// SeasonStarted is when the current season began; set by the store.
	SeasonStarted time.Time
}

// DefaultBoards are the boards every store starts with.
func DefaultBoards() []Board {
	return []Board{
		{ID: "eliminations", Title: "Total eliminations", Order: Descending, Operator: Increment, Metric: MetricEliminations},
		{ID: "rating", Title: "Skill rating", Order: Descending, Operator: Set, Metric: MetricRating},
		{ID: "wins", Title: "Wins", Order: Descending, Operator: Increment, Metric: MetricWins},
	}
}

// Validate checks that the board is well formed.
func (b Board) Validate() error {
	if b.ID == "" || len(b.ID) > 64 || strings.ContainsFunc(b.ID, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return Errorf(ErrInvalid, "board id must be 1 to 64 ASCII letters, digits, '-', '_' or '.'")
	}
	switch b.Order {
	case Descending, Ascending:
	default:
		return Errorf(ErrInvalid, "board %q: order %q is not one of desc, asc", b.ID, b.Order)
	}
	switch b.Operator {
	case Best, Set, Increment:
	default:
		return Errorf(ErrInvalid, "board %q: operator %q is not one of best, set, increment", b.ID, b.Operator)
	}
	switch b.Metric {
	case MetricEliminations, MetricDamage, MetricWins, MetricMatches, MetricRating:
	default:
		return Errorf(ErrInvalid, "board %q: metric %q is not one of eliminations, damage, wins, matches, rating", b.ID, b.Metric)
	}
	if len(b.Title) > 200 {
		return Errorf(ErrInvalid, "board %q: title is longer than 200 bytes", b.ID)
	}
	if len(b.Reset) > 100 {
		return Errorf(ErrInvalid, "board %q: reset schedule is longer than 100 bytes", b.ID)
	}
	return nil
}

// Value is the value a match gives a player for this board's metric; r's
// Standing and RatingAfter are the store's (Match.Judge, RateMatch).
func (b Board) Value(m Match, r Result) float64 {
	switch b.Metric {
	case MetricEliminations:
		return float64(r.Eliminations)
	case MetricDamage:
		return float64(r.Damage)
	case MetricWins:
		if r.Standing == Won {
			return 1
		}
		return 0
	case MetricMatches:
		return 1
	case MetricRating:
		return r.RatingAfter
	}
	return 0
}

// Better reports whether score a ranks ahead of score b on this board.
func (b Board) Better(a, c float64) bool {
	if b.Order == Ascending {
		return a < c
	}
	return a > c
}
