//go:build unix

package wsframe

import (
	"net"
	"testing"
)

// TestSocketAllocs: a non-blocking write and read, the two calls a room
// makes per player per tick, allocate nothing.
func TestSocketAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	wa, rb := NewSocket(a), NewSocket(b)
	if wa == nil || rb == nil {
		t.Fatal("a loopback TCP connection has no socket")
	}
	msg, buf := []byte("0123456789"), make([]byte, 64)
	got := 0
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := wa.WriteNow(msg); n != len(msg) || err != nil {
			t.Fatalf("WriteNow = %d, %v", n, err)
		}
		for n := 0; n == 0; { // on loopback the bytes are there at once, or nearly
			var err error
			if n, err = rb.readNow(buf); err != nil {
				t.Fatal(err)
			}
			got += n
		}
	})
	if allocs != 0 {
		t.Errorf("a write and a read allocate %v times; want 0", allocs)
	}
	if n, err := rb.readNow(buf); n != 0 || err != nil {
		t.Errorf("readNow with nothing sent = %d, %v; want 0, nil", n, err)
	}
}
