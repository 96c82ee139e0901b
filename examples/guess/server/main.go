// Command server is the gameserver of Guess the Number (package guess):
// every flag of `skirmish gameserver` (go run ./examples/guess/server -h)
// plus the game's own.
package main

import (
	"github.com/skirmishgg/skirmish/examples/guess"
	"github.com/skirmishgg/skirmish/gameserver/host"
)

func main() {
	host.Main(&guess.Game{})
}
