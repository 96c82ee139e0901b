// Package gameservercmd is the gameserver command behind `skirmish
// gameserver`, `skirmish dev` and the public composition root
// gameserver/host: its settings as flags (and SKIRMISH_* environment
// variables) and the process they assemble: the outcome outbox, its
// publisher to the match-outcome queue, the gameserver with its WebSocket
// and WebTransport transports and metrics, and Agones mode.
//
// It knows no game: the modes come from the caller.
package gameservercmd

import (
	"flag"
	"time"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/internal/cli"
)

// Flags are the settings of a gameserver.
type Flags struct {
	Addr           string
	InternalAddr   string
	PublicURL      string
	ControlAddress string
	// Matchmaker is the matchmaker's internal gRPC address; only `skirmish
	// gameserver` has a flag for it (RegisterStandalone), `skirmish dev`
	// sets it to its own matchmaker.
	Matchmaker   string
	ID           string
	Region       string
	Capacity     int
	DrainTimeout time.Duration
	OutboxPath   string
	Web          WebFlags    // WebTransport and the browser page (web.go)
	Agones       AgonesFlags // Agones mode (agones.go)
	prefix       string
}

// Register registers the gameserver settings on fs. prefix starts the
// name of each listener and identity flag ("gameserver-" in `skirmish
// dev`, where other parts listen too); addr is the default --addr, drain
// the default --drain-timeout.
func (g *Flags) Register(fs *flag.FlagSet, prefix, addr string, drain time.Duration) {
	fs.StringVar(&g.Addr, prefix+"addr", addr, "gameserver listen address for players (WebSocket, the browser game, health)")
	cli.RegisterInternalAddr(fs, &g.InternalAddr, prefix, cli.GameserverInternalAddr, "RoomService gRPC for the matchmaker, ")
	fs.StringVar(&g.PublicURL, prefix+"public-url", "", "WebSocket URL players are sent to (default ws://<addr>/ws)")
	fs.StringVar(&g.ControlAddress, prefix+"control-address", "", "host:port the matchmaker dials for RoomService (default <internal-addr>)")
	fs.StringVar(&g.ID, prefix+"id", "", "gameserver id (default the host name)")
	fs.StringVar(&g.Region, prefix+"region", "local", "region reported to the matchmaker")
	fs.IntVar(&g.Capacity, prefix+"capacity", 1000, "most players hosted at once")
	fs.DurationVar(&g.DrainTimeout, "drain-timeout", drain, "on shutdown, how long running matches may go on")
	fs.StringVar(&g.OutboxPath, "outbox-path", "", "match outcome outbox file (default <data-dir>/outbox.db)")
	g.prefix = prefix
	g.Web.register(fs, prefix, addr)
}

// RegisterStandalone registers the settings of a gameserver run on its
// own (`skirmish gameserver`, gameserver/host): --matchmaker, the
// registry it registers with, and --agones.
func (g *Flags) RegisterStandalone(fs *flag.FlagSet) {
	fs.StringVar(&g.Matchmaker, "matchmaker", cli.MatchmakerInternalAddr, "matchmaker internal gRPC address (its --internal-addr) to register with and report rooms to: host:port, dns:///name:port (every replica the name resolves to), or a comma-separated list of replicas; empty runs without one")
	g.Agones.register(fs)
}

// Validate checks the settings that need no I/O.
func (g *Flags) Validate() error {
	if g.Capacity <= 0 {
		return cli.SettingError(g.prefix+"capacity", "must be above 0, got %d", g.Capacity)
	}
	if g.DrainTimeout < 0 {
		return cli.SettingError("drain-timeout", "must not be negative, got %s", g.DrainTimeout)
	}
	return g.Agones.validate()
}

// config is the gameserver configuration the settings describe, before
// the browser settings (WebFlags.apply).
func (g *Flags) config() gameserver.Config {
	cfg := gameserver.Config{
		ID:             g.ID,
		Region:         g.Region,
		WebSocketURL:   g.PublicURL,
		ControlAddress: g.ControlAddress,
		MatchmakerAddr: g.Matchmaker,
		Capacity:       g.Capacity,
	}
	cfg.Rooms.DrainTimeout = g.DrainTimeout
	return cfg
}
