package leaderboard

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Match is a recorded match: what the gameserver reported, plus the
// ratings the store computed when it applied the outcome.
type Match struct {
	ID           string
	RoomID       string
	Mode         string
	Region       string
	GameserverID string
	StartedAt    time.Time
	EndedAt      time.Time
	// EndReason is one of the End constants (EndScoreLimit, ...), or ""
	// when the publisher did not say. It decides, with each player's
	// Left, how the match counts (Judge).
	EndReason string
	// Pool is the rating pool the match was rated in (RatingPools maps
	// its mode to it); set by the store.
	Pool    string
	Teams   []TeamResult
	Players []Result
	// Recorded is when the store applied the outcome; set by the store.
	Recorded time.Time
}

// TeamResult is one team's final score and placement.
type TeamResult struct {
	Team      int64
	Score     int64
	Placement int64
}

// Result is one player's result in a match.
type Result struct {
	PlayerID string
	Name     string
	Team     int64
	// Placement is the placement of the player's team: 1 is the winner,
	// tied teams share a placement, 0 means unplaced.
	Placement int64
	// Stats are the game's own figures for the player in this match, by
	// name (ValidateStats; Arena's are "eliminations", "deaths", "damage",
	// "shots_fired" and "shots_hit"). Nil when the game reported none.
	Stats map[string]float64
	// Left is true when the player left before the end and did not
	// return, or never joined.
	Left bool
	// Standing, RatingBefore and RatingAfter are set by the store when it
	// applies the outcome (Match.Judge, RateMatch).
	Standing     Standing
	RatingBefore float64
	RatingAfter  float64
}

// PlayerMatch is one entry of a player's match history.
type PlayerMatch struct {
	MatchID   string
	Mode      string
	EndReason string
	StartedAt time.Time
	EndedAt   time.Time
	Standing  Standing
	Result    Result
}

// Standing is how a match went for one player.
type Standing int

const (
	Drew Standing = iota
	Won
	Lost
	// Void: the match does not count for the player (see Match.Judge).
	Void
)

func (s Standing) String() string {
	switch s {
	case Won:
		return "won"
	case Lost:
		return "lost"
	case Void:
		return "void"
	}
	return "drew"
}

// ParseStanding reads what Standing.String wrote.
func ParseStanding(s string) Standing {
	switch s {
	case "won":
		return Won
	case "lost":
		return Lost
	case "void":
		return Void
	}
	return Drew
}

// Limits on what an outcome may hold.
const (
	MaxIDLen          = 128
	MaxPlayersInMatch = 64
)

// Validate checks an outcome before a store applies it.
func (m Match) Validate() error {
	if err := ValidID("match id", m.ID); err != nil {
		return err
	}
	if err := validText("mode", m.Mode, MaxIDLen); err != nil {
		return Errorf(ErrInvalid, "match %q: %v", m.ID, err)
	}
	if len(m.Players) == 0 {
		return Errorf(ErrInvalid, "match %q has no players", m.ID)
	}
	if len(m.Players) > MaxPlayersInMatch {
		return Errorf(ErrInvalid, "match %q has %d players, more than %d", m.ID, len(m.Players), MaxPlayersInMatch)
	}
	seen := make(map[string]bool, len(m.Players))
	for _, p := range m.Players {
		if err := ValidID("player id", p.PlayerID); err != nil {
			return err
		}
		if seen[p.PlayerID] {
			return Errorf(ErrInvalid, "match %q lists player %q twice", m.ID, p.PlayerID)
		}
		seen[p.PlayerID] = true
		if p.Placement < 0 {
			return Errorf(ErrInvalid, "match %q: player %q has a negative placement", m.ID, p.PlayerID)
		}
		if err := ValidateStats(p.Stats); err != nil {
			return Errorf(ErrInvalid, "match %q: player %q: %v", m.ID, p.PlayerID, err)
		}
	}
	return nil
}

// ValidID checks an id (a match's, a player's) that names what, for the
// message: 1 to MaxIDLen bytes of UTF-8 without NUL. An error wraps
// ErrInvalid.
func ValidID(what, id string) error {
	if id == "" {
		return Errorf(ErrInvalid, "%s is missing", what)
	}
	return validText(what, id, MaxIDLen)
}

// validText checks text a store keeps: at most max bytes of UTF-8 without
// NUL, which PostgreSQL's text cannot hold (SQLite takes both, so a rule
// the stores share is checked here). An error wraps ErrInvalid.
func validText(what, s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return Errorf(ErrInvalid, "%s must be at most %d bytes of UTF-8 without NUL", what, max)
	}
	return nil
}
