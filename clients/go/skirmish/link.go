package skirmish

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Transport names a way to reach a gameserver.
type Transport string

// Transports the SDK speaks.
const (
	// TransportWebSocket is one WebSocket per player, every message a
	// binary frame. The zero value means it.
	TransportWebSocket Transport = ""
	// TransportWebTransport is a WebTransport session: a reliable control
	// stream plus datagrams for snapshots, acks and pings.
	TransportWebTransport Transport = "webtransport"
)

// ParseTransport accepts "websocket", "ws", "webtransport" and "wt".
func ParseTransport(s string) (Transport, error) {
	switch s {
	case "", "websocket", "ws":
		return TransportWebSocket, nil
	case "webtransport", "wt":
		return TransportWebTransport, nil
	}
	return "", fmt.Errorf("unknown transport %q: want websocket or webtransport", s)
}

func (t Transport) String() string {
	if t == TransportWebSocket {
		return "websocket"
	}
	return string(t)
}

// link is one connection to a gameserver as a Game uses it. Writes are
// serialised by the Game; ReadMessage is called from one goroutine.
type link interface {
	// WriteMessage sends one encoded ClientMessage reliably. now is the
	// time of the call, which the caller has at hand: the link moves its
	// write deadline by it.
	WriteMessage(b []byte, now time.Time) error
	// WriteDatagram sends one where loss is fine (acks, pings); links
	// without datagrams send it reliably.
	WriteDatagram(b []byte, now time.Time) error
	// ReadMessage returns the next encoded ServerMessage, which may be
	// overwritten by the next call.
	ReadMessage() ([]byte, error)
	SetReadDeadline(t time.Time) error
	// CloseGracefully tells the server the player is closing.
	CloseGracefully()
	Close() error
	// NormalClose reports whether err from ReadMessage is a normal end.
	NormalClose(err error) bool
}

// wsLink is a WebSocket connection. Its write state is guarded by the
// Game's writeMu, its read buffer used by the one reading goroutine.
type wsLink struct {
	c *websocket.Conn
	// deadlineSet is when the write deadline was last moved: moving it
	// costs a timer update, so it moves at most once a second.
	deadlineSet time.Time
	// rbuf holds the last message read; ReadMessage reuses it.
	rbuf bytes.Buffer
}

func dialWebSocket(ctx context.Context, a *skirmishv1.Assignment, opts JoinOptions) (link, error) {
	d := opts.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	conn, resp, err := withWriteDeadlineConn(d).DialContext(ctx, a.GetWebsocketUrl(), opts.Header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", a.GetWebsocketUrl(), err)
	}
	conn.SetReadLimit(maxFrame)
	return &wsLink{c: conn}, nil
}

// withWriteDeadlineConn returns a copy of d whose connections are wrapped
// in a writeDeadlineConn: what d's NetDialContext, NetDial or
// NetDialTLSContext returns, or else a TCP connection dialed as gorilla
// dials one. A proxy and TLS still go through d's settings, over the
// wrapped connection.
func withWriteDeadlineConn(d *websocket.Dialer) *websocket.Dialer {
	w := *d
	dial := d.NetDialContext
	switch {
	case dial != nil:
	case d.NetDial != nil:
		dial = func(_ context.Context, network, addr string) (net.Conn, error) { return d.NetDial(network, addr) }
	default:
		var nd net.Dialer
		dial = nd.DialContext
	}
	w.NetDialContext = wrapWriteDeadline(dial)
	if d.NetDialTLSContext != nil {
		w.NetDialTLSContext = wrapWriteDeadline(d.NetDialTLSContext)
	}
	return &w
}

func wrapWriteDeadline(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &writeDeadlineConn{Conn: c}, nil
	}
}

// writeDeadlineConn is the connection under a WebSocket. gorilla sets the
// write deadline before every write, to the time last given to
// Conn.SetWriteDeadline, which wsLink moves at most once a second; moving
// a deadline costs the runtime a timer update, so writeDeadlineConn
// forwards only a time other than the one in force. gorilla sets it under
// its write lock, but a tls.Conn over this one sets it too when it closes,
// from the closing goroutine, hence mu.
type writeDeadlineConn struct {
	net.Conn
	mu sync.Mutex
	// write is the write deadline in force when known is set.
	write time.Time
	known bool
}

func (c *writeDeadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The same value, monotonic reading and all, as gorilla passes on
	// the one it was given.
	if c.known && t == c.write {
		return nil
	}
	return c.moved(t, c.Conn.SetWriteDeadline(t))
}

func (c *writeDeadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.moved(t, c.Conn.SetDeadline(t))
}

// moved records t as the write deadline in force, unless setting it failed
// (err). c.mu is held.
func (c *writeDeadlineConn) moved(t time.Time, err error) error {
	c.write, c.known = t, err == nil
	return err
}

// WriteMessage sends b. The write deadline is defaultCallTimeout from the
// last time it moved, which is at most a second before now.
func (l *wsLink) WriteMessage(b []byte, now time.Time) error {
	if now.Sub(l.deadlineSet) > time.Second {
		l.c.SetWriteDeadline(now.Add(defaultCallTimeout))
		l.deadlineSet = now
	}
	return l.c.WriteMessage(websocket.BinaryMessage, b)
}

func (l *wsLink) WriteDatagram(b []byte, now time.Time) error { return l.WriteMessage(b, now) }

// ReadMessage returns the next message, in a buffer that the next call
// reuses: the caller decodes it (decoding copies what it keeps) before
// reading again.
func (l *wsLink) ReadMessage() ([]byte, error) {
	_, r, err := l.c.NextReader()
	if err != nil {
		return nil, err
	}
	l.rbuf.Reset()
	if _, err := l.rbuf.ReadFrom(r); err != nil {
		return nil, err
	}
	return l.rbuf.Bytes(), nil
}

func (l *wsLink) SetReadDeadline(t time.Time) error { return l.c.SetReadDeadline(t) }

func (l *wsLink) CloseGracefully() {
	_ = l.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

func (l *wsLink) Close() error { return l.c.Close() }

func (l *wsLink) NormalClose(err error) bool {
	return websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway)
}
