package main

import (
	"flag"
	"fmt"
	"testing"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/internal/gameservercmd"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// TestDefaultModesHosted: every mode the matchmaker queues by default is
// hosted by this binary's games, in every size of match the matchmaker
// may form, with the teams it numbers. A mode missing here is a match the
// matchmaker allocates, the gameserver refuses, and the tickets are
// requeued forever ("team4" was, until Arena hosted it).
func TestDefaultModesHosted(t *testing.T) {
	gs := hosted(games())
	fs := flag.NewFlagSet("gameserver", flag.ContinueOnError)
	for _, g := range gs {
		g.Flags(fs)
	}
	if err := fs.Parse(nil); err != nil { // the games' default settings
		t.Fatal(err)
	}
	modes, err := gameservercmd.Modes(gs)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := game.NewRegistry(modes...)
	if err != nil {
		t.Fatal(err)
	}
	for name, mm := range matchmaker.DefaultModes() {
		md, err := reg.Lookup(name)
		if err != nil {
			t.Errorf("matchmaker mode %q: %v", name, err)
			continue
		}
		for _, k := range mm.MatchSizes() {
			seats := make([]game.Seat, k)
			for i := range seats {
				// Numbered from 1: each player alone, or k/Teams a team.
				team := i + 1
				if mm.TeamSize > 1 {
					team = i%mm.Teams + 1
				}
				seats[i] = game.Seat{PlayerID: fmt.Sprintf("p%d", i), Team: uint32(team)}
			}
			if err := md.CheckSeats(seats); err != nil {
				t.Errorf("mode %q, a match of %d: %v", name, k, err)
			}
		}
	}
}
