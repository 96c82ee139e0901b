package host_test

import (
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/host"
)

// A gameserver binary for Arena: the whole main function. Run it with -h
// for its flags: those of `skirmish gameserver`, with Arena's
// --match-duration among them.
func Example() {
	host.Main(&arena.Game{})
}
