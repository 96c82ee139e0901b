package room

import (
	"context"
	"slices"
	"sync"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// maxQueued bounds the frames other than snapshots (welcome, pong, errors,
// match end) waiting for one connection.
const maxQueued = 64

// outbound is the bounded queue of frames for one connection. A snapshot
// not yet written when the next one is ready is replaced by it (safe, since
// each snapshot is a delta against one the client acknowledged, never
// against the one replaced); behind counts how many ticks in a row that
// happened, so the room can cut off a client that stays behind.
//
// When the transport is a DirectWriter and nothing is waiting, a frame is
// written at once by the goroutine that pushes it (the room's, for
// snapshots), without waking the connection's writing goroutine; that
// goroutine only takes over for a connection that cannot take a frame
// without blocking.
type outbound struct {
	mu      sync.Mutex
	frames  [][]byte
	snapAt  int // index of the pending snapshot in frames, or -1
	behind  int
	closing *closing
	wake    chan struct{}

	// direct is the transport while WriteLoop runs, if it can take frames
	// without blocking; nil otherwise.
	direct DirectWriter
	// busy: the writing goroutine holds frames it took and has not written
	// yet, so a new frame must queue behind them.
	busy bool
	// flush: TryWrite left part of a frame, which the writing goroutine
	// must finish before anything else is written.
	flush bool
	// wroteDirect counts a frame other than a snapshot written by
	// TryWrite (nil: not counted); the room counts its snapshots itself.
	wroteDirect func()
}

type closing struct {
	code   skirmishv1.ErrorCode
	reason string
}

func newOutbound() *outbound {
	return &outbound{snapAt: -1, wake: make(chan struct{}, 1)}
}

func (o *outbound) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// tryDirect writes frame through the transport at once when nothing is
// queued or being written before it; it reports whether the frame was
// taken (whole, or in part with the rest left for the writing goroutine).
// o.mu is held.
func (o *outbound) tryDirect(frame []byte) bool {
	if o.direct == nil || o.busy || o.flush || len(o.frames) > 0 {
		return false
	}
	written, flush := o.direct.TryWrite(frame)
	if flush {
		o.flush = true
		o.signal()
	}
	return written
}

// push queues a frame, or writes it at once (tryDirect); it reports false
// when the queue is full or closed.
func (o *outbound) push(frame []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil || len(o.frames) >= maxQueued {
		return false
	}
	if o.tryDirect(frame) {
		if o.wroteDirect != nil {
			o.wroteDirect()
		}
		return true
	}
	o.frames = append(o.frames, frame)
	o.signal()
	return true
}

// pushSnapshot queues a copy of a snapshot, replacing one still waiting,
// or writes it at once (tryDirect, then direct is true): frame is not kept
// after it returns. It returns how many snapshots in a row were replaced
// without being written: 0 when none was waiting.
func (o *outbound) pushSnapshot(frame []byte) (behind int, direct bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil {
		return 0, false
	}
	if o.snapAt >= 0 {
		o.frames[o.snapAt] = slices.Clone(frame)
		o.behind++
		return o.behind, false
	}
	if o.tryDirect(frame) {
		o.behind = 0
		return 0, true
	}
	o.snapAt = len(o.frames)
	o.frames = append(o.frames, slices.Clone(frame))
	o.signal()
	return 0, false // take reset behind when it took the last snapshot
}

// close queues last (if not nil) as the final frame and marks the queue
// closing; keep tells whether frames already queued are still written.
func (o *outbound) close(c closing, last []byte, keep bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil {
		return
	}
	if !keep {
		o.frames = nil
	} else if o.snapAt >= 0 && c.code != skirmishv1.ErrorCode_ERROR_CODE_UNSPECIFIED {
		o.frames = append(o.frames[:o.snapAt], o.frames[o.snapAt+1:]...)
	}
	o.snapAt = -1
	if last != nil {
		o.frames = append(o.frames, last)
	}
	o.closing = &c
	o.signal()
}

// batch is what the writing goroutine takes from the queue at once.
type batch struct {
	frames  [][]byte
	flush   bool     // finish the frame TryWrite left first
	closing *closing // close after the frames (nil: not yet)
}

// take waits for frames and returns them, with the close reason once the
// queue is closing and everything before it was taken. Until done is
// called, frames pushed meanwhile queue behind the batch.
func (o *outbound) take(ctx context.Context) (batch, error) {
	for {
		o.mu.Lock()
		b := batch{frames: o.frames, flush: o.flush, closing: o.closing}
		if len(b.frames) > 0 || b.flush || b.closing != nil {
			o.frames, o.snapAt, o.flush, o.busy = nil, -1, false, true
			if len(b.frames) > 0 {
				o.behind = 0
			}
			o.mu.Unlock()
			return b, nil
		}
		o.mu.Unlock()
		select {
		case <-o.wake:
		case <-ctx.Done():
			return batch{}, ctx.Err()
		}
	}
}

// done tells the queue the batch taken last is written.
func (o *outbound) done() {
	o.mu.Lock()
	o.busy = false
	o.mu.Unlock()
}

// writeDirect lets frames be written at once through t from now on, until
// stopDirect.
func (o *outbound) writeDirect(t DirectWriter, counted func()) {
	o.mu.Lock()
	o.direct, o.wroteDirect = t, counted
	o.mu.Unlock()
}

func (o *outbound) stopDirect() {
	o.mu.Lock()
	o.direct = nil
	o.mu.Unlock()
}
