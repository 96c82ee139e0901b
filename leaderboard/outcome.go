package leaderboard

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// How a match counts (docs/match-rules.md, with examples).
//
// A recorded match always appears in match history, with its end reason
// and every player's result. Whether it changes a player's stats, rating
// and board entries follows the rules competitive players expect: a match
// that never really happened changes nothing, and a player who does not
// show up or quits is the one who loses, never the others.
//
//  1. Void matches. A match that ended with EndCancelled (the room never
//     started: too few players joined before the deadline), EndServerLost
//     (its gameserver was lost), EndShutdown (the server shut down before
//     the match could finish) or EndError (the game failed) changes no
//     stats, rating or board for anyone, not even for a no-show: every
//     player's standing is Void. The no-show's penalty for a cancelled
//     room is the matchmaker's requeue cooldown. A match in which no
//     player was present at the end is void too.
//  2. Leavers lose. In a played match, a player whose result says Left
//     (who quit and did not return, or never joined a match that started
//     without them) gets a loss: the match and a loss count in their
//     stats, their eliminations and damage count, and their rating moves
//     as a loss to every player who stayed (rule 3).
//  3. Nobody else is punished. The players present at the end are placed
//     among themselves, in the order the match gave them, and every
//     leaver is placed below all of them, whatever the leaver's score: a
//     leaver never beats or ties a player who stayed, and is beaten by
//     every one of them. So when every other team left (the match was
//     abandoned), the team that stayed wins by forfeit, and its rating
//     moves as a win over the leavers, as it would have had they lost
//     while playing. A present player whose own team lost a player keeps
//     a win, but a loss or draw of a short-handed team is Void for them:
//     no stats, rating or board change.
//
// Reasons other than the void ones (EndScoreLimit, EndTimeLimit,
// EndAbandoned, and "" from publishers that do not say) count as played.

// End reasons of a match (Match.EndReason): the names of the
// skirmish.v1.EndReason values in lower case without their END_REASON_
// prefix, so a gameserver or a matchmaker that publishes an outcome and
// this package agree on them through the proto.
const (
	EndScoreLimit = "score_limit" // a team reached the score limit
	EndTimeLimit  = "time_limit"  // the match ran its full time
	EndAbandoned  = "abandoned"   // too few players were left to go on
	EndShutdown   = "shutdown"    // the server shut down before the end
	EndCancelled  = "cancelled"   // the room never started
	EndServerLost = "server_lost" // the gameserver was lost mid-match
	EndError      = "error"       // the game failed (a panic)
)

// Played reports whether a match that ended for this reason can change
// stats, ratings and boards (rule 1).
func Played(endReason string) bool {
	switch endReason {
	case EndCancelled, EndServerLost, EndShutdown, EndError:
		return false
	}
	return true
}

// Judge returns how the match counts for each player, in the order of
// m.Players: Won, Lost or Drew when it counts, Void when it changes
// nothing for the player. See "How a match counts" above.
func (m Match) Judge() []Standing {
	out := make([]Standing, len(m.Players))
	present := 0
	for _, p := range m.Players {
		if !p.Left {
			present++
		}
	}
	if !Played(m.EndReason) || present == 0 {
		for i := range out {
			out[i] = Void
		}
		return out
	}
	eff := m.presentPlacements()
	short := map[int64]bool{}        // teams that lost a player
	presentTeams := map[int64]bool{} // teams with a player present
	worst := int64(0)                // the lowest placement of a present player
	for i, p := range m.Players {
		if p.Left {
			short[p.Team] = true
			continue
		}
		presentTeams[p.Team] = true
		worst = max(worst, eff[i])
	}
	gone := 0 // teams that left entirely
	for t := range short {
		if !presentTeams[t] {
			gone++
		}
	}
	forfeit := len(presentTeams) == 1 && gone > 0
	for i, p := range m.Players {
		switch {
		case p.Left:
			out[i] = Lost
		case forfeit:
			out[i] = Won
		case eff[i] > 1:
			out[i] = Lost
		case eff[i] == 1 && worst > 1:
			out[i] = Won
		default:
			out[i] = Drew // everyone present placed alike, or unplaced
		}
		if !p.Left && short[p.Team] && out[i] != Won {
			out[i] = Void
		}
	}
	return out
}

// presentPlacements returns each player's placement among the players
// present at the end (dense: present placements 1, 3, 3 become 1, 2, 2),
// with every leaver placed after all of them; unplaced present players
// stay 0.
func (m Match) presentPlacements() []int64 {
	var distinct []int64
	for _, p := range m.Players {
		if !p.Left && p.Placement > 0 && !slices.Contains(distinct, p.Placement) {
			distinct = append(distinct, p.Placement)
		}
	}
	slices.Sort(distinct)
	out := make([]int64, len(m.Players))
	for i, p := range m.Players {
		switch {
		case p.Left:
			out[i] = int64(len(distinct)) + 1
		case p.Placement > 0:
			out[i] = int64(slices.Index(distinct, p.Placement)) + 1
		}
	}
	return out
}

// RateMatch computes, with SkirmishParams, every player's rating after the
// match by the rules above, from the ratings before it (players missing
// from before are new): void players keep theirs; the others are rated
// with the present players placed among themselves and every leaver
// placed below all of them, as a team of its own per original team.
func RateMatch(m Match, before map[string]Rating) map[string]Rating {
	return SkirmishParams.RateMatch(m, before)
}

// RateMatch is the package-level RateMatch with these parameters.
func (p RatingParams) RateMatch(m Match, before map[string]Rating) map[string]Rating {
	standings := m.Judge()
	eff := m.presentPlacements()
	judged := Match{Players: make([]Result, len(m.Players))}
	for i, pl := range m.Players {
		r := Result{PlayerID: pl.PlayerID, Team: pl.Team, Placement: eff[i]}
		if pl.Left {
			r.Team = -1 - pl.Team // never with a teammate who stayed
		}
		judged.Players[i] = r
	}
	rated := p.Rate(judged, before)
	after := make(map[string]Rating, len(m.Players))
	for i, pl := range m.Players {
		if standings[i] == Void {
			after[pl.PlayerID] = p.rating(before, pl.PlayerID)
		} else {
			after[pl.PlayerID] = rated[pl.PlayerID]
		}
	}
	return after
}

// Limits on the stats of one player's result (Result.Stats).
const (
	MaxStatsPerPlayer = 32
	// MaxStatValue bounds a stat's magnitude: sums of 2^53 / 1e15 = 9
	// such values stay exact in a float64.
	MaxStatValue = 1e15
)

// ValidStatName checks a stat's name: 1 to MaxNameLen bytes of lower-case
// ASCII letters, digits and '_', starting with a letter
// ("eliminations", "best_lap_ms").
func ValidStatName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("stat name %q must be 1 to %d bytes", clip(name), MaxNameLen)
	}
	for i, r := range name {
		if 'a' <= r && r <= 'z' || i > 0 && ('0' <= r && r <= '9' || r == '_') {
			continue
		}
		return fmt.Errorf("stat name %q must be lower_snake_case: a lower-case letter, then lower-case letters, digits or '_'", clip(name))
	}
	return nil
}

// ValidModeName checks the name of a mode or a rating pool: 1 to
// MaxNameLen bytes of ASCII letters, digits, '-', '_' or '.'.
func ValidModeName(name string) error {
	if name == "" || len(name) > MaxNameLen || strings.ContainsFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return fmt.Errorf("%q must be 1 to %d ASCII letters, digits, '-', '_' or '.'", clip(name), MaxNameLen)
	}
	return nil
}

// ValidateStats checks one player's stats as a game reported them: at most
// MaxStatsPerPlayer, each named by ValidStatName and not a builtin stat
// (BuiltinStat), each value finite and within ±MaxStatValue.
func ValidateStats(stats map[string]float64) error {
	if len(stats) > MaxStatsPerPlayer {
		return fmt.Errorf("%d stats, more than %d", len(stats), MaxStatsPerPlayer)
	}
	for name, v := range stats {
		if err := ValidStatName(name); err != nil {
			return err
		}
		if BuiltinStat(name) {
			return fmt.Errorf("stat %q is reserved for the leaderboard's own figures (wins, losses, matches, rating)", name)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("stat %q is %v, not a finite number", name, v)
		}
		if math.Abs(v) > MaxStatValue {
			return fmt.Errorf("stat %q is %g, beyond ±%g", name, v, float64(MaxStatValue))
		}
	}
	return nil
}

// clip shortens a name quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
