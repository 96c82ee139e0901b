package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/skirmishgg/skirmish/gameserver/wsframe"
)

// The server writes its WebSocket frames itself; gorilla/websocket
// upgrades and reads. A server-to-client frame is a 2 to 10 byte header
// and the payload, unmasked (RFC 6455 §5.2), so writing it by hand is
// short, and it lets the room write a snapshot from its own goroutine
// without blocking (TryWrite): gorilla's writer blocks until the frame is
// written or the deadline passes, so a connection that cannot take the
// frame would stall the whole room. Every frame, from whichever goroutine,
// is written under one write lock (writer.sem), so frames never
// interleave.

// writer is the writing side of one connection.
type writer struct {
	nc   net.Conn
	sock *wsframe.Socket // nil: no file descriptor; TryWrite never writes
	bufs *sync.Pool      // of *[]byte, shared by the handler's connections

	// sem holds a value while a goroutine writes.
	sem chan struct{}
	// Owned by the holder of sem:
	rest      []byte    // the part of a frame TryWrite could not write
	closeSent bool      // the close frame is written; nothing may follow
	deadline  time.Time // when the write deadline was last moved
}

func newWriter(nc net.Conn, sock *wsframe.Socket, bufs *sync.Pool) *writer {
	return &writer{nc: nc, sock: sock, bufs: bufs, sem: make(chan struct{}, 1)}
}

// errWriteBusy is returned by a control frame's write when another write
// held the connection past the frame's deadline.
var errWriteBusy = errors.New("websocket: write timed out waiting for another write")

// maxPooled is the largest frame buffer kept for reuse.
const maxPooled = 16 << 10

// appendFrame appends one final, unmasked frame of the given opcode
// (websocket.BinaryMessage, PingMessage, ...) carrying payload.
func appendFrame(b []byte, opcode int, payload []byte) []byte {
	b = append(b, 0x80|byte(opcode))
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

func (w *writer) frame(opcode int, payload []byte) *[]byte {
	bp := w.bufs.Get().(*[]byte)
	*bp = appendFrame((*bp)[:0], opcode, payload)
	return bp
}

func (w *writer) release(bp *[]byte) {
	if cap(*bp) <= maxPooled {
		w.bufs.Put(bp)
	}
}

// tryWrite writes a binary frame if the socket takes at least part of it
// now, keeping the rest for the next write (see room.DirectWriter).
// timeout is the write deadline moved at most once a second.
func (w *writer) tryWrite(payload []byte, timeout time.Duration) (written, flush bool) {
	if w.sock == nil {
		return false, false
	}
	select {
	case w.sem <- struct{}{}:
	default:
		return false, false // another write is under way
	}
	defer func() { <-w.sem }()
	if w.rest != nil || w.closeSent {
		return false, false
	}
	// The deadline bounds the writes WriteLoop makes; moved here too, a
	// connection written only from the room never finds it passed.
	moveDeadline(&w.deadline, timeout, w.nc.SetWriteDeadline)
	bp := w.frame(websocket.BinaryMessage, payload)
	defer w.release(bp)
	b := *bp
	n, err := w.sock.WriteNow(b)
	if err != nil || n == 0 {
		// The socket is full (the caller queues the frame), or a failure,
		// which the writing goroutine's Write will then meet.
		return false, false
	}
	if n < len(b) {
		w.rest = append([]byte(nil), b[n:]...)
		return true, true
	}
	return true, false
}

// lock takes the write lock, waiting until ctx ends.
func (w *writer) lock(ctx context.Context) error {
	select {
	case w.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lockUntil takes the write lock, waiting until deadline at most.
func (w *writer) lockUntil(deadline time.Time) bool {
	select {
	case w.sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case w.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (w *writer) unlock() { <-w.sem }

// writeLocked writes what tryWrite left, then one frame (none for a nil
// payload with opcode 0), blocking until the write deadline; the caller
// holds the lock.
func (w *writer) writeLocked(opcode int, payload []byte) error {
	if w.closeSent {
		return websocket.ErrCloseSent
	}
	if w.rest != nil {
		if _, err := w.nc.Write(w.rest); err != nil {
			return err
		}
		w.rest = nil
	}
	if opcode == 0 {
		return nil
	}
	bp := w.frame(opcode, payload)
	defer w.release(bp)
	if _, err := w.nc.Write(*bp); err != nil {
		return err
	}
	if opcode == websocket.CloseMessage {
		w.closeSent = true
	}
	return nil
}

// write writes one frame with the write deadline timeout from now (moved
// at most once a second), waiting for the lock until ctx ends.
func (w *writer) write(ctx context.Context, opcode int, payload []byte, timeout time.Duration) error {
	if err := w.lock(ctx); err != nil {
		return err
	}
	defer w.unlock()
	moveDeadline(&w.deadline, timeout, w.nc.SetWriteDeadline)
	return w.writeLocked(opcode, payload)
}

// writeControl writes a control frame (ping, pong, close) by deadline,
// which bounds both the wait for the lock and the write.
func (w *writer) writeControl(opcode int, payload []byte, deadline time.Time) error {
	if !w.lockUntil(deadline) {
		return errWriteBusy
	}
	defer w.unlock()
	w.nc.SetWriteDeadline(deadline)
	w.deadline = time.Time{} // the next frame moves it back
	return w.writeLocked(opcode, payload)
}
