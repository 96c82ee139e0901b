package ws

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/gorilla/websocket"
)

// The server reads its WebSocket frames itself, as it writes them
// (write.go): gorilla/websocket only upgrades the connection. A player's
// inputs are the one message every player sends every tick, and reading
// them from the room's goroutine at the tick without blocking (conn.Poll)
// saves waking a reading goroutine for each one, which gorilla's reader,
// built to block, cannot do. The frame rules are RFC 6455's: §5.2 (base
// framing), §5.3 (client frames are masked), §5.4 (fragmentation) and §5.5
// (control frames).

// frameError ends a connection whose frames break the protocol: the
// server answers with a close frame carrying code (RFC 6455 §7.4.1).
type frameError struct {
	code int
	text string
}

func (e *frameError) Error() string { return fmt.Sprintf("websocket: %s (close %d)", e.text, e.code) }

func protocolError(format string, args ...any) error {
	return &frameError{code: websocket.CloseProtocolError, text: fmt.Sprintf(format, args...)}
}

// readBufferSize is the reader's buffer while frames are small; a larger
// frame grows it (up to maxMessage), and it shrinks back once empty.
// A player without a token can make a connection hold no more than
// maxMessage bytes of frames: longer ones are skipped, not kept.
const readBufferSize = 512

// reader parses the frames one client sends from what it read off the
// socket. It is owned by one goroutine at a time: the connection's
// reading goroutine, or the room's while it polls (conn.Poll).
type reader struct {
	nc  net.Conn
	raw syscall.RawConn // nil: no file descriptor; fillNow reads nothing
	// maxMessage bounds the message kept, reassembled fragments included:
	// a longer one is dropped as it arrives and yielded as tooLarge (the
	// player gets TOO_LARGE).
	maxMessage int
	// cutAt: a frame declaring more than this ends the connection with
	// close 1009 at once.
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

// frame is one frame, or one reassembled message, ready to consume.
type frame struct {
	op      int    // websocket.BinaryMessage, TextMessage, PingMessage, ...
	payload []byte // unmasked; valid until the next fill
	size    int    // bytes of buf it takes, header included (0: from msg)
	// tooLarge: a message over maxMessage, dropped (payload is nil).
	tooLarge bool
	// skip is the payload length of a frame over maxMessage, dropped as
	// it arrives once the frame is consumed.
	skip uint64
}

// peek returns the next control frame or complete data message in what
// was read, without consuming it; ok is false when more bytes are needed.
// Fragments of a data message are consumed into r.msg as they come.
func (r *reader) peek() (f frame, ok bool, err error) {
	for {
		if r.err != nil {
			return frame{}, false, r.err
		}
		if r.discard > 0 {
			if k := min(r.discard, uint64(len(r.buf)-r.off)); k > 0 {
				r.discard -= k
				r.consume(frame{size: int(k)})
			}
			if r.discard > 0 {
				return frame{}, false, nil
			}
		}
		f, ok, err = r.parse()
		if err != nil {
			r.err = err
			return frame{}, false, err
		}
		if !ok {
			return frame{}, false, nil
		}
		if f.op >= websocket.CloseMessage { // control frames come whole
			return f, true, nil
		}
		fin := r.buf[r.off]&0x80 != 0
		switch {
		case f.op == 0 && r.msgOp == 0:
			r.err = protocolError("continuation frame without a message to continue")
			return frame{}, false, r.err
		case f.op != 0 && r.msgOp != 0:
			r.err = protocolError("new message before the last one's final fragment")
			return frame{}, false, r.err
		case f.op != 0 && fin: // the usual case: a whole message in a frame
			return f, true, nil
		}
		if f.op != 0 {
			r.msgOp = f.op
		}
		if f.skip > 0 || len(r.msg)+len(f.payload) > r.maxMessage {
			r.dropping, r.msg = true, nil
		}
		if !r.dropping {
			r.msg = append(r.msg, f.payload...)
		}
		r.consume(f)
		if fin {
			m := frame{op: r.msgOp, payload: r.msg, tooLarge: r.dropping}
			r.msgOp, r.dropping = 0, false
			return m, true, nil
		}
	}
}

// parse reads the header of the frame at r.off and, once the whole frame
// is in, unmasks its payload (once).
func (r *reader) parse() (frame, bool, error) {
	b := r.buf[r.off:]
	if len(b) < 2 {
		return frame{}, false, nil
	}
	op := int(b[0] & 0x0f)
	if b[0]&0x70 != 0 {
		return frame{}, false, protocolError("reserved bits set without an extension")
	}
	switch op {
	case 0, websocket.TextMessage, websocket.BinaryMessage, websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
	default:
		return frame{}, false, protocolError("unknown opcode %d", op)
	}
	if b[1]&0x80 == 0 {
		return frame{}, false, protocolError("client frame not masked")
	}
	n, h := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return frame{}, false, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return frame{}, false, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if op >= websocket.CloseMessage && (n > 125 || b[0]&0x80 == 0) {
		return frame{}, false, protocolError("control frame fragmented or over 125 bytes")
	}
	if n > uint64(r.cutAt) {
		return frame{}, false, &frameError{code: websocket.CloseMessageTooBig, text: "message too large"}
	}
	if n > uint64(r.maxMessage) { // a data frame: control frames are short
		if len(b) < h+4 {
			return frame{}, false, nil
		}
		return frame{op: op, size: h + 4, skip: n, tooLarge: true}, true, nil
	}
	size := h + 4 + int(n)
	if len(b) < size {
		r.reserve(size)
		return frame{}, false, nil
	}
	payload := b[h+4 : size]
	if r.unmasked == 0 {
		mask := b[h : h+4]
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
		r.unmasked = size
	}
	return frame{op: op, payload: payload, size: size}, true, nil
}

// consume drops a frame peek returned.
func (r *reader) consume(f frame) {
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
func (r *reader) reserve(size int) {
	if cap(r.buf)-r.off >= size {
		return
	}
	nb := make([]byte, len(r.buf)-r.off, max(size, readBufferSize))
	copy(nb, r.buf[r.off:])
	r.buf, r.off = nb, 0
}

// space returns the buffer's free end, making room first.
func (r *reader) space() []byte {
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

// fill reads once, blocking until something arrives or the read deadline
// passes.
func (r *reader) fill() error {
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

// fillNow reads what arrived, without blocking; full reports that it
// filled the buffer, so more may be waiting. It reads nothing when the
// connection has no file descriptor.
func (r *reader) fillNow() (full bool, err error) {
	if r.err != nil || r.raw == nil {
		return false, r.err
	}
	p := r.space()
	n := 0
	if rerr := r.raw.Read(func(fd uintptr) bool {
		for {
			n, err = syscall.Read(int(fd), p)
			if err != syscall.EINTR {
				return true // never wait: the room polls again next tick
			}
		}
	}); rerr != nil {
		err = rerr
	}
	switch {
	case err == syscall.EAGAIN:
		return false, nil
	case err != nil:
		r.err = err
	case n == 0:
		r.err = io.EOF
	default:
		r.buf = r.buf[:len(r.buf)+n]
		return n == len(p), nil
	}
	return false, r.err
}

// quietLowat is the socket's receive low-water mark while the room polls
// it: more than a player sends in a tick, so that the kernel reports the
// socket readable (and wakes the runtime's network poller, which nobody
// waits on then) only for a flood, a close or an error. A non-blocking
// read still returns whatever arrived. Linux, socket(7) SO_RCVLOWAT; it
// takes effect on TCP since Linux 4.18 (tcp_set_rcvlowat).
const quietLowat = 16 << 10

// quiet sets the socket's receive low-water mark to quietLowat (on) or
// back to 1, the default (off). Where the option is not supported it does
// nothing: the poller then wakes for every input, with nothing to run.
func (r *reader) quiet(on bool) {
	if r.raw == nil {
		return
	}
	lowat := 1
	if on {
		lowat = quietLowat
	}
	r.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, lowat)
	})
}

// errClosed is the reader's error once the client's close frame came.
var errClosed = errors.New("websocket: closed by the client")
