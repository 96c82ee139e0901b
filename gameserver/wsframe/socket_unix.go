//go:build unix

package wsframe

import (
	"io"
	"net"
	"syscall"
)

// Socket is a connection's file descriptor, read or written without
// blocking. One goroutine at a time may read and one write. Its calls
// allocate nothing: each direction's closure for RawConn is made once (a
// closure made per call escapes through the interface, with what it
// captures, at every message).
type Socket struct {
	raw         syscall.RawConn
	read, write rawIO
}

// rawIO is one direction's state for a call through RawConn.
type rawIO struct {
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// NewSocket returns nc's socket, or nil when nc has no file descriptor
// (such as a TLS connection): nothing is then read or written without
// blocking.
func NewSocket(nc net.Conn) *Socket {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &Socket{raw: raw}
	s.read.fn = s.read.calling(syscall.Read)
	s.write.fn = s.write.calling(syscall.Write)
	return s
}

// calling returns the closure that calls op (syscall.Read or Write) with
// o.p and keeps its result in o; it never waits for the socket.
func (o *rawIO) calling(op func(fd int, p []byte) (int, error)) func(fd uintptr) bool {
	return func(fd uintptr) bool {
		for {
			o.n, o.err = op(int(fd), o.p)
			if o.err != syscall.EINTR {
				return true
			}
		}
	}
}

// WriteNow writes b without blocking and returns how much the socket
// took: 0 with a nil error when it is full (EAGAIN).
func (s *Socket) WriteNow(b []byte) (int, error) {
	o := &s.write
	o.p = b
	defer func() { o.p = nil }()
	if err := s.raw.Write(o.fn); err != nil {
		return 0, err
	}
	if o.err == syscall.EAGAIN {
		return 0, nil
	}
	return max(o.n, 0), o.err
}

// readNow reads into p without blocking: 0 and a nil error when nothing
// arrived, io.EOF once the peer closed.
func (s *Socket) readNow(p []byte) (int, error) {
	o := &s.read
	o.p = p
	defer func() { o.p = nil }()
	if err := s.raw.Read(o.fn); err != nil {
		return 0, err
	}
	switch {
	case o.err == syscall.EAGAIN:
		return 0, nil
	case o.err != nil:
		return 0, o.err
	case o.n == 0:
		return 0, io.EOF
	}
	return o.n, nil
}

// Control runs f with the file descriptor (syscall.RawConn.Control).
func (s *Socket) Control(f func(fd uintptr)) error { return s.raw.Control(f) }
