package wsframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"
)

// clientFrame builds one client-to-server frame: masked (with a fixed
// key) unless unmasked, FIN set when fin.
func clientFrame(fin bool, op int, payload []byte, masked bool) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

func msg(op int, p []byte) []byte { return clientFrame(true, op, p, true) }

// parsed is what a reader made of some bytes: each frame as "op:payload",
// then the close code of the error that ended it (0: none).
type parsed struct {
	frames []string
	code   int
}

// parseAll feeds b to a reader chunk bytes at a time (all at once for
// chunk <= 0) and consumes every frame it yields; a skipped frame shows as
// "op:skipped n".
func parseAll(b []byte, chunk, maxMessage, cutAt int) parsed {
	r := &Reader{maxMessage: maxMessage, cutAt: cutAt}
	var out parsed
	for len(b) > 0 || chunk > 0 {
		n := len(b)
		if chunk > 0 {
			n = min(chunk, len(b))
		}
		r.buf = append(r.buf, b[:n]...)
		b = b[n:]
		for {
			f, ok, err := r.Peek()
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					panic(err)
				}
				out.code = fe.Code
				return out
			}
			if !ok {
				break
			}
			if len(f.Payload) > maxMessage {
				panic(fmt.Sprintf("payload of %d bytes over the bound %d", len(f.Payload), maxMessage))
			}
			if f.TooLarge {
				out.frames = append(out.frames, fmt.Sprintf("%d:too large", f.Op))
			} else {
				out.frames = append(out.frames, fmt.Sprintf("%d:%x", f.Op, f.Payload))
			}
			r.Consume(f)
		}
		if len(b) == 0 {
			break
		}
	}
	return out
}

func TestReaderFrames(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 300)
	huge := bytes.Repeat([]byte{9}, 1000)
	bin := websocket.BinaryMessage
	cases := []struct {
		name   string
		in     []byte
		frames []string
		code   int
	}{
		{"binary", msg(bin, []byte{1, 2, 3}), []string{"2:010203"}, 0},
		{"empty binary", msg(bin, nil), []string{"2:"}, 0},
		{"two in a row", append(msg(bin, []byte{1}), msg(bin, []byte{2})...), []string{"2:01", "2:02"}, 0},
		{"16-bit length", msg(bin, big), []string{fmt.Sprintf("2:%x", big)}, 0},
		{"64-bit length", clientFrame(true, bin, make([]byte, 70000), true), []string{"2:too large"}, 0},
		{"over the bound: skipped, then the next frame", append(msg(bin, huge), msg(bin, []byte{5})...), []string{"2:too large", "2:05"}, 0},
		{"text over the bound: skipped", msg(websocket.TextMessage, huge), []string{"1:too large"}, 0},
		{"text", msg(websocket.TextMessage, []byte("hi")), []string{"1:6869"}, 0},
		{"fragments with a ping between", bytes.Join([][]byte{
			clientFrame(false, bin, []byte{1}, true),
			msg(websocket.PingMessage, []byte("p")),
			clientFrame(false, 0, []byte{2}, true),
			clientFrame(true, 0, []byte{3}, true),
		}, nil), []string{"9:70", "2:010203"}, 0},
		{"close", msg(websocket.CloseMessage, []byte{3, 232}), []string{"8:03e8"}, 0},
		{"unmasked", clientFrame(true, bin, []byte{1}, false), nil, websocket.CloseProtocolError},
		{"reserved bit", append([]byte{0xc2}, msg(bin, []byte{1})[1:]...), nil, websocket.CloseProtocolError},
		{"unknown opcode", msg(3, []byte{1}), nil, websocket.CloseProtocolError},
		{"control frame over 125 bytes", msg(websocket.PingMessage, big[:126]), nil, websocket.CloseProtocolError},
		{"fragmented ping", clientFrame(false, websocket.PingMessage, []byte{1}, true), nil, websocket.CloseProtocolError},
		{"continuation without a message", clientFrame(true, 0, []byte{1}, true), nil, websocket.CloseProtocolError},
		{"new message before the final fragment", append(clientFrame(false, bin, []byte{1}, true), msg(bin, []byte{2})...), nil, websocket.CloseProtocolError},
		{"frame over the cut", msg(bin, make([]byte, 1<<17+1)), nil, websocket.CloseMessageTooBig},
		{"fragments over the bound: dropped, then the next", bytes.Join([][]byte{
			clientFrame(false, bin, make([]byte, 600), true),
			clientFrame(false, 0, make([]byte, 600), true),
			msg(websocket.PingMessage, []byte("p")),
			clientFrame(true, 0, make([]byte, 2000), true),
			msg(bin, []byte{6}),
		}, nil), []string{"9:70", "2:too large", "2:06"}, 0},
		{"frames before the error are read", append(msg(bin, []byte{5}), clientFrame(true, bin, nil, false)...), []string{"2:05"}, websocket.CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 3, 100} {
				got := parseAll(tc.in, chunk, 999, 1<<17)
				if fmt.Sprint(got.frames) != fmt.Sprint(tc.frames) || got.code != tc.code {
					t.Fatalf("chunks of %d: got %.200v close %d, want %.200v close %d", chunk, got.frames, got.code, tc.frames, tc.code)
				}
			}
		})
	}
}

// FuzzReader: any bytes, fed whole or in chunks, give the same frames and
// the same error, and no payload over the bound.
//
//	go test -run '^$' -fuzz FuzzReader -fuzztime 60s ./gameserver/wsframe/
func FuzzReader(f *testing.F) {
	f.Add(msg(websocket.BinaryMessage, []byte{1, 2, 3}), 1)
	f.Add(append(clientFrame(false, websocket.BinaryMessage, []byte{1}, true), clientFrame(true, 0, []byte{2}, true)...), 2)
	f.Add(msg(websocket.BinaryMessage, bytes.Repeat([]byte{7}, 300)), 7)
	f.Add(clientFrame(true, websocket.BinaryMessage, []byte{1}, false), 1)
	f.Fuzz(func(t *testing.T, b []byte, chunk int) {
		const bound, cut = 1024, 4096
		whole := parseAll(b, 0, bound, cut)
		chunked := parseAll(b, 1+abs(chunk)%16, bound, cut)
		if fmt.Sprint(whole) != fmt.Sprint(chunked) {
			t.Fatalf("whole %v, in chunks %v", whole, chunked)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
