package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/wire"
	"github.com/skirmishgg/skirmish/gameserver/wsframe"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// conn adapts a WebSocket connection to room.Transport. gorilla/websocket
// upgraded it; the reader (wsframe) and writer (write.go) are Skirmish's own,
// so that the room can poll the player's inputs and write its snapshots
// from its own goroutine (room.Poller, room.DirectWriter).
type conn struct {
	ws  *websocket.Conn
	r   *wsframe.Reader
	w   *writer
	cfg *Config
	// onPong observes a pong's payload (nil: ignored).
	onPong func(payload []byte)
	// limit bounds the frames read, of every kind (the zero Limiter: no
	// bound).
	limit ratelimit.Limiter

	// deadlineMu orders the read deadline's moves with Close's.
	deadlineMu sync.Mutex
	closing    atomic.Bool
	// Owned by the reader's owner (reading goroutine, or room in Poll):
	lastRead        time.Time // when the last frame was read
	readDeadlineSet time.Time // when the idle read deadline was last moved
}

func newConn(ws *websocket.Conn, cfg *Config, bufs *sync.Pool) *conn {
	nc := ws.NetConn()
	sock := wsframe.NewSocket(nc) // the reader's and the writer's: each uses one direction
	c := &conn{ws: ws, w: newWriter(nc, sock, bufs), cfg: cfg,
		r:     wsframe.NewReader(nc, sock, wire.MaxFrame, hardReadLimit),
		limit: wire.NewMessageLimiter(cfg.MessageRate, cfg.MessageBurst)}
	return c
}

// errClosed is the reader's error once the client's close frame came.
var errClosed = errors.New("websocket: closed by the client")

// errTooFast ends a connection whose control frames (pings, pongs) come
// faster than its message bound.
var errTooFast = errors.New("websocket: control frames over the message rate")

// allow takes one frame read at now from the connection's message bound.
// The caller's clock saves the limiter reading its own per frame.
func (c *conn) allow(now time.Time) bool { return c.limit.Allow(now) }

var (
	_ room.DirectWriter = (*conn)(nil)
	_ room.Poller       = (*conn)(nil)
	_ room.Aborter      = (*conn)(nil)
)

// Abort drops the TCP connection at once: a Write blocked on a player who
// stopped reading returns, and so does the reading side.
func (c *conn) Abort() { c.ws.NetConn().Close() }

// read returns the next client message, blocking. It answers pings and
// the player's close frame, and counts every frame against the message
// bound: a flood of control frames ends the connection. A frame the
// server rejects yields a *wire.Reject; any other error means the
// connection is over (a frame breaking the protocol is answered with a
// close frame first).
func (c *conn) read() (*skirmishv1.ClientMessage, error) {
	for {
		f, ok, err := c.r.Peek()
		if err != nil {
			var fe *wsframe.Error
			if errors.As(err, &fe) {
				c.w.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(fe.Code, fe.Text), time.Now().Add(time.Second))
			}
			return nil, err
		}
		if !ok {
			if err := c.r.Fill(); err != nil {
				return nil, err
			}
			continue
		}
		c.r.Consume(f) // f.Payload stays valid until the next fill
		now := time.Now()
		c.touch(now)
		if !c.allow(now) {
			if f.Op >= websocket.CloseMessage {
				return nil, errTooFast
			}
			return nil, wire.TooFast()
		}
		switch f.Op {
		case websocket.PingMessage:
			err := c.w.writeControl(websocket.PongMessage, f.Payload, time.Now().Add(time.Second))
			var ne net.Error
			if err != nil && !errors.Is(err, websocket.ErrCloseSent) && !errors.Is(err, errWriteBusy) &&
				!(errors.As(err, &ne) && ne.Timeout()) {
				return nil, err
			}
		case websocket.PongMessage:
			if c.onPong != nil {
				c.onPong(f.Payload)
			}
		case websocket.CloseMessage:
			code, err := closeCode(f.Payload)
			if err != nil {
				c.w.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseProtocolError, err.Error()), time.Now().Add(time.Second))
				return nil, err
			}
			// Answer it as RFC 6455 §5.5.1 asks (unless ours went first).
			c.w.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
			return nil, errClosed
		case websocket.TextMessage:
			if f.TooLarge {
				return nil, wire.TooLarge()
			}
			return nil, &wire.Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, Text: "frames must be binary protobuf"}
		default:
			if f.TooLarge {
				return nil, wire.TooLarge()
			}
			return wire.Decode(f.Payload)
		}
	}
}

// touch records a frame read at now and moves the idle read deadline (at
// most once a second, or four times per idle timeout when shorter),
// unless the connection is closing.
func (c *conn) touch(now time.Time) {
	c.lastRead = now
	if now.Sub(c.readDeadlineSet) <= min(time.Second, c.cfg.IdleTimeout/4) {
		return
	}
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if !c.closing.Load() {
		c.ws.NetConn().SetReadDeadline(now.Add(c.cfg.IdleTimeout))
		c.readDeadlineSet = now
	}
}

// Poll reads what the player sent since the last tick without blocking
// (room.Poller): inputs and acks go to handle, pongs to onPong. It leaves
// any other frame, and any error, to the reading goroutine and returns
// false, as it does once the player sent nothing for IdleTimeout.
func (c *conn) Poll(now time.Time, handle func(time.Time, *skirmishv1.ClientMessage) error) bool {
	for {
		full, err := c.r.FillNow()
		if err != nil {
			return false
		}
		for {
			f, ok, err := c.r.Peek()
			if err != nil {
				return false
			}
			if !ok {
				break
			}
			var m *skirmishv1.ClientMessage
			if f.TooLarge {
				return false
			}
			switch f.Op {
			case websocket.PongMessage:
			case websocket.BinaryMessage:
				if m, err = wire.Decode(f.Payload); err != nil || (m.GetInputs() == nil && m.GetAck() == nil) {
					return false // decoded again, and answered, by read
				}
			default:
				return false
			}
			if !c.allow(now) {
				return false
			}
			c.r.Consume(f)
			c.lastRead = now
			if m == nil {
				if c.onPong != nil {
					c.onPong(f.Payload)
				}
			} else if handle(now, m) != nil {
				return false
			}
		}
		if !full {
			break
		}
	}
	return now.Sub(c.lastRead) < c.cfg.IdleTimeout
}

// pauseReading readies the connection to be polled: the room enforces the
// idle timeout then (Poll), and a read deadline left on the socket would
// fail the room's reads once passed. It also raises the socket's receive
// low-water mark (c.r.Quiet), so that the player's inputs no longer wake
// the runtime's network poller, which nobody waits on while the room polls.
func (c *conn) pauseReading() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if !c.closing.Load() {
		c.ws.NetConn().SetReadDeadline(time.Time{})
		c.r.Quiet(true)
	}
}

// resumeReading readies the reading goroutine to read again after the
// room polled: the idle deadline counts from the last frame read, and the
// socket wakes the poller for every byte again.
func (c *conn) resumeReading() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.r.Quiet(false)
	if !c.closing.Load() {
		c.ws.NetConn().SetReadDeadline(c.lastRead.Add(c.cfg.IdleTimeout))
		c.readDeadlineSet = c.lastRead
	}
}

// closeCode checks a close frame's payload: empty, or a valid code and a
// UTF-8 reason (RFC 6455 §5.5.1, §7.4).
func closeCode(payload []byte) (int, error) {
	switch {
	case len(payload) == 0:
		return websocket.CloseNoStatusReceived, nil
	case len(payload) == 1:
		return 0, errors.New("close frame with a 1-byte payload")
	}
	code := int(binary.BigEndian.Uint16(payload))
	valid := code >= 3000 && code <= 4999
	switch code {
	case 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011:
		valid = true
	}
	if !valid || !utf8.Valid(payload[2:]) {
		return 0, errors.New("close frame with an invalid code or reason")
	}
	return code, nil
}

// Write sends one binary frame. Like the read deadline, the write
// deadline moves at most once a second, so a write may time out up to a
// second before WriteTimeout.
func (c *conn) Write(ctx context.Context, frame []byte) error {
	return c.w.write(ctx, websocket.BinaryMessage, frame, c.cfg.WriteTimeout)
}

// TryWrite sends one binary frame if the socket can take it without
// blocking (room.DirectWriter).
func (c *conn) TryWrite(frame []byte) (written, flush bool) {
	return c.w.tryWrite(frame, c.cfg.WriteTimeout)
}

// Flush writes what TryWrite left of a frame (room.DirectWriter).
func (c *conn) Flush(ctx context.Context) error {
	return c.w.write(ctx, 0, nil, c.cfg.WriteTimeout)
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
	c.deadlineMu.Lock()
	c.closing.Store(true)
	c.deadlineMu.Unlock()
	if len(reason) > 120 {
		reason = reason[:120]
	}
	err := c.w.writeControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(CloseCode(code), reason),
		time.Now().Add(c.cfg.WriteTimeout))
	c.deadlineMu.Lock()
	c.ws.NetConn().SetReadDeadline(time.Now().Add(c.cfg.CloseTimeout))
	c.deadlineMu.Unlock()
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
		var rej *wire.Reject
		if _, err := c.read(); err != nil && !errors.As(err, &rej) {
			return
		}
	}
}
