package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/skirmishgg/skirmish/gameserver/agones"
)

// Port names the Fleet gives the gameserver's ports (ops/k8s/agones).
const (
	agonesWebSocketPort    = "ws"
	agonesWebTransportPort = "wt"
)

// agonesFlags switch the gameserver's Agones mode.
type agonesFlags struct {
	mode string
}

func (a *agonesFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.mode, "agones", "auto", "run under Agones through the SDK sidecar's REST API on localhost:$"+agones.PortEnv+
		" (default 9358): on, off, or auto (on when "+agones.PortEnv+" is set, as Agones sets it)")
}

func (a *agonesFlags) validate() error { return oneOf("agones", a.mode, "auto", "on", "off") }

// enabled reports whether Agones mode is on, given the environment.
func (a *agonesFlags) enabled(getenv func(string) string) bool {
	return a.mode == "on" || a.mode == "auto" && agones.Present(getenv)
}

// setupAgones, in Agones mode, reads the GameServer from the sidecar
// (waiting for it, with backoff) and points the URLs players are sent to
// at the GameServer's address and host ports instead of the configured
// ones. It returns the driver that runs the lifecycle, or nil when Agones
// mode is off.
func setupAgones(ctx context.Context, a *agonesFlags, g *gameserverFlags, log *slog.Logger) (*agones.Driver, error) {
	if !a.enabled(os.Getenv) {
		return nil, nil
	}
	addr, err := agones.SidecarAddr(os.Getenv)
	if err != nil {
		return nil, settingError("agones", "%v", err)
	}
	drv, err := agones.New(agones.Config{Capacity: g.capacity}, agones.NewClient(addr, nil), log.With("part", "agones"))
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
		return nil, settingError("agones", "%v", err)
	}
	g.publicURL = "ws://" + ws + "/ws"
	if g.web.wtAddr != "" {
		wt, err := gs.HostPort(agonesWebTransportPort)
		if err != nil {
			return nil, settingError("agones", "%v", err)
		}
		g.web.wtURL = "https://" + wt + "/wt"
		g.web.publicHost = gs.Status.Address
	}
	log.Info("agones: advertising the GameServer's address", "websocket", g.publicURL, "webtransport", g.web.wtURL)
	return drv, nil
}
