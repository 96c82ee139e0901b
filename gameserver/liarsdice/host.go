package liarsdice

import (
	"flag"
	"fmt"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// Game is Liar's Dice as a gameserver hosts it (gameserver/host.Game):
// its settings as flags named dice-*, and its one mode, "dice".
type Game struct {
	// Config tunes the game; values set before Flags are the flags'
	// defaults.
	Config Config
}

// Flags registers --dice-turn-time (SKIRMISH_DICE_TURN_TIME), how long a
// player has to bid or call before the server plays for them, and
// --dice-count (SKIRMISH_DICE_COUNT), each player's dice at the start.
func (g *Game) Flags(fs *flag.FlagSet) {
	def := g.Config.withDefaults()
	fs.DurationVar(&g.Config.TurnTime, "dice-turn-time", def.TurnTime, "Liar's Dice: time a player has to act before the server plays for them")
	fs.IntVar(&g.Config.Dice, "dice-count", def.Dice, "Liar's Dice: each player's dice at the start (at most 8)")
}

// Modes returns the "dice" mode for the settings; a turn shorter than a
// second or a dice count outside 1 to 8 is an error naming the flag.
func (g *Game) Modes() ([]game.Mode, error) {
	if g.Config.TurnTime < time.Second {
		return nil, fmt.Errorf("--dice-turn-time: must be at least 1s, got %s", g.Config.TurnTime)
	}
	if g.Config.Dice < 1 || g.Config.Dice > MaxDice {
		return nil, fmt.Errorf("--dice-count: must be between 1 and %d, got %d", MaxDice, g.Config.Dice)
	}
	return Modes(g.Config), nil
}
