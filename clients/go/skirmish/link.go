package skirmish

import (
	"bytes"
	"context"
	"fmt"
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
	// WriteMessage sends one encoded ClientMessage reliably.
	WriteMessage(b []byte) error
	// WriteDatagram sends one where loss is fine (acks, pings); links
	// without datagrams send it reliably.
	WriteDatagram(b []byte) error
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
	conn, resp, err := d.DialContext(ctx, a.GetWebsocketUrl(), opts.Header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", a.GetWebsocketUrl(), err)
	}
	conn.SetReadLimit(maxFrame)
	return &wsLink{c: conn}, nil
}

// WriteMessage sends b. The write deadline is defaultCallTimeout from the
// last time it moved, which is at most a second ago.
func (l *wsLink) WriteMessage(b []byte) error {
	if now := time.Now(); now.Sub(l.deadlineSet) > time.Second {
		l.c.SetWriteDeadline(now.Add(defaultCallTimeout))
		l.deadlineSet = now
	}
	return l.c.WriteMessage(websocket.BinaryMessage, b)
}

func (l *wsLink) WriteDatagram(b []byte) error { return l.WriteMessage(b) }

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
