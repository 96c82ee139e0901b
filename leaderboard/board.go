package leaderboard

import (
	"slices"
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

// Aggregate says how the values of a player's matches make the player's
// score on a board.
type Aggregate string

const (
	// Sum adds every match's value to the score (total eliminations).
	Sum Aggregate = "sum"
	// Max keeps the highest value of any single match (most damage in a
	// match, peak rating).
	Max Aggregate = "max"
	// Min keeps the lowest value of any single match (fastest lap).
	Min Aggregate = "min"
	// Last replaces the score with the latest match's value (rating).
	Last Aggregate = "last"
)

// Stats the store computes for every counted match, beside the game's own
// stats (Result.Stats). A game may not report stats by these names.
const (
	StatWins    = "wins"    // 1 for a win, else 0
	StatLosses  = "losses"  // 1 for a loss, else 0
	StatMatches = "matches" // 1 for every counted match
	// StatRating is the player's rating in the match's rating pool after
	// the match; a board of it names the pool (Board.Pool).
	StatRating = "rating"
)

// BuiltinStat reports whether name is one of the stats the store computes.
func BuiltinStat(name string) bool {
	switch name {
	case StatWins, StatLosses, StatMatches, StatRating:
		return true
	}
	return false
}

// Board is a ranking of players by one stat, aggregated over the matches
// it counts.
type Board struct {
	ID    string
	Title string
	Order Order
	// Stat names the per-match value the board ranks: a stat the game
	// reports (Result.Stats, e.g. "eliminations", "best_lap_ms") or a
	// builtin one (StatWins, StatLosses, StatMatches, StatRating). A
	// player whose result lacks the stat is not scored by that match.
	Stat string
	// Aggregate makes a score of the values of a player's matches.
	Aggregate Aggregate
	// Modes limits the board to matches of these modes; empty counts
	// every mode.
	Modes []string
	// Pool limits the board to matches rated in this rating pool (see
	// RatingPool); empty counts every pool. A board of StatRating must
	// name its pool.
	Pool string
	// Reset is an optional cron schedule (5 fields, or a descriptor such
	// as "@weekly") at which the current season ends: its entries are
	// archived and the board starts empty. Empty: the board never resets.
	Reset string
	// Season is the current season, from 1; set by the store.
	Season int64
	// SeasonStarted is when the current season began; set by the store.
	SeasonStarted time.Time
}

// DefaultBoards are the boards every store starts with: those of the two
// games the skirmish binary ships, Arena and Liar's Dice (mode "dice",
// gameserver/liarsdice). The rating board of each mode is
// "rating-<mode>", except that the duel pool's keeps the id "rating" that
// it had when there was one rating for every mode. Other games add theirs
// by configuration (leaderboard/boardfile, or PUT
// /v1/admin/leaderboards/{id}).
func DefaultBoards() []Board {
	return []Board{
		{ID: "eliminations", Title: "Total eliminations", Order: Descending, Stat: "eliminations", Aggregate: Sum},
		{ID: "rating", Title: "Skill rating: duel", Order: Descending, Stat: StatRating, Aggregate: Last, Pool: "duel"},
		{ID: "rating-ffa", Title: "Skill rating: free for all", Order: Descending, Stat: StatRating, Aggregate: Last, Pool: "ffa"},
		{ID: "rating-team", Title: "Skill rating: team", Order: Descending, Stat: StatRating, Aggregate: Last, Pool: "team"},
		{ID: "rating-team4", Title: "Skill rating: team 4v4", Order: Descending, Stat: StatRating, Aggregate: Last, Pool: "team4"},
		{ID: "wins", Title: "Wins", Order: Descending, Stat: StatWins, Aggregate: Sum},
		{ID: "dice-wins", Title: "Liar's Dice: wins", Order: Descending, Stat: StatWins, Aggregate: Sum, Modes: []string{"dice"}},
		{ID: "dice-bluffs-called", Title: "Liar's Dice: bluffs called", Order: Descending, Stat: "bluffs_called", Aggregate: Sum, Modes: []string{"dice"}},
		{ID: "rating-dice", Title: "Skill rating: Liar's Dice", Order: Descending, Stat: StatRating, Aggregate: Last, Pool: "dice"},
	}
}

// Limits on a board's definition.
const (
	MaxBoardModes = 16
	MaxNameLen    = 32 // of a stat, a mode or a rating pool
)

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
	if err := ValidStatName(b.Stat); err != nil {
		return Errorf(ErrInvalid, "board %q: stat: %v", b.ID, err)
	}
	switch b.Aggregate {
	case Sum, Max, Min, Last:
	default:
		return Errorf(ErrInvalid, "board %q: aggregate %q is not one of sum, max, min, last", b.ID, b.Aggregate)
	}
	if len(b.Modes) > MaxBoardModes {
		return Errorf(ErrInvalid, "board %q: %d modes, more than %d", b.ID, len(b.Modes), MaxBoardModes)
	}
	for i, m := range b.Modes {
		if err := ValidModeName(m); err != nil {
			return Errorf(ErrInvalid, "board %q: modes[%d]: %v", b.ID, i, err)
		}
		if slices.Contains(b.Modes[:i], m) {
			return Errorf(ErrInvalid, "board %q: mode %q is listed twice", b.ID, m)
		}
	}
	if b.Pool != "" {
		if err := ValidModeName(b.Pool); err != nil {
			return Errorf(ErrInvalid, "board %q: pool: %v", b.ID, err)
		}
	}
	if b.Stat == StatRating && b.Pool == "" {
		return Errorf(ErrInvalid, "board %q: a board of stat %q must name its rating pool (pool)", b.ID, StatRating)
	}
	if b.Stat == StatRating && len(b.Modes) > 0 {
		return Errorf(ErrInvalid, "board %q: a board of stat %q counts the modes of its pool; modes must be empty", b.ID, StatRating)
	}
	if err := validText("title", b.Title, 200); err != nil {
		return Errorf(ErrInvalid, "board %q: %v", b.ID, err)
	}
	if err := validText("reset schedule", b.Reset, 100); err != nil {
		return Errorf(ErrInvalid, "board %q: %v", b.ID, err)
	}
	return nil
}

// SameRanking reports whether boards a and c rank the same thing, so that
// one's entries mean the same on the other: only the title and the reset
// schedule of a board may change.
func (b Board) SameRanking(c Board) bool {
	return b.Order == c.Order && b.Stat == c.Stat && b.Aggregate == c.Aggregate &&
		b.Pool == c.Pool && slices.Equal(b.Modes, c.Modes)
}

// Counts reports whether the board counts a match of this mode, rated in
// this pool.
func (b Board) Counts(mode, pool string) bool {
	return (len(b.Modes) == 0 || slices.Contains(b.Modes, mode)) && (b.Pool == "" || b.Pool == pool)
}

// Value is the value a match gives a player for this board's stat, and
// whether the match scores the player at all: false when the board does
// not count the match (Counts) or the player's result lacks the stat. m's
// Pool and r's Standing and RatingAfter are the store's (Match.Judge,
// RateMatch).
func (b Board) Value(m Match, r Result) (float64, bool) {
	if !b.Counts(m.Mode, m.Pool) {
		return 0, false
	}
	switch b.Stat {
	case StatWins:
		return oneIf(r.Standing == Won), true
	case StatLosses:
		return oneIf(r.Standing == Lost), true
	case StatMatches:
		return 1, true
	case StatRating:
		return r.RatingAfter, true
	}
	v, ok := r.Stats[b.Stat]
	return v, ok
}

func oneIf(b bool) float64 {
	if b {
		return 1
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

// LegacyRatingPool is the pool whose rating a board of the older shape
// with metric "rating" ranks: the stored boards of metric rating were
// migrated to it too.
const LegacyRatingPool = "duel"

// LegacyBoard translates a board definition of the older shape (an
// operator and a closed set of metrics) to the stat and aggregate that
// rank the same: operator increment is Sum, set is Last, best is Max on a
// descending board and Min on an ascending one; metric "rating" is the
// rating of LegacyRatingPool (the older boards had one rating for every
// mode).
func LegacyBoard(id, order, operator, metric string) (Board, error) {
	b := Board{ID: id, Order: Order(order), Stat: metric}
	if b.Order == "" {
		b.Order = Descending
	}
	switch operator {
	case "increment":
		b.Aggregate = Sum
	case "set":
		b.Aggregate = Last
	case "best":
		b.Aggregate = Max
		if b.Order == Ascending {
			b.Aggregate = Min
		}
	default:
		return b, Errorf(ErrInvalid, "board %q: operator %q is not one of best, set, increment", id, operator)
	}
	switch metric {
	case "eliminations", "damage", StatWins, StatMatches:
	case StatRating:
		b.Pool = LegacyRatingPool
	default:
		return b, Errorf(ErrInvalid, "board %q: metric %q is not one of eliminations, damage, wins, matches, rating", id, metric)
	}
	return b, nil
}
