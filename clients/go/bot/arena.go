package bot

import "github.com/skirmishgg/skirmish/clients/go/skirmish"

// How the bot reads Arena entities; the layout is defined in
// gameserver/arena.
const (
	arenaKindPlayer = 1

	arenaFieldX      = 0 // x * 10
	arenaFieldY      = 1 // y * 10
	arenaFieldHealth = 3
	arenaFieldTeam   = 4
)

func arenaPos(e skirmish.Entity) (x, y float64) {
	return float64(e.Field(arenaFieldX)) / 10, float64(e.Field(arenaFieldY)) / 10
}

func arenaAlive(e skirmish.Entity) bool { return e.Field(arenaFieldHealth) > 0 }

func arenaTeam(e skirmish.Entity) int32 { return e.Field(arenaFieldTeam) }
