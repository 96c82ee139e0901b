package gameserver

import (
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	"github.com/skirmishgg/skirmish/internal/limits"
)

// Edge bounds the connections of the public ports. Zero fields take the
// defaults shown.
type Edge struct {
	// ConnsPerPeer is the most TCP connections one peer (an IPv4 address
	// or an IPv6 /64) holds at once (DefaultPeerConns); trusted proxies
	// are exempt. MaxConns bounds all connections (Capacity x 2 + 256).
	// Negative: no limit. WebTransport's QUIC connections are bounded the
	// same, counted apart (webtransport.Config.ConnsPerPeer and MaxConns
	// take these values unless set).
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

// maxConns is MaxConns, or its default for capacity seats.
func (e *Edge) maxConns(capacity int) int {
	if e.MaxConns == 0 {
		return 2*capacity + 256
	}
	return e.MaxConns
}

// bound gives WebTransport's QUIC connections the bounds of the TCP port,
// where it sets none of its own.
func (e *Edge) bound(wt *webtransport.Config, capacity int, refused func()) {
	if wt.ConnsPerPeer == 0 {
		wt.ConnsPerPeer = e.ConnsPerPeer
	}
	if wt.MaxConns == 0 {
		wt.MaxConns = e.maxConns(capacity)
	}
	if wt.Proxies.IsZero() {
		wt.Proxies = e.Proxies
	}
	if wt.Refused == nil {
		wt.Refused = refused
	}
}

type edgeMetrics struct {
	refused *prometheus.CounterVec
}

func newEdgeMetrics(reg prometheus.Registerer) *edgeMetrics {
	m := &edgeMetrics{refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skirmish_gameserver_refused_connections_total",
		Help: "Connections to the public ports refused at once, by transport (tcp: WebSocket and pages; quic: WebTransport, where each Initial packet of a refused connection counts): their peer, or all peers together, held the most allowed.",
	}, []string{"transport"})}
	m.refused.WithLabelValues("tcp")
	m.refused.WithLabelValues("quic")
	reg.MustRegister(m.refused)
	return m
}

// publicListener bounds the connections of the public port.
func (s *Server) publicListener(ln net.Listener) net.Listener {
	return limits.Listener(ln, s.cfg.Edge.ConnsPerPeer, s.cfg.Edge.maxConns(s.cfg.Capacity), s.cfg.Edge.Proxies,
		s.edge.refused.WithLabelValues("tcp").Inc)
}
