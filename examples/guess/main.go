// Command guess is a gameserver for one small game, Guess the Number,
// written against Skirmish's public APIs only: the game is this package's
// game.go, and main is one line. It takes every flag of `skirmish
// gameserver` (go run ./examples/guess -h) plus the game's own.
// docs/writing-a-game.md walks through it.
package main

import "github.com/skirmishgg/skirmish/gameserver/host"

func main() {
	host.Main(&Game{})
}
