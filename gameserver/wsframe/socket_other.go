//go:build !unix

package wsframe

import (
	"errors"
	"net"
)

// Socket is never made here: without Unix sockets nothing is read or
// written without blocking, and connections keep their goroutines.
type Socket struct{}

// NewSocket returns nil here (see Socket).
func NewSocket(net.Conn) *Socket { return nil }

// WriteNow is never reached without a Socket.
func (s *Socket) WriteNow([]byte) (int, error) { return 0, errors.ErrUnsupported }

// Control is never reached without a Socket.
func (s *Socket) Control(func(fd uintptr)) error { return errors.ErrUnsupported }

func (s *Socket) readNow([]byte) (int, error) { return 0, errors.ErrUnsupported }

func (s *Socket) setLowat(int) error { return errors.ErrUnsupported }
