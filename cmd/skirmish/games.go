package main

import (
	"net/http"

	"github.com/skirmishgg/skirmish/clients/dice"
	"github.com/skirmishgg/skirmish/clients/web"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/host"
	"github.com/skirmishgg/skirmish/gameserver/liarsdice"
	"github.com/skirmishgg/skirmish/internal/gameservercmd"
)

// games are the games the skirmish binary hosts (`skirmish gameserver`,
// `skirmish dev`), each with its own flags: a game is added with one
// line here. A new value each call: a game's settings are filled by
// parsing.
func games() []host.Game {
	return []host.Game{
		&arena.Game{},
		&liarsdice.Game{},
	}
}

// page is the browser clients the gameserver serves: Arena's at /, Liar's
// Dice's at /dice/ (both read /config.json, which the gameserver serves).
func page() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.Handle("/dice/", http.StripPrefix("/dice", dice.Handler()))
	return mux
}

// hosted converts games for the gameserver command (a host.Game is one).
func hosted(gs []host.Game) []gameservercmd.Game {
	out := make([]gameservercmd.Game, len(gs))
	for i, g := range gs {
		out[i] = g
	}
	return out
}
