package leaderboard

import "time"

// What a store gives a rank index (leaderboard/rankindex) to build itself,
// follow changes made by other processes and check that it agrees.

// RecordedMatch is a match as a rank index follows it: when the store
// recorded it, by the database's clock, and who played.
type RecordedMatch struct {
	MatchID   string
	Recorded  time.Time
	PlayerIDs []string
}

// BoardSummary sums up a board's current season: how many entries it has
// and the sum of their versions. Within a season both only grow (entries
// are never removed, every change adds one to a version), so an index that
// holds every change of the season has the same summary as the store.
type BoardSummary struct {
	Season     int64
	Entries    int64
	VersionSum int64
}
