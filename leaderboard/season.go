package leaderboard

import "time"

// Season is one period of a board between resets. Archived seasons keep
// their final standings and stay readable.
type Season struct {
	Season  int64
	Started time.Time
	// Ended is zero for the current season.
	Ended time.Time
	// Entries is how many players the season ranked when it ended; zero
	// for the current season.
	Entries int64
}

// MaxAround is the most entries AroundPlayer returns on each side.
const MaxAround = 50

// BoardEntry is a player's entry on a named board, in the board's
// season that was current when the entry was read.
type BoardEntry struct {
	BoardID string
	Season  int64
	Entry
}
