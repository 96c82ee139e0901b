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
	// Rating is the player's skill rating (see Rate).
	Rating float64
	// Matches counts every recorded match; Matches-Wins-Losses are draws.
	Matches      int64
	Wins         int64
	Losses       int64
	Eliminations int64
	Deaths       int64
	Damage       int64
	ShotsFired   int64
	ShotsHit     int64
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
	// CreatePlayer makes a new player with a fresh id and DefaultRating.
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
	// of an existing one. Changing an existing board's order, operator or
	// metric is ErrConflict: its entries would mean something else.
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

	// Ratings returns the ratings of the given players; players not in
	// the store are left out. The matchmaker reads it.
	Ratings(ctx context.Context, playerIDs []string) (map[string]float64, error)

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}
