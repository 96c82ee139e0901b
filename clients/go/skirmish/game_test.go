package skirmish

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSendTimesReportsEachInputOnce(t *testing.T) {
	var st sendTimes
	t0 := time.Now()
	for seq := uint32(1); seq <= 5; seq++ {
		st.put(seq, t0.Add(time.Duration(seq)*time.Millisecond))
	}
	got := st.applied(3, t0.Add(10*time.Millisecond), nil)
	want := []appliedInput{{1, 9 * time.Millisecond}, {2, 8 * time.Millisecond}, {3, 7 * time.Millisecond}}
	if len(got) != len(want) {
		t.Fatalf("applied(3) = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("applied(3)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := st.applied(3, t0.Add(20*time.Millisecond), nil); len(got) != 0 {
		t.Errorf("applied(3) again = %v, want nothing", got)
	}
	// A server claiming inputs the client never sent reports only up to
	// the newest sent.
	if got := st.applied(1000, t0.Add(20*time.Millisecond), nil); len(got) != 2 || got[1].seq != 5 {
		t.Errorf("applied(1000) = %v, want seqs 4 and 5", got)
	}
}

func TestSendTimesForgetsOverwrittenInputs(t *testing.T) {
	var st sendTimes
	t0 := time.Now()
	for seq := uint32(1); seq <= 300; seq++ {
		st.put(seq, t0)
	}
	got := st.applied(300, t0.Add(time.Millisecond), nil)
	if len(got) != 256 || got[0].seq != 45 || got[255].seq != 300 {
		t.Fatalf("applied(300) = %d inputs from %v, want the newest 256 (45..300)", len(got), got[0])
	}
}

// TestSendAfterServerCloseWaitsForDone: a send that fails because the
// server closed the connection (gorilla answered the close on the reading
// goroutine) returns only once Done is closed, unless the caller's own
// Close sent the close.
func TestSendAfterServerCloseWaitsForDone(t *testing.T) {
	g := &Game{done: make(chan struct{})}
	returned := make(chan error)
	go func() { returned <- g.afterSend(fmt.Errorf("send input: %w", websocket.ErrCloseSent)) }()
	select {
	case <-returned:
		t.Fatal("the failed send returned before Done was closed")
	case <-time.After(50 * time.Millisecond):
	}
	close(g.done)
	if err := <-returned; !errors.Is(err, websocket.ErrCloseSent) {
		t.Fatalf("afterSend returned %v, want the send's error", err)
	}

	closing := &Game{done: make(chan struct{}), closed: true}
	if err := closing.afterSend(websocket.ErrCloseSent); !errors.Is(err, websocket.ErrCloseSent) {
		t.Fatalf("afterSend after Close returned %v", err)
	}
}
