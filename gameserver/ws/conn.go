package ws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/wire"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// conn adapts a WebSocket connection to room.Transport.
type conn struct {
	ws      *websocket.Conn
	cfg     *Config
	closing atomic.Bool
	buf     bytes.Buffer
	// readDeadlineSet and writeDeadlineSet are when the idle read
	// deadline and the write deadline were last moved.
	readDeadlineSet, writeDeadlineSet time.Time
	// limit bounds the frames read, of every kind (nil: no bound).
	limit *rate.Limiter
}

// errTooFast ends a connection whose control frames (pings, pongs) come
// faster than its message bound.
var errTooFast = errors.New("websocket: control frames over the message rate")

// allow takes one frame from the connection's message bound.
func (c *conn) allow() bool { return c.limit == nil || c.limit.Allow() }

// guardControlFrames counts the player's pings and close frames against
// the message bound; a flood of them ends the connection (the read
// returns an error). Pings get gorilla's usual pong answer.
func (c *conn) guardControlFrames() {
	c.ws.SetPingHandler(func(data string) error {
		if !c.allow() {
			return errTooFast
		}
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
}

var (
	_ room.Transport = (*conn)(nil)
	_ room.Aborter   = (*conn)(nil)
)

// Abort drops the TCP connection at once: a Write blocked on a player who
// stopped reading returns, and so does the reading side.
func (c *conn) Abort() { c.ws.NetConn().Close() }

// read returns the next client message. A frame the server rejects yields
// a *wire.Reject; any other error means the connection is over.
func (c *conn) read() (*skirmishv1.ClientMessage, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	if !c.closing.Load() {
		moveDeadline(&c.readDeadlineSet, c.cfg.IdleTimeout, c.ws.SetReadDeadline)
	}
	if !c.allow() {
		return nil, wire.TooFast()
	}
	if typ != websocket.BinaryMessage {
		return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, Text: "frames must be binary protobuf"}
	}
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(io.LimitReader(r, wire.MaxFrame+1)); err != nil {
		return nil, err
	}
	return wire.Decode(c.buf.Bytes())
}

// Write sends one binary frame. Like the read deadline, the write
// deadline moves at most once a second, so a write may time out up to a
// second before WriteTimeout.
func (c *conn) Write(_ context.Context, frame []byte) error {
	moveDeadline(&c.writeDeadlineSet, c.cfg.WriteTimeout, c.ws.SetWriteDeadline)
	return c.ws.WriteMessage(websocket.BinaryMessage, frame)
}

// moveDeadline sets a deadline timeout from now, unless it was set less
// than a second ago (*last): moving a deadline costs a timer update, and
// timeouts of many seconds do not notice the second.
func moveDeadline(last *time.Time, timeout time.Duration, set func(time.Time) error) {
	if now := time.Now(); now.Sub(*last) > time.Second {
		set(now.Add(timeout))
		*last = now
	}
}

// Close sends the close frame for code and gives the player CloseTimeout
// to answer it; the reading goroutine then closes the socket.
func (c *conn) Close(code skirmishv1.ErrorCode, reason string) error {
	c.closing.Store(true)
	if len(reason) > 120 {
		reason = reason[:120]
	}
	err := c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(CloseCode(code), reason),
		time.Now().Add(c.cfg.WriteTimeout))
	c.ws.SetReadDeadline(time.Now().Add(c.cfg.CloseTimeout))
	return err
}

// CloseCode is the WebSocket close code sent with each error code: 1000
// for a normal end, 1001 when the server shuts down, 1009 for an oversize
// frame, 1003 for a malformed one, 1008 (policy violation) otherwise.
func CloseCode(code skirmishv1.ErrorCode) int {
	switch code {
	case skirmishv1.ErrorCode_ERROR_CODE_UNSPECIFIED:
		return websocket.CloseNormalClosure
	case skirmishv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN:
		return websocket.CloseGoingAway
	case skirmishv1.ErrorCode_ERROR_CODE_TOO_LARGE:
		return websocket.CloseMessageTooBig
	case skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE:
		return websocket.CloseUnsupportedData
	default:
		return websocket.ClosePolicyViolation
	}
}

// drain reads and discards until the player answers the close frame or
// the close timeout passes, so that closing the socket never resets data
// the player has yet to read.
func (c *conn) drain() {
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}
