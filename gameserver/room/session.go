package room

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// Transport is one player's connection as the room sees it (WebSocket or
// WebTransport). The room never calls it directly: a Session's WriteLoop
// does, from one goroutine (and, for a DirectWriter, the room's TryWrite).
type Transport interface {
	// Write sends one encoded ServerMessage. It may block; the transport
	// applies its own write deadline.
	Write(ctx context.Context, frame []byte) error
	// Close ends the connection after the last frame; code is
	// ERROR_CODE_UNSPECIFIED for a normal end (match over, player left).
	Close(code skirmishv1.ErrorCode, reason string) error
}

// DirectWriter is a Transport that can also take a frame without
// blocking. The room then writes a player's frames from its own goroutine
// while the connection keeps up, instead of waking the session's writing
// goroutine for each one: at 30 snapshots a second per player that
// wake-up is a large share of the server's CPU (docs/benchmarks.md).
// WriteLoop still writes whatever could not be taken at once, in order.
type DirectWriter interface {
	Transport
	// TryWrite writes frame if the connection can take it now without
	// blocking. written is false, with nothing written, when it cannot;
	// the frame is then queued for Write. flush is true when only part of
	// the frame was taken: the transport keeps a copy of the rest, and
	// Flush (or Write, or Close) writes it before anything else. frame is
	// not kept after TryWrite returns.
	TryWrite(frame []byte) (written, flush bool)
	// Flush writes what TryWrite left, blocking like Write.
	Flush(ctx context.Context) error
}

// Poller is a Transport the room reads itself, at the start of each tick
// while the match runs, instead of the transport's reading goroutine
// being woken for every message the player sends (docs/benchmarks.md).
type Poller interface {
	Transport
	// Poll reads, without blocking, what the player sent since the last
	// call (now is the tick's time) and hands each Inputs or Ack message
	// to handle with now. It returns false, leaving the rest unread, when the
	// reading goroutine must take over: another message or frame, an
	// error, the end of the connection, or no message for the transport's
	// idle timeout. The room then stops polling it.
	Poll(now time.Time, handle func(now time.Time, m *skirmishv1.ClientMessage) error) bool
}

// Aborter is implemented by transports that can drop the connection at
// once, without a close handshake, so that a Write blocked on a client that
// stopped reading returns. The room uses it to cut such a client within a
// bounded time instead of waiting for the transport's write timeout.
type Aborter interface {
	Abort()
}

// abortGrace is how long a client cut off as too slow gets to take its
// error message and close frame before the connection is aborted.
const abortGrace = time.Second

// Session is one connection's hold on a seat, from Attach until the
// connection ends, the room ends, or a newer connection replaces it.
// Handle is for the transport's reading goroutine, WriteLoop for its
// writing goroutine; both are safe alongside the room's goroutine.
type Session struct {
	room    *Room
	seat    *seat
	welcome *skirmishv1.Welcome
	out     *outbound
	ack     atomic.Uint32
	limiter *ratelimit.Limiter // the seat's input limit

	mu          sync.Mutex
	inputs      []*skirmishv1.Input
	lastLimited time.Time
	transport   Transport     // set by WriteLoop
	written     chan struct{} // closed when WriteLoop returns
	// pollEnded is set once the session ends, so that it is never
	// polled again.
	pollEnded bool
	// poll is set, under mu, while the room polls the connection
	// (Polled); whoever takes it out closes its done. The room reads it
	// every tick without the lock.
	poll atomic.Pointer[polling]

	// Owned by the room goroutine.
	hist snapshot.History
}

// polling is a connection the room reads (Session.Polled).
type polling struct {
	p      Poller
	handle func(time.Time, *skirmishv1.ClientMessage) error // s.handlePolled, bound once
	done   chan struct{}
}

// Polled hands the reading of the connection to the room, which reads it
// at each tick (Poller.Poll) while the match runs, and returns a channel
// that is closed when the reading goroutine must read again: Poll left a
// message or an error to it, the session is ending, or the match is not
// running (then at once). The reading goroutine must not read until then.
func (s *Session) Polled(p Poller) <-chan struct{} {
	done := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pollEnded || !s.room.playing.Load() {
		close(done)
		return done
	}
	s.poll.Store(&polling{p: p, handle: s.handlePolled, done: done})
	return done
}

// pollInputs reads the connection if the room polls it (Polled), handing
// its inputs and acks to handlePolled; the room's goroutine calls it.
func (s *Session) pollInputs(now time.Time) {
	p := s.poll.Load()
	if p == nil || p.p.Poll(now, p.handle) {
		return
	}
	if s.poll.CompareAndSwap(p, nil) { // else stopPolling took it
		close(p.done)
	}
}

// stopPolling gives the reading back to the connection's goroutine for
// good: the session is ending.
func (s *Session) stopPolling() {
	s.mu.Lock()
	p := s.poll.Swap(nil)
	s.pollEnded = true
	s.mu.Unlock()
	if p != nil {
		close(p.done)
	}
}

// Welcome is what the room sent the player on joining.
func (s *Session) Welcome() *skirmishv1.Welcome { return s.welcome }

// ErrClosed is returned by Handle once the session is closing.
var ErrClosed = errors.New("session closed")

// Handle applies one message from the player. A message that is not
// allowed now closes the session with an error the player sees.
func (s *Session) Handle(msg *skirmishv1.ClientMessage) error {
	s.room.metrics.messagesIn.Inc()
	return s.handle(time.Now(), msg)
}

// handlePolled is Handle for the room's goroutine, which polls the
// connection (pollInputs): now is the tick's time, and the message is
// counted in the tick's tally rather than in the shared metric.
func (s *Session) handlePolled(now time.Time, msg *skirmishv1.ClientMessage) error {
	s.room.tally.messagesIn++
	return s.handle(now, msg)
}

func (s *Session) handle(now time.Time, msg *skirmishv1.ClientMessage) error {
	switch m := msg.Msg.(type) {
	case *skirmishv1.ClientMessage_Inputs:
		// The ack rides along even when the inputs are dropped.
		s.acknowledge(m.Inputs.AckTick)
		if !s.limiter.Allow(now) {
			s.refuseRateLimited(m.Inputs.Inputs)
			return nil
		}
		s.queueInputs(m.Inputs.Inputs) // by the mode's input policy (inputs.go)
	case *skirmishv1.ClientMessage_Ack:
		s.acknowledge(m.Ack.Tick)
	case *skirmishv1.ClientMessage_Ping:
		s.send(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Pong{Pong: &skirmishv1.Pong{
			ClientTimeUs: m.Ping.ClientTimeUs,
			ServerTimeUs: time.Now().UnixMicro(),
		}}})
	case *skirmishv1.ClientMessage_Leave:
		s.room.post(event{kind: evLeave, session: s})
	case *skirmishv1.ClientMessage_Join:
		s.Fail(skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, "already joined")
		return fmt.Errorf("second join: %w", ErrClosed)
	default:
		s.Fail(skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, "empty message")
		return fmt.Errorf("empty message: %w", ErrClosed)
	}
	return nil
}

// acknowledge records that the client holds the snapshot of tick, from a
// SnapshotAck or Inputs.ack_tick (0: none); acks only move forward.
func (s *Session) acknowledge(tick uint32) {
	for {
		old := s.ack.Load()
		if tick <= old || s.ack.CompareAndSwap(old, tick) {
			return
		}
	}
}

// rateLimited tells the player at most once a second that inputs were
// dropped.
func (s *Session) rateLimited() {
	s.mu.Lock()
	now := time.Now()
	tell := now.Sub(s.lastLimited) >= time.Second
	if tell {
		s.lastLimited = now
	}
	s.mu.Unlock()
	if tell {
		s.send(errorMessage(skirmishv1.ErrorCode_ERROR_CODE_RATE_LIMITED, "inputs dropped: too many messages"))
	}
}

func (s *Session) takeInputs() []*skirmishv1.Input {
	s.mu.Lock()
	in := s.inputs
	s.inputs = nil
	s.mu.Unlock()
	return in
}

func (s *Session) send(m *skirmishv1.ServerMessage) {
	b, err := m.MarshalVT()
	if err != nil {
		return
	}
	s.out.push(b)
}

// Fail closes the session with an error the player sees, e.g. for a frame
// the transport could not decode.
func (s *Session) Fail(code skirmishv1.ErrorCode, reason string) {
	b, _ := errorMessage(code, reason).MarshalVT()
	s.out.close(closing{code: code, reason: reason}, b, false)
	s.stopPolling()
}

// end closes the session after the frames already queued, with last as
// the final frame.
func (s *Session) end(last *skirmishv1.ServerMessage) {
	var b []byte
	if last != nil {
		b, _ = last.MarshalVT()
	}
	s.out.close(closing{}, b, true)
	s.stopPolling()
}

// abortLater aborts the transport unless WriteLoop returns within
// abortGrace: for a client whose writes are stuck.
func (s *Session) abortLater() {
	time.AfterFunc(abortGrace, func() {
		select {
		case <-s.written:
			return
		default:
		}
		s.mu.Lock()
		t := s.transport
		s.mu.Unlock()
		if a, ok := t.(Aborter); ok {
			a.Abort()
		}
	})
}

// Detach tells the room the connection is gone. The seat stays the
// player's for the reconnection grace period.
func (s *Session) Detach() {
	s.room.post(event{kind: evDetach, session: s})
}

// WriteLoop writes queued frames to t until the session closes (then it
// closes t and returns nil), a write fails, or ctx ends. If t is a
// DirectWriter, frames pushed while nothing waits are written at once by
// the pushing goroutine, and WriteLoop writes only the rest.
func (s *Session) WriteLoop(ctx context.Context, t Transport) error {
	s.mu.Lock()
	s.transport = t
	s.mu.Unlock()
	defer close(s.written)
	direct, _ := t.(DirectWriter)
	if direct != nil {
		s.out.writeDirect(direct, s.room.metrics.messagesOut.Inc)
		defer s.out.stopDirect()
	}
	for {
		b, err := s.out.take(ctx)
		if err != nil {
			return err
		}
		if b.flush {
			if err := direct.Flush(ctx); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		for _, f := range b.frames {
			if err := t.Write(ctx, f); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			s.room.metrics.messagesOut.Inc()
		}
		if b.closing != nil {
			return t.Close(b.closing.code, b.closing.reason)
		}
		s.out.done()
	}
}

func errorMessage(code skirmishv1.ErrorCode, text string) *skirmishv1.ServerMessage {
	return &skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Error{Error: &skirmishv1.Error{Code: code, Message: text}}}
}
