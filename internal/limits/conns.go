package limits

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// PeerConns counts what each peer key holds open (connections, streams)
// and refuses more than a maximum per peer. Entries exist only while a
// peer holds something, so the table is bounded by what is open. Safe for
// concurrent use. A nil *PeerConns allows everything.
type PeerConns struct {
	max int

	mu   sync.Mutex
	open map[string]int
}

// NewPeerConns returns a counter allowing max at once per peer; max <= 0
// returns nil: no limit.
func NewPeerConns(max int) *PeerConns {
	if max <= 0 {
		return nil
	}
	return &PeerConns{max: max, open: make(map[string]int)}
}

// Acquire takes one for key, or reports false when the peer holds max.
func (p *PeerConns) Acquire(key string) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[key] >= p.max {
		return false
	}
	p.open[key]++
	return true
}

// Release gives back one that Acquire took for key.
func (p *PeerConns) Release(key string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.open[key] - 1; n > 0 {
		p.open[key] = n
	} else {
		delete(p.open, key)
	}
}

// Open reports how many key holds.
func (p *PeerConns) Open(key string) int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open[key]
}

// Conns bounds the connections of one listener, whatever carries them (a
// TCP listener, a QUIC transport): each peer (by Key of its address) holds
// at most perPeer at once, and all peers together at most total. Trusted
// proxies are exempt from the per-peer bound, since many clients share
// them. Safe for concurrent use. A nil *Conns allows everything.
type Conns struct {
	peers   *PeerConns
	proxies Proxies
	total   chan struct{} // one token per open connection; nil: no bound
}

// NewConns returns the bounds; perPeer or total <= 0 leaves that kind
// unbounded, both: nil.
func NewConns(perPeer, total int, proxies Proxies) *Conns {
	if perPeer <= 0 && total <= 0 {
		return nil
	}
	c := &Conns{peers: NewPeerConns(perPeer), proxies: proxies}
	if total > 0 {
		c.total = make(chan struct{}, total)
	}
	return c
}

// Acquire takes a slot for a connection from a, or reports false when a's
// peer, or all peers, hold their bound. release gives the slot back; it is
// safe to call more than once and from any goroutine.
func (c *Conns) Acquire(a netip.Addr) (release func(), ok bool) {
	if c == nil {
		return func() {}, true
	}
	if c.total != nil {
		select {
		case c.total <- struct{}{}:
		default:
			return nil, false
		}
	}
	key := ""
	if !c.proxies.Trusted(a) {
		key = Key(a)
		if !c.peers.Acquire(key) {
			if c.total != nil {
				<-c.total
			}
			return nil, false
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if key != "" {
				c.peers.Release(key)
			}
			if c.total != nil {
				<-c.total
			}
		})
	}, true
}

// Open reports how many connections are open in all (0 when total is not
// bounded).
func (c *Conns) Open() int {
	if c == nil || c.total == nil {
		return 0
	}
	return len(c.total)
}

// Crowded reports whether a's peer holds half its bound or more, or all
// peers together half theirs: the point where a server should ask new
// connections to prove their address before they take a slot (a QUIC
// Retry), so that spoofed addresses cannot fill what is left.
func (c *Conns) Crowded(a netip.Addr) bool {
	if c == nil {
		return false
	}
	if c.total != nil && 2*len(c.total) >= cap(c.total) {
		return true
	}
	return c.peers != nil && !c.proxies.Trusted(a) && 2*c.peers.Open(Key(a)) >= c.peers.max
}

// Listener wraps ln so that each peer (by Key of its address) holds at
// most perPeer connections at once, and all peers together at most total
// (0: no limit of that kind), as Conns counts them. A connection over a
// limit is closed as soon as it is accepted, before any byte of it is
// read. Trusted proxies are exempt from the per-peer limit; refused, when
// set, is called for each refused connection.
func Listener(ln net.Listener, perPeer, total int, proxies Proxies, refused func()) net.Listener {
	conns := NewConns(perPeer, total, proxies)
	if conns == nil {
		return ln
	}
	return &limitListener{Listener: ln, conns: conns, refused: refused}
}

type limitListener struct {
	net.Listener
	conns   *Conns
	refused func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, ok := l.conns.Acquire(AddrOf(c.RemoteAddr().String()))
		if !ok {
			c.Close()
			if l.refused != nil {
				l.refused()
			}
			continue
		}
		return &limitConn{Conn: c, release: release}, nil
	}
}

type limitConn struct {
	net.Conn
	release func()
}

// SyscallConn exposes the connection's file descriptor, where it has one,
// so that a WebSocket can write to it without blocking (gameserver/ws).
func (c *limitConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("connection has no file descriptor")
	}
	return sc.SyscallConn()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// ErrTooMany is what a per-peer limit answers with when refused.
var ErrTooMany = errors.New("too many at once from this address")

// AddrKey is Key of the address in a net.Addr's String form.
func AddrKey(a net.Addr) string {
	if a == nil {
		return Key(netip.Addr{})
	}
	return Key(AddrOf(a.String()))
}
