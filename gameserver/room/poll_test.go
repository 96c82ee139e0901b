package room

import (
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// pollTransport is a chanTransport the room reads itself (Poller): each
// Poll hands the room what give queued, with the tick's time, and records
// that time. Once handOff is set, Poll leaves what is queued and returns
// false, as the ws transport does for a message its reading goroutine must
// handle.
type pollTransport struct {
	*chanTransport
	mu      sync.Mutex
	queued  []*skirmishv1.ClientMessage
	polls   []time.Time
	handOff bool
}

func (p *pollTransport) Poll(now time.Time, handle func(time.Time, *skirmishv1.ClientMessage) error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls = append(p.polls, now)
	if p.handOff {
		return false
	}
	for _, m := range p.queued {
		if err := handle(now, m); err != nil {
			return false
		}
	}
	p.queued = nil
	return true
}

func (p *pollTransport) give(m *skirmishv1.ClientMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queued = append(p.queued, m)
}

func (p *pollTransport) setHandOff() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handOff = true
}

func (p *pollTransport) pollTimes() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.polls...)
}

func inputsMessage(ack uint32, seqs ...uint32) *skirmishv1.ClientMessage {
	return &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Inputs{Inputs: &skirmishv1.Inputs{AckTick: ack, Inputs: inputs(seqs...)}}}
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestPolledConnection: the hand-off of a connection's reading between its
// goroutine and the room (Session.Polled). Before the match runs the room
// does not take it; while it runs, the room reads the connection once a
// tick with the tick's time, applies the inputs and acks it reads and
// counts them; when Poll leaves a message to the reading goroutine the
// room gives the reading back and polls no more; and once the session
// ends the reading is never taken again.
func TestPolledConnection(t *testing.T) {
	m := newManager(t, Config{})
	r, err := m.Create("m-poll", "secret", []game.Seat{{PlayerID: "a"}, {PlayerID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ta := &pollTransport{chanTransport: newTransport(false)}
	sa := attach(t, m, r.ID(), "a", ta.chanTransport)
	if done := sa.Polled(ta); !closed(done) {
		t.Fatal("Polled before the match runs: done is open, want it closed at once")
	}
	attach(t, m, r.ID(), "b", newTransport(false))
	first := nextSnapshot(t, ta.chanTransport) // the match runs
	in0 := counterValue(t, m.metrics.messagesIn)

	done := sa.Polled(ta)
	if closed(done) {
		t.Fatal("Polled while the match runs: done is closed, want the room to read")
	}
	ta.give(inputsMessage(first.Tick, 1))
	ta.give(inputsMessage(first.Tick, 2))
	// The inputs are applied one per tick, and the ack turns the
	// snapshots into deltas against the acknowledged tick.
	for {
		s := nextSnapshot(t, ta.chanTransport)
		if s.LastInputSeq < 2 || s.BaseTick == 0 {
			continue
		}
		if s.BaseTick != first.Tick {
			t.Fatalf("delta against tick %d, want the acknowledged %d", s.BaseTick, first.Tick)
		}
		break
	}
	if closed(done) {
		t.Fatal("done closed while the room reads the connection")
	}
	// The tally reaches the shared counter at the end of the tick.
	deadline := time.Now().Add(wait)
	for counterValue(t, m.metrics.messagesIn) < in0+2 {
		if time.Now().After(deadline) {
			t.Fatalf("messages in = %v, want the 2 polled counted", counterValue(t, m.metrics.messagesIn)-in0)
		}
		nextSnapshot(t, ta.chanTransport)
	}
	polls := ta.pollTimes()
	if len(polls) < 2 {
		t.Fatalf("%d polls, want one a tick", len(polls))
	}
	for i := 1; i < len(polls); i++ {
		// One poll a tick, with the tick's time: never two in a tick.
		if !polls[i].After(polls[i-1]) {
			t.Fatalf("poll %d at %v, poll %d at %v: want one a tick, each with its tick's time", i-1, polls[i-1], i, polls[i])
		}
	}

	// Poll leaves a message to the reading goroutine: the room gives the
	// reading back and stops polling.
	ta.setHandOff()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("done not closed after Poll returned false")
	}
	n := len(ta.pollTimes())
	for range 3 {
		nextSnapshot(t, ta.chanTransport)
	}
	if got := len(ta.pollTimes()); got != n {
		t.Fatalf("the room polled %d more times after the hand-back, want none", got-n)
	}

	// Taken again, then the session ends: the reading is given back for
	// good.
	done = sa.Polled(ta)
	if closed(done) {
		t.Fatal("Polled again while the match runs: done is closed")
	}
	sa.Fail(skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, "test")
	if !closed(done) {
		t.Fatal("done open after the session failed")
	}
	if !closed(sa.Polled(ta)) {
		t.Fatal("Polled after the session ended: done open, want it closed at once")
	}
}
