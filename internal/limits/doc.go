// Package limits holds the bounds every Skirmish part puts on what a
// client controls: who a peer is (its address, or the address a trusted
// reverse proxy forwarded, keyed by /64 for IPv6 so that one host cannot
// rotate through its prefix), per-peer request rates in a table that
// evicts the least recently used peer when full, per-peer and total
// connection counts on a listener or a QUIC transport, and clipping of
// client text before it is echoed in an error or written to a log.
//
// Where things are: peer.go (addresses, keys, trusted proxies), rate.go
// (PeerRates), conns.go (PeerConns, Conns, Listener), clip.go (Clip,
// LogHandler).
package limits
