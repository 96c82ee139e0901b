package room

import (
	"sync"
	"time"
)

// Conns tracks the connections of one transport so that it can shut down
// in the same steps as every other: refuse new connections, cut those that
// have not joined, give joined ones a grace period to flush what their room
// queued, then cut the rest. C is the transport's connection type.
type Conns[C comparable] struct {
	mu     sync.Mutex
	conns  map[C]bool // true once joined
	closed bool
	wg     sync.WaitGroup
}

// Track registers a new connection; it returns false once Close started.
// Every tracked connection must be untracked when its handler returns.
func (t *Conns[C]) Track(c C) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if t.conns == nil {
		t.conns = make(map[C]bool)
	}
	t.conns[c] = false
	t.wg.Add(1)
	return true
}

// Joined marks a connection as joined to a room.
func (t *Conns[C]) Joined(c C) {
	t.mu.Lock()
	t.conns[c] = true
	t.mu.Unlock()
}

// Untrack forgets a connection whose handler returned.
func (t *Conns[C]) Untrack(c C) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.wg.Done()
}

// Close refuses new connections and cuts those that have not joined at
// once; joined ones get grace to finish, then are cut too. It returns when
// every tracked connection was untracked.
func (t *Conns[C]) Close(grace time.Duration, cut func(C)) {
	t.mu.Lock()
	t.closed = true
	t.cutLocked(false, cut)
	t.mu.Unlock()

	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	t.mu.Lock()
	t.cutLocked(true, cut)
	t.mu.Unlock()
	<-done
}

func (t *Conns[C]) cutLocked(all bool, cut func(C)) {
	for c, joined := range t.conns {
		if joined && !all {
			continue
		}
		cut(c)
	}
}
