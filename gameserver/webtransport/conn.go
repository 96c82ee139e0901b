package webtransport

import (
	"bufio"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	wt "github.com/quic-go/webtransport-go"

	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/wire"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// conn adapts a WebTransport session and its control stream to
// room.Transport: snapshots go out as datagrams (or on the stream when too
// large for one), everything else on the stream.
type conn struct {
	sess   *wt.Session
	stream *wt.Stream
	cfg    *Config
	r      *bufio.Reader
	rbuf   []byte

	mu   sync.Mutex // guards wbuf and writes to stream
	wbuf []byte

	datagrams, streamed, tooLarge func()

	// limit bounds the messages read, on the stream and as datagrams (the
	// zero Limiter: no bound).
	limit ratelimit.Limiter
}

// allow takes one message from the session's bound.
func (c *conn) allow() bool { return c.limit.Allow(time.Now()) }

var _ room.Transport = (*conn)(nil)

// readStream returns the next message on the control stream. A message
// the server rejects yields a *wire.Reject; any other error means the
// stream is over.
func (c *conn) readStream() (*skirmishv1.ClientMessage, error) {
	b, err := readFrame(c.r, c.rbuf, wire.MaxFrame)
	if errors.Is(err, errFrameTooLarge) {
		return nil, wire.TooLarge()
	}
	if err != nil {
		return nil, err
	}
	c.rbuf = b[:0]
	if !c.allow() {
		return nil, wire.TooFast()
	}
	return wire.Decode(b)
}

// Write sends one encoded ServerMessage: a snapshot as a datagram when it
// fits (a lost or late one is replaced by the next, which is a delta
// against what the player acknowledged), anything else on the stream.
func (c *conn) Write(_ context.Context, frame []byte) error {
	if isSnapshot(frame) && len(frame) <= c.cfg.MaxDatagram {
		err := c.sess.SendDatagram(frame)
		if err == nil {
			c.datagrams()
			return nil
		}
		var tl *quic.DatagramTooLargeError
		if !errors.As(err, &tl) {
			return err
		}
		c.tooLarge()
	}
	if isSnapshot(frame) {
		c.streamed()
	}
	return c.writeStream(frame)
}

func (c *conn) writeStream(frame []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wbuf = appendFrame(c.wbuf[:0], frame)
	c.stream.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	_, err := c.stream.Write(c.wbuf)
	return err
}

// Close ends the control stream after what was written (the player reads
// the last frame, then the end of the stream) and gives the player
// CloseTimeout to close the session; the reading goroutine then closes it
// with code.
func (c *conn) Close(code skirmishv1.ErrorCode, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.stream.Close()
	c.stream.SetReadDeadline(time.Now().Add(c.cfg.CloseTimeout))
	return err
}

// closeSession closes the session with the WebTransport error code for
// code (the ErrorCode number) and reason.
func (c *conn) closeSession(code skirmishv1.ErrorCode, reason string) {
	if len(reason) > 120 {
		reason = reason[:120]
	}
	c.sess.CloseWithError(wt.SessionErrorCode(code), reason)
}

// streamReadBuffer is the size of a session's control-stream read buffer:
// players send small messages there (inputs mostly come as datagrams), and
// an idle session should hold little memory; longer frames are read
// through it in pieces.
const streamReadBuffer = 512
