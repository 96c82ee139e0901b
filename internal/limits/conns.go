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

// Listener wraps ln so that each peer (by Key of its address) holds at
// most perPeer connections at once, and all peers together at most total
// (0: no limit of that kind). A connection over a limit is closed as soon
// as it is accepted, before any byte of it is read. Trusted proxies are
// exempt from the per-peer limit, since many clients share them; refused,
// when set, is called for each refused connection.
func Listener(ln net.Listener, perPeer, total int, proxies Proxies, refused func()) net.Listener {
	if perPeer <= 0 && total <= 0 {
		return ln
	}
	l := &limitListener{Listener: ln, peers: NewPeerConns(perPeer), proxies: proxies, refused: refused}
	if total > 0 {
		l.total = make(chan struct{}, total)
	}
	return l
}

type limitListener struct {
	net.Listener
	peers   *PeerConns
	proxies Proxies
	total   chan struct{}
	refused func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.total != nil {
			select {
			case l.total <- struct{}{}:
			default:
				l.refuse(c)
				continue
			}
		}
		key := ""
		if a := AddrOf(c.RemoteAddr().String()); !l.proxies.Trusted(a) {
			key = Key(a)
			if !l.peers.Acquire(key) {
				if l.total != nil {
					<-l.total
				}
				l.refuse(c)
				continue
			}
		}
		return &limitConn{Conn: c, l: l, key: key}, nil
	}
}

func (l *limitListener) refuse(c net.Conn) {
	c.Close()
	if l.refused != nil {
		l.refused()
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	key  string
	once sync.Once
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
	c.once.Do(func() {
		if c.key != "" {
			c.l.peers.Release(c.key)
		}
		if c.l.total != nil {
			<-c.l.total
		}
	})
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
