package room

import (
	"context"
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
type outbound struct {
	mu      sync.Mutex
	frames  [][]byte
	snapAt  int // index of the pending snapshot in frames, or -1
	behind  int
	closing *closing
	wake    chan struct{}
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

// push queues a frame; it reports false when the queue is full or closed.
func (o *outbound) push(frame []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil || len(o.frames) >= maxQueued {
		return false
	}
	o.frames = append(o.frames, frame)
	o.signal()
	return true
}

// pushSnapshot queues a snapshot, replacing one still waiting. It returns
// how many snapshots in a row were replaced without being written: 0 when
// none was waiting.
func (o *outbound) pushSnapshot(frame []byte) (behind int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil {
		return 0
	}
	if o.snapAt >= 0 {
		o.frames[o.snapAt] = frame
		o.behind++
		return o.behind
	}
	o.snapAt = len(o.frames)
	o.frames = append(o.frames, frame)
	o.signal()
	return 0 // take reset behind when it took the last snapshot
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

// take waits for frames and returns them, with the close reason once the
// queue is closing and everything before it was taken.
func (o *outbound) take(ctx context.Context) ([][]byte, *closing, error) {
	for {
		o.mu.Lock()
		frames, c := o.frames, o.closing
		if len(frames) > 0 || c != nil {
			o.frames, o.snapAt = nil, -1
			if len(frames) > 0 {
				o.behind = 0
			}
			o.mu.Unlock()
			return frames, c, nil
		}
		o.mu.Unlock()
		select {
		case <-o.wake:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}
