//go:build unix && !linux

package wsframe

import "errors"

// setLowat does nothing outside Linux: on the BSDs and macOS a
// non-blocking read of fewer bytes than the low-water mark (and than the
// buffer) returns EWOULDBLOCK (soreceive), so a raised mark would hold a
// polled player's inputs back.
func (s *Socket) setLowat(int) error { return errors.ErrUnsupported }
