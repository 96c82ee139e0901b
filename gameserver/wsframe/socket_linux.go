package wsframe

import "syscall"

// setLowat sets the socket's receive low-water mark. On Linux a
// non-blocking read still returns what arrived below it (tcp_recvmsg), and
// lowering it wakes the socket's waiters at once (tcp_set_rcvlowat).
func (s *Socket) setLowat(lowat int) error {
	var err error
	if rerr := s.raw.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, lowat)
	}); rerr != nil {
		return rerr
	}
	return err
}
