package arena

import (
	"flag"
	"fmt"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// Game is Arena as a gameserver hosts it (gameserver/host.Game): Arena's
// own setting as a flag, and its three modes.
type Game struct {
	// Config tunes Arena; a MatchDuration set before Flags is the
	// default of --match-duration.
	Config Config
}

// Flags registers --match-duration (SKIRMISH_MATCH_DURATION), the match
// time limit (default 3 minutes).
func (g *Game) Flags(fs *flag.FlagSet) {
	def := g.Config.MatchDuration
	if def <= 0 {
		def = 3 * time.Minute
	}
	fs.DurationVar(&g.Config.MatchDuration, "match-duration", def, "Arena match time limit")
}

// Modes returns Arena's modes (duel, ffa, team, team4) for the settings; a match
// shorter than a second is an error.
func (g *Game) Modes() ([]game.Mode, error) {
	if g.Config.MatchDuration < time.Second {
		return nil, fmt.Errorf("--match-duration: must be at least 1s, got %s", g.Config.MatchDuration)
	}
	return Modes(g.Config), nil
}
