package main

import (
	"flag"

	"github.com/skirmishgg/skirmish/internal/limits"
)

// Default internal listeners: where each part serves /metrics, pprof,
// and its internal gRPC services (the gameserver's RoomService, the
// matchmaker's GameserverRegistryService). Loopback, so that nothing
// operational is reachable from outside unless an operator says so.
const (
	gameserverInternalAddr  = "127.0.0.1:7802"
	matchmakerInternalAddr  = "127.0.0.1:7812"
	leaderboardInternalAddr = "127.0.0.1:7822"
)

// registerInternalAddr registers --<prefix>internal-addr.
func registerInternalAddr(fs *flag.FlagSet, p *string, prefix, addr, serves string) {
	fs.StringVar(p, prefix+"internal-addr", addr, "internal listen address ("+serves+"/metrics, /debug/pprof/, /healthz, /readyz); keep it off the ports players reach")
}

// proxies parses --trusted-proxies.
func (c *common) proxies() (limits.Proxies, error) {
	p, err := limits.ParseProxies(c.trustedProxies)
	if err != nil {
		return limits.Proxies{}, settingError("trusted-proxies", "%v", err)
	}
	return p, nil
}
