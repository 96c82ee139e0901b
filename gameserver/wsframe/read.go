// Package wsframe reads the RFC 6455 WebSocket frames a client sends,
// blocking (Reader.Fill) or not (Reader.FillNow), and reads and writes a
// connection's socket without blocking (Socket). gorilla/websocket upgrades
// the connection; its reader is built to block and cannot hand back
// "nothing yet", which is what lets a room poll its players' inputs at the
// tick without a goroutine woken per message (gameserver/ws). The rules
// are RFC 6455's: §5.2 (base framing), §5.3 (client frames are masked),
// §5.4 (fragmentation) and §5.5 (control frames).
package wsframe

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/gorilla/websocket"
)

// Error ends a connection whose frames break the protocol: the reader's
// owner answers with a close frame carrying Code (RFC 6455 §7.4.1).
type Error struct {
	Code int
	Text string
}

func (e *Error) Error() string { return fmt.Sprintf("websocket: %s (close %d)", e.Text, e.Code) }

func protocolError(format string, args ...any) error {
	return &Error{Code: websocket.CloseProtocolError, Text: fmt.Sprintf(format, args...)}
}

// readBufferSize is the reader's buffer while frames are small; a larger
// frame grows it (up to maxMessage), and it shrinks back once empty.
// A player without a token can make a connection hold no more than
// maxMessage bytes of frames: longer ones are skipped, not kept.
const readBufferSize = 512

// Reader parses the frames one client sends from what it read off the
// socket. It is owned by one goroutine at a time: the connection's reading
// goroutine, or the room's while it polls.
type Reader struct {
	nc   net.Conn
	sock *Socket // nil: no file descriptor; FillNow reads nothing
	// maxMessage bounds the message kept, reassembled fragments included:
	// a longer one is dropped as it arrives and yielded as TooLarge.
	maxMessage int
	// cutAt: a frame declaring more than this ends the connection with
	// close 1009 (an *Error) at once.
	cutAt int
	// discard is how many payload bytes of a skipped frame are still to
	// be dropped as they arrive.
	discard uint64

	buf []byte // buf[off:] is read and not yet consumed
	off int
	// unmasked is how many bytes from off on are unmasked already: a
	// frame peeked and not consumed is not unmasked twice.
	unmasked int
	// msg is a fragmented message so far, and msgOp its opcode (0: none);
	// dropping: it grew past maxMessage, and the rest of it is dropped.
	msg      []byte
	msgOp    int
	dropping bool
	// err is the error that ended reading, returned from then on.
	err error
}

// NewReader reads a client's frames from nc. A data message over
// maxMessage bytes, reassembled fragments included, is dropped as it
// arrives and yielded as TooLarge; a frame declaring over cutAt bytes ends
// reading with an *Error of close code 1009. FillNow and Quiet use sock,
// nc's socket (NewSocket); with a nil sock FillNow reads nothing.
func NewReader(nc net.Conn, sock *Socket, maxMessage, cutAt int) *Reader {
	return &Reader{nc: nc, sock: sock, maxMessage: maxMessage, cutAt: cutAt}
}

// Polls reports whether FillNow can read: the connection has a file
// descriptor.
func (r *Reader) Polls() bool { return r.sock != nil }

// Frame is one control frame, or one whole (reassembled) data message,
// ready to consume.
type Frame struct {
	Op      int    // websocket.BinaryMessage, TextMessage, PingMessage, ...
	Payload []byte // unmasked; valid until the next Fill or FillNow
	// TooLarge: a message over the reader's bound, dropped (Payload is nil).
	TooLarge bool
	size     int // bytes of buf it takes, header included (0: from msg)
	// skip is the payload length of a frame over maxMessage, dropped as
	// it arrives once the frame is consumed.
	skip uint64
}

// Peek returns the next control frame or complete data message in what
// was read, without consuming it; ok is false when more bytes are needed.
// Fragments of a data message are consumed into r.msg as they come.
func (r *Reader) Peek() (f Frame, ok bool, err error) {
	for {
		if r.err != nil {
			return Frame{}, false, r.err
		}
		if r.discard > 0 {
			if k := min(r.discard, uint64(len(r.buf)-r.off)); k > 0 {
				r.discard -= k
				r.Consume(Frame{size: int(k)})
			}
			if r.discard > 0 {
				return Frame{}, false, nil
			}
		}
		f, ok, err = r.parse()
		if err != nil {
			r.err = err
			return Frame{}, false, err
		}
		if !ok {
			return Frame{}, false, nil
		}
		if f.Op >= websocket.CloseMessage { // control frames come whole
			return f, true, nil
		}
		fin := r.buf[r.off]&0x80 != 0
		switch {
		case f.Op == 0 && r.msgOp == 0:
			r.err = protocolError("continuation frame without a message to continue")
			return Frame{}, false, r.err
		case f.Op != 0 && r.msgOp != 0:
			r.err = protocolError("new message before the last one's final fragment")
			return Frame{}, false, r.err
		case f.Op != 0 && fin: // the usual case: a whole message in a frame
			return f, true, nil
		}
		if f.Op != 0 {
			r.msgOp = f.Op
		}
		if f.skip > 0 || len(r.msg)+len(f.Payload) > r.maxMessage {
			r.dropping, r.msg = true, nil
		}
		if !r.dropping {
			r.msg = append(r.msg, f.Payload...)
		}
		r.Consume(f)
		if fin {
			m := Frame{Op: r.msgOp, Payload: r.msg, TooLarge: r.dropping}
			r.msgOp, r.dropping = 0, false
			return m, true, nil
		}
	}
}

// parse reads the header of the frame at r.off and, once the whole frame
// is in, unmasks its payload (once).
func (r *Reader) parse() (Frame, bool, error) {
	b := r.buf[r.off:]
	if len(b) < 2 {
		return Frame{}, false, nil
	}
	op := int(b[0] & 0x0f)
	if b[0]&0x70 != 0 {
		return Frame{}, false, protocolError("reserved bits set without an extension")
	}
	switch op {
	case 0, websocket.TextMessage, websocket.BinaryMessage, websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
	default:
		return Frame{}, false, protocolError("unknown opcode %d", op)
	}
	if b[1]&0x80 == 0 {
		return Frame{}, false, protocolError("client frame not masked")
	}
	n, h := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return Frame{}, false, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return Frame{}, false, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if op >= websocket.CloseMessage && (n > 125 || b[0]&0x80 == 0) {
		return Frame{}, false, protocolError("control frame fragmented or over 125 bytes")
	}
	if n > uint64(r.cutAt) {
		return Frame{}, false, &Error{Code: websocket.CloseMessageTooBig, Text: "message too large"}
	}
	h += 4                        // the masking key follows the length
	if n > uint64(r.maxMessage) { // a data frame: control frames are short
		if len(b) < h {
			return Frame{}, false, nil
		}
		return Frame{Op: op, size: h, skip: n, TooLarge: true}, true, nil
	}
	size := h + int(n)
	if len(b) < size {
		r.reserve(size)
		return Frame{}, false, nil
	}
	payload := b[h:size]
	if r.unmasked == 0 {
		mask := b[h-4 : h]
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
		r.unmasked = size
	}
	return Frame{Op: op, Payload: payload, size: size}, true, nil
}

// Consume drops a frame Peek returned.
func (r *Reader) Consume(f Frame) {
	if f.size == 0 { // a reassembled message
		r.msg = r.msg[:0]
		if cap(r.msg) > readBufferSize {
			r.msg = nil
		}
		return
	}
	r.off += f.size
	r.discard += f.skip
	r.unmasked = 0
	if r.off == len(r.buf) {
		r.off = 0
		r.buf = r.buf[:0]
		if cap(r.buf) > readBufferSize {
			r.buf = nil // a large frame's buffer is not kept
		}
	}
}

// reserve makes room for a frame of size bytes from r.off.
func (r *Reader) reserve(size int) {
	if cap(r.buf)-r.off >= size {
		return
	}
	nb := make([]byte, len(r.buf)-r.off, max(size, readBufferSize))
	copy(nb, r.buf[r.off:])
	r.buf, r.off = nb, 0
}

// space returns the buffer's free end, making room first.
func (r *Reader) space() []byte {
	if r.buf == nil {
		r.buf = make([]byte, 0, readBufferSize)
	}
	if len(r.buf) == cap(r.buf) && r.off > 0 {
		n := copy(r.buf, r.buf[r.off:])
		r.buf, r.off = r.buf[:n], 0
	}
	if len(r.buf) == cap(r.buf) {
		r.reserve(2 * cap(r.buf))
	}
	return r.buf[len(r.buf):cap(r.buf)]
}

// Fill reads once, blocking until something arrives or the read deadline
// passes.
func (r *Reader) Fill() error {
	if r.err != nil {
		return r.err
	}
	p := r.space()
	n, err := r.nc.Read(p)
	r.buf = r.buf[:len(r.buf)+n]
	if err != nil && n == 0 {
		r.err = err
		return err
	}
	return nil
}

// FillNow reads what arrived, without blocking; full reports that it
// filled the buffer, so more may be waiting. It reads nothing when the
// connection has no file descriptor.
func (r *Reader) FillNow() (full bool, err error) {
	if r.err != nil || r.sock == nil {
		return false, r.err
	}
	p := r.space()
	n, err := r.sock.readNow(p)
	switch {
	case err != nil:
		r.err = err
		return false, err
	case n > 0:
		r.buf = r.buf[:len(r.buf)+n]
		return n == len(p), nil
	}
	return false, nil
}

// quietLowat is the socket's receive low-water mark while its owner polls
// it (Quiet): more than a player sends in a tick, so that the kernel reports
// the socket readable (and wakes the runtime's network poller, which nobody
// waits on then) only for a flood, a close or an error. On Linux a
// non-blocking read still returns whatever arrived (socket(7) SO_RCVLOWAT;
// it takes effect on TCP since Linux 4.18, tcp_set_rcvlowat).
const quietLowat = 16 << 10

// Quiet sets the socket's receive low-water mark to quietLowat (on) or
// back to 1, the default (off). It does nothing outside Linux, where a
// non-blocking read below the mark returns nothing, or where the option
// fails: the poller then wakes for every message, with nothing to run.
func (r *Reader) Quiet(on bool) {
	if r.sock == nil {
		return
	}
	lowat := 1
	if on {
		lowat = quietLowat
	}
	_ = r.sock.setLowat(lowat)
}
