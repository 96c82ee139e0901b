package ws

import (
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestQuietWhilePolled: while the room polls a connection, an input that
// arrives does not make the socket readable to epoll, the mechanism the
// runtime's network poller waits on, so it wakes nobody; the room's
// non-blocking read still gets it. A close still does. Once the reading
// goroutine takes over again, the socket is readable at once for what
// waits in it. The epoll instance here is the test's own, watching the
// same socket as the runtime's.
func TestQuietWhilePolled(t *testing.T) {
	c, cl := pair(t, 0)
	var fd int
	c.w.sock.Control(func(f uintptr) { fd = int(f) })
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
		t.Fatal(err)
	}
	ready := func() uint32 {
		t.Helper()
		ev := make([]syscall.EpollEvent, 1)
		n, err := syscall.EpollWait(ep, ev, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return 0
		}
		return ev[0].Events
	}
	// waiting is how many bytes the socket holds unread (SIOCINQ).
	waiting := func() int {
		var n int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			t.Fatal(e)
		}
		return int(n)
	}
	send := func(tick uint32) {
		t.Helper()
		b, _ := (&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Ack{Ack: &skirmishv1.SnapshotAck{Tick: tick}}}).MarshalVT()
		if err := cl.WriteMessage(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); waiting() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the frame never reached the server's socket")
			}
		}
	}

	c.pauseReading()
	send(1)
	if ev := ready(); ev != 0 {
		t.Fatalf("an input made the polled socket readable (events %#x)", ev)
	}
	var got []uint32
	handle := func(_ time.Time, m *skirmishv1.ClientMessage) error {
		got = append(got, m.GetAck().GetTick())
		return nil
	}
	if !c.Poll(time.Now(), handle) || len(got) != 1 || got[0] != 1 {
		t.Fatalf("Poll handled acks %v; want [1]", got)
	}

	send(2)
	c.resumeReading()
	if ev := ready(); ev&syscall.EPOLLIN == 0 {
		t.Fatalf("after resumeReading the socket holding a frame is not readable (events %#x)", ev)
	}
	if m, err := c.read(); err != nil || m.GetAck().GetTick() != 2 {
		t.Fatalf("read = %v, %v; want the ack of tick 2", m, err)
	}

	c.pauseReading()
	cl.NetConn().Close()
	for deadline := time.Now().Add(5 * time.Second); ready()&syscall.EPOLLRDHUP == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the player's close did not make the polled socket readable")
		}
	}
	if c.Poll(time.Now(), handle) {
		t.Fatal("Poll kept a closed connection")
	}
}
