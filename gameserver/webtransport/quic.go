package webtransport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/skirmishgg/skirmish/internal/limits"
)

// The QUIC connections themselves are bounded here, below HTTP/3: the
// server owns the quic.Transport, so a connection takes a slot (per peer
// and in all, limits.Conns) from its first packet, before the handshake,
// and one over a bound is refused with CONNECTION_REFUSED before it costs
// a handshake. A connection that holds no WebTransport session for
// JoinTimeout is closed, whatever keep-alives it sends.

// errTooManyConns is why quic-go refuses a connection over a bound.
var errTooManyConns = errors.New("webtransport: too many QUIC connections")

// noSessionCode closes a connection that held no session for JoinTimeout:
// H3_NO_ERROR, as an HTTP/3 server closes an idle connection.
const noSessionCode = quic.ApplicationErrorCode(http3.ErrCodeNoError)

// connKey holds a connection's *connState in its context.
type connKey struct{}

// connState is what the server keeps of one QUIC connection from its first
// packet to its close: how many sessions it holds, and the timer that
// closes it after JoinTimeout without one.
type connState struct {
	timeout time.Duration

	mu       sync.Mutex
	sessions int
	idle     *time.Timer // nil until the connection is accepted
	closed   bool
}

// connContext is quic.Transport.ConnContext: it takes the connection's
// slot, or refuses the connection, and gives the slot back when the
// connection ends, however it ends (quic-go cancels ctx then, also when
// the handshake fails).
func (s *Server) connContext(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
	release, ok := s.conns.Acquire(udpAddr(info.RemoteAddr))
	if !ok {
		if s.cfg.Refused != nil {
			s.cfg.Refused()
		}
		return nil, errTooManyConns
	}
	s.open.Add(1)
	st := &connState{timeout: s.cfg.JoinTimeout}
	context.AfterFunc(ctx, func() {
		st.stop()
		s.open.Add(-1)
		release()
	})
	return context.WithValue(ctx, connKey{}, st), nil
}

// verifySource is quic.Transport.VerifySourceAddress: once the peer, or
// all peers, hold half their bound, a new connection first proves its
// address with a Retry (RFC 9000 §8.1.2), so that packets with spoofed
// source addresses cannot take the slots that are left.
func (s *Server) verifySource(a net.Addr) bool {
	return s.conns.Crowded(udpAddr(a))
}

// udpAddr is the IP address of a UDP peer.
func udpAddr(a net.Addr) netip.Addr {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort().Addr().Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	return limits.AddrOf(a.String())
}

// accept hands each accepted connection to srv, after starting its timer,
// until ln is closed; wg counts the connections being served.
func (s *Server) accept(ln *quic.EarlyListener, srv *wt.Server, wg *sync.WaitGroup) error {
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			return err
		}
		if st, ok := conn.Context().Value(connKey{}).(*connState); ok {
			st.start(conn)
		}
		wg.Go(func() {
			if err := srv.ServeQUICConn(conn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Debug("webtransport connection", "err", err)
			}
		})
	}
}

// holdSession marks a request for a session on r's connection: while it
// runs, the connection is not closed for holding none. done ends it.
func holdSession(r *http.Request) (done func()) {
	st, ok := r.Context().Value(connKey{}).(*connState)
	if !ok {
		return func() {}
	}
	st.mu.Lock()
	st.sessions++
	if st.idle != nil {
		st.idle.Stop()
	}
	st.mu.Unlock()
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.sessions--
		if st.sessions == 0 && st.idle != nil && !st.closed {
			st.idle.Reset(st.timeout)
		}
	}
}

// start begins the accepted connection's wait for a session.
func (st *connState) start(conn *quic.Conn) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.idle = time.AfterFunc(st.timeout, func() {
		st.mu.Lock()
		idle := st.sessions == 0 && !st.closed
		st.mu.Unlock()
		if idle {
			conn.CloseWithError(noSessionCode, "no WebTransport session within the join timeout")
		}
	})
	if st.sessions > 0 {
		st.idle.Stop()
	}
}

// stop ends the wait when the connection closes.
func (st *connState) stop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	if st.idle != nil {
		st.idle.Stop()
	}
}
