// Package leaderboard holds the domain of Skirmish's leaderboards: players
// and their lifetime stats, boards and their entries, recorded matches, and
// the Store that keeps them. It imports only the standard library; the
// stores live in leaderboard/sqlite and leaderboard/postgres, the REST API in
// leaderboard/httpapi and the queue consumer in leaderboard/stats.
//
// How a recorded match changes stats, ratings and boards (void matches,
// no-shows and leavers) is decided by Match.Judge and RateMatch, in
// outcome.go; docs/match-rules.md states the rules with examples.
package leaderboard

import (
	"context"
	"errors"
	"time"
)

// Errors that stores return, wrapped with context. Check them with
// errors.Is; the HTTP layer maps them to status codes.
var (
	// ErrNotFound: the board, player or match does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write contradicts what is stored.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request itself is malformed (bad name, bad cursor,
	// limit out of range, outcome without a match id).
	ErrInvalid = errors.New("invalid")
)

// DefaultRating is the rating of a player who has not played yet.
const DefaultRating = 1500.0

// MaxPageSize is the largest page of entries or matches a store returns.
const MaxPageSize = 100

// Player is a player's identity and lifetime stats.
type Player struct {
	ID      string
	Name    string
	Created time.Time
	// Matches counts every counted match (Match.Judge: void matches are
	// left out); Matches-Wins-Losses are draws.
	Matches int64
	Wins    int64
	Losses  int64
	// Stats are the sums over the player's counted matches of every stat
	// the games reported (Result.Stats), by name.
	Stats map[string]float64
	// Ratings are the player's ratings, one per rating pool the player
	// was rated in, by pool name.
	Ratings map[string]PoolRating
}

// PoolRating is a player's rating in one rating pool.
type PoolRating struct {
	// Rating is the mean of the player's skill (Rating.Mu, see Rate).
	Rating float64
	Sigma  float64
	// Matches counts the matches rated in the pool.
	Matches int64
}

// MainRating is the rating of the pool the player has played most
// matches in (ties: the pool whose name sorts first), or DefaultRating
// for a player not yet rated: the one figure older clients show.
func (p Player) MainRating() float64 {
	best, r := "", DefaultRating
	var most int64 = -1
	for pool, pr := range p.Ratings {
		if pr.Matches > most || pr.Matches == most && pool < best {
			best, r, most = pool, pr.Rating, pr.Matches
		}
	}
	return r
}

// Entry is one player's standing on a board.
type Entry struct {
	// Rank is the 1-based position on the board. Ties in score break by
	// who reached the score first, then by player id, so every entry has
	// its own rank.
	Rank     int64
	PlayerID string
	Name     string
	Score    float64
	// Updated is when the player reached this score: the end of the match
	// that set it.
	Updated time.Time
	// Version counts the changes of this entry within its season (1 when
	// the entry is made). A rank index keeps the highest version it has
	// been given, so an older read of the entry never replaces a newer one.
	Version int64
}

// Store keeps players, boards, matches and entries. Every method is safe
// for concurrent use.
type Store interface {
	// CreatePlayer makes a new player with a fresh id and no ratings
	// (DefaultRating in every pool).
	CreatePlayer(ctx context.Context, name string) (Player, error)
	GetPlayer(ctx context.Context, id string) (Player, error)

	// Boards lists the boards, ordered by id.
	Boards(ctx context.Context) ([]Board, error)
	GetBoard(ctx context.Context, id string) (Board, error)

	// ApplyOutcome records a match in one transaction: the match and its
	// per-player results, the players' stats and ratings, and every
	// board's entries. It is idempotent by match id: applying a match that
	// is already recorded changes nothing and returns applied=false.
	// Players named in the match who do not exist yet are created.
	ApplyOutcome(ctx context.Context, m Match) (applied bool, err error)

	// TopEntries returns up to limit entries of a board, best first,
	// starting after the entry the cursor names (nil: from the top).
	TopEntries(ctx context.Context, boardID string, limit int, after *EntryCursor) ([]Entry, error)
	// PlayerRank returns a player's entry on a board.
	PlayerRank(ctx context.Context, boardID, playerID string) (Entry, error)
	// AroundPlayer returns the player's entry with up to n entries ranked
	// just ahead of it and up to n just behind it, best first.
	AroundPlayer(ctx context.Context, boardID, playerID string, n int) ([]Entry, error)

	// PutBoard creates a board, or updates the title and reset schedule
	// of an existing one. Changing anything else of an existing board
	// (Board.SameRanking) is ErrConflict: its entries would mean something
	// else. A new board of StatRating starts with the current ratings of
	// its pool; other new boards start empty.
	PutBoard(ctx context.Context, b Board) (Board, error)
	// EndSeason archives the entries of the board's current season, which
	// must be season (else ErrConflict, so that replicas racing to reset
	// reset once), and starts season+1 with an empty board at time at.
	EndSeason(ctx context.Context, boardID string, season int64, at time.Time) (Board, error)
	// Seasons lists a board's seasons, the current one last.
	Seasons(ctx context.Context, boardID string) ([]Season, error)
	// SeasonEntries pages through the final standings of an archived
	// season, like TopEntries.
	SeasonEntries(ctx context.Context, boardID string, season int64, limit int, after *EntryCursor) ([]Entry, error)

	GetMatch(ctx context.Context, id string) (Match, error)
	// PlayerMatches returns up to limit of a player's matches, latest
	// first, starting after the match the cursor names (nil: the latest).
	PlayerMatches(ctx context.Context, playerID string, limit int, before *MatchCursor) ([]PlayerMatch, error)

	// Ratings returns the ratings of the given players in the rating
	// pool of mode (RatingPools); players not rated in that pool are left
	// out. The matchmaker reads it for a ticket's mode.
	Ratings(ctx context.Context, mode string, playerIDs []string) (map[string]float64, error)

	// RatingPools returns the mapping of modes to rating pools; a mode
	// not in it is rated in a pool of its own name, and is added to it
	// when its first match is recorded.
	RatingPools(ctx context.Context) (map[string]string, error)
	// PutRatingPool rates the matches of mode in pool. Changing the pool
	// of a mode already mapped (by configuration, or by a recorded match
	// of the mode) is ErrConflict: its players' ratings would move.
	PutRatingPool(ctx context.Context, mode, pool string) error

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}
