package matchmaker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// h2Preface is how every HTTP/2 connection opens (RFC 9113, section 3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sniffTimeout bounds how long a new connection may take to send its first
// bytes.
const sniffTimeout = 10 * time.Second

// splitListener sorts the connections of one port by their first bytes:
// those that open with the HTTP/2 client preface (gRPC clients, grpcurl,
// any prior-knowledge h2c client) go to h2, served by grpc.Server.Serve,
// which is much faster than grpc.Server.ServeHTTP behind net/http; all
// others (HTTP/1.1: browsers' Connect and gRPC-Web calls, /metrics) go to
// h1, served by net/http. Browsers never speak cleartext HTTP/2, so only
// non-browser clients that force h2c for Connect or gRPC-Web lose.
type splitListener struct {
	ln     net.Listener
	h1, h2 *chanListener
	wg     sync.WaitGroup
}

func newSplitListener(ln net.Listener) *splitListener {
	mk := func() *chanListener {
		return &chanListener{conns: make(chan net.Conn), closed: make(chan struct{}), addr: ln.Addr()}
	}
	return &splitListener{ln: ln, h1: mk(), h2: mk()}
}

// run accepts until the listener is closed, then waits for the
// connections being sniffed.
func (s *splitListener) run() {
	defer s.wg.Wait()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.wg.Go(func() { s.sort(c) })
	}
}

func (s *splitListener) sort(c net.Conn) {
	preface := []byte(h2Preface)
	buf := make([]byte, len(preface))
	c.SetReadDeadline(time.Now().Add(sniffTimeout))
	n, err := io.ReadFull(c, buf)
	c.SetReadDeadline(time.Time{})
	if err != nil && n == 0 {
		c.Close()
		return
	}
	to := s.h1
	if bytes.Equal(buf[:n], preface) {
		to = s.h2
	}
	pc := &peekedConn{Conn: c, head: buf[:n]}
	select {
	case to.conns <- pc:
	case <-to.closed:
		c.Close()
	}
}

// close closes the port; run returns once the connections being sorted
// are handed over or closed. Close h1 and h2 first.
func (s *splitListener) close() error {
	return s.ln.Close()
}

// chanListener hands out the connections splitListener sorted to it.
type chanListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// peekedConn replays the bytes read while sniffing.
type peekedConn struct {
	net.Conn
	head []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
