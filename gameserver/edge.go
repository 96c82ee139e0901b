package gameserver

import (
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/limits"
)

// Edge bounds the connections of the public port. Zero fields take the
// defaults shown.
type Edge struct {
	// ConnsPerPeer is the most TCP connections one peer (an IPv4 address
	// or an IPv6 /64) holds at once (DefaultPeerConns); trusted proxies
	// are exempt. MaxConns bounds all connections (Capacity x 2 + 256).
	// Negative: no limit.
	ConnsPerPeer, MaxConns int
	// Proxies are the reverse proxies whose X-Forwarded-For is believed
	// (for WebSocket's per-peer limits and logs).
	Proxies limits.Proxies
}

// DefaultPeerConns is the default bound on one address's connections:
// many players share an address behind a carrier NAT, a school or a LAN
// party (each holds one connection, two while it reconnects), while one
// host opening thousands is stopped.
const DefaultPeerConns = 256

func (e *Edge) fill() {
	if e.ConnsPerPeer == 0 {
		e.ConnsPerPeer = DefaultPeerConns
	}
}

type edgeMetrics struct {
	refused prometheus.Counter
}

func newEdgeMetrics(reg prometheus.Registerer) *edgeMetrics {
	m := &edgeMetrics{refused: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "skirmish_gameserver_refused_connections_total",
		Help: "Connections to the public port closed at once: their peer, or all peers together, held the most allowed.",
	})}
	reg.MustRegister(m.refused)
	return m
}

// publicListener bounds the connections of the public port.
func (s *Server) publicListener(ln net.Listener) net.Listener {
	total := s.cfg.Edge.MaxConns
	if total == 0 {
		total = 2*s.cfg.Capacity + 256
	}
	return limits.Listener(ln, s.cfg.Edge.ConnsPerPeer, total, s.cfg.Edge.Proxies, s.edge.refused.Inc)
}
