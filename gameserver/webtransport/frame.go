package webtransport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Frames on the control stream are length-prefixed: a protobuf varint with
// the length, then that many bytes of one protobuf message (the framing of
// Go's protodelim and of @bufbuild/protobuf's sizeDelimitedEncode).

// errFrameTooLarge is a length prefix above wire.MaxFrame.
var errFrameTooLarge = errors.New("frame too large")

// appendFrame appends the length-prefixed msg to b.
func appendFrame(b, msg []byte) []byte {
	b = protowire.AppendVarint(b, uint64(len(msg)))
	return append(b, msg...)
}

// readFrame reads one length-prefixed frame of at most max bytes into buf
// (reused when large enough) and returns it.
func readFrame(r *bufio.Reader, buf []byte, max int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// snapshotTag is the first byte of an encoded ServerMessage holding a
// snapshot: field 2 (snapshot), wire type 2 (bytes). A ServerMessage is a
// oneof, so Go's marshaller writes exactly one field and this byte tells
// snapshots apart without decoding.
const snapshotTag = 2<<3 | 2

func isSnapshot(frame []byte) bool { return len(frame) > 0 && frame[0] == snapshotTag }
