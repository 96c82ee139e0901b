package gameservercmd

import (
	"context"
	"flag"
	"log/slog"

	"github.com/skirmishgg/skirmish/gameserver/agones"
	"github.com/skirmishgg/skirmish/internal/cli"
)

// Port names the Fleet gives the gameserver's ports (ops/k8s/agones).
const (
	agonesWebSocketPort    = "ws"
	agonesWebTransportPort = "wt"
)

// AgonesFlags switch the gameserver's Agones mode; a gameserver whose
// flags do not include --agones (`skirmish dev`) runs without it.
type AgonesFlags struct {
	Mode       string // on, off or auto
	registered bool
}

func (a *AgonesFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.Mode, "agones", "auto", "run under Agones through the SDK sidecar's REST API on localhost:$"+agones.PortEnv+
		" (default 9358): on, off, or auto (on when "+agones.PortEnv+" is set, as Agones sets it)")
	a.registered = true
}

func (a *AgonesFlags) validate() error {
	if !a.registered {
		return nil
	}
	return cli.OneOf("agones", a.Mode, "auto", "on", "off")
}

// Enabled reports whether Agones mode is on, given the environment.
func (a *AgonesFlags) Enabled(getenv func(string) string) bool {
	return a.registered && (a.Mode == "on" || a.Mode == "auto" && agones.Present(getenv))
}

// setupAgones, in Agones mode, reads the GameServer from the sidecar
// (waiting for it, with backoff) and points the URLs players are sent to
// at the GameServer's address and host ports instead of the configured
// ones. It returns the driver that runs the lifecycle, or nil when Agones
// mode is off.
func setupAgones(ctx context.Context, g *Flags, getenv func(string) string, log *slog.Logger) (*agones.Driver, error) {
	if !g.Agones.Enabled(getenv) {
		return nil, nil
	}
	addr, err := agones.SidecarAddr(getenv)
	if err != nil {
		return nil, cli.SettingError("agones", "%v", err)
	}
	drv, err := agones.New(agones.Config{Capacity: g.Capacity}, agones.NewClient(addr, nil), log.With("part", "agones"))
	if err != nil {
		return nil, err
	}
	log.Info("agones mode: waiting for the GameServer from the SDK sidecar", "sidecar", addr)
	gs, err := drv.Public(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := gs.HostPort(agonesWebSocketPort)
	if err != nil {
		return nil, cli.SettingError("agones", "%v", err)
	}
	g.PublicURL = "ws://" + ws + "/ws"
	if g.Web.WebTransportAddr != "" {
		wt, err := gs.HostPort(agonesWebTransportPort)
		if err != nil {
			return nil, cli.SettingError("agones", "%v", err)
		}
		g.Web.WebTransportURL = "https://" + wt + "/wt"
		g.Web.publicHost = gs.Status.Address
	}
	log.Info("agones: advertising the GameServer's address", "websocket", g.PublicURL, "webtransport", g.Web.WebTransportURL)
	return drv, nil
}
