package webtransport

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

func TestReadFrame(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"empty frame", []byte{0}, []byte{}, nil},
		{"short", appendFrame(nil, []byte("abc")), []byte("abc"), nil},
		{"too large", appendFrame(nil, make([]byte, 200)), nil, errFrameTooLarge},
		{"truncated", []byte{5, 1, 2}, nil, errors.New("any")},
		{"bad varint", bytes.Repeat([]byte{0xff}, 11), nil, errors.New("any")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), nil, 100)
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("readFrame = %v", err)
			case tc.err != nil && err == nil:
				t.Fatalf("readFrame = %q, want an error", got)
			case errors.Is(tc.err, errFrameTooLarge) && !errors.Is(err, errFrameTooLarge):
				t.Fatalf("readFrame error = %v, want %v", err, errFrameTooLarge)
			case tc.err == nil && !bytes.Equal(got, tc.want):
				t.Fatalf("readFrame = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsSnapshot(t *testing.T) {
	if !isSnapshot([]byte{0x12, 0}) || isSnapshot([]byte{0x0a, 0}) || isSnapshot(nil) {
		t.Fatal("isSnapshot disagrees with ServerMessage's field numbers")
	}
}

// FuzzReadFrame: any bytes from a player either give frames within the
// limit or an error, never a panic.
func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, []byte("hello")))
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			b, err := readFrame(r, nil, 4096)
			if err != nil {
				return
			}
			if len(b) > 4096 {
				t.Fatalf("frame of %d bytes", len(b))
			}
		}
	})
}
