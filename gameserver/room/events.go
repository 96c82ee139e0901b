package room

import (
	"fmt"
	"math"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Game events (game.Eventer). After every tick the room takes the game's
// events and sends each to its recipients as a GameEvent on the reliable
// stream, after the frames already queued and before the tick's
// snapshot, so a player sees events in the order the game emitted them
// (over WebTransport a snapshot, sent as a datagram, may still overtake
// them).
// Each seat numbers its events from 1 (seq) and keeps the newest
// (eventLogLen, eventLogBytes). A client that reconnects tells the newest
// it holds (Join.last_event_seq); right after the Welcome the room sends
// again those after it that it still keeps, in order, so events queued on
// a connection that dropped, or sent while the player was away, are not
// lost. Events older than what the room keeps show as a gap in seq.
//
// Bounds: a tick sends at most Mode.MaxEventBytes (type plus payload, per
// recipient); the rest waits for the next ticks in order. A game whose
// waiting events exceed eventBacklogTicks ticks' worth, or that emits one
// event larger than a tick's bound, broke the seam's contract: the room
// ends as if the game had panicked (END_REASON_ERROR). A connection whose
// queue of reliable frames is full is cut (ERROR_CODE_TOO_SLOW), never
// left with a hole: the player reconnects and gets a fresh snapshot.

// eventBacklogTicks bounds the events waiting to be sent, in ticks' worth
// of Mode.MaxEventBytes.
const eventBacklogTicks = 16

// What a seat keeps of the events sent to it, for resending: the newest
// eventLogLen, at most eventLogBytes of type and payload. They are queued
// at once with the Welcome, before the connection's writer runs, so
// eventLogLen stays below the connection's queue of 64 frames.
const (
	eventLogLen   = 48
	eventLogBytes = 64 << 10
)

// eventLog is the newest events of one seat, oldest first.
type eventLog struct {
	events []*skirmishv1.GameEvent
	bytes  int
}

func (l *eventLog) add(e *skirmishv1.GameEvent) {
	l.events = append(l.events, e)
	l.bytes += len(e.Type) + len(e.Payload)
	drop := 0
	for len(l.events)-drop > eventLogLen || l.bytes > eventLogBytes {
		old := l.events[drop]
		l.bytes -= len(old.Type) + len(old.Payload)
		l.events[drop] = nil
		drop++
	}
	l.events = l.events[drop:]
}

// resendEvents queues again, on the seat's new connection, the events it
// keeps after seq after.
func (r *Room) resendEvents(st *seat, after uint64) {
	for _, e := range st.sentEvents.events {
		if e.Seq > after && !r.pushEvent(st, e) {
			return
		}
	}
}

// eventFault is the panic value of a game that broke the event bounds.
type eventFault string

func (f eventFault) String() string { return "game events: " + string(f) }

// takeEvents moves the game's new events to the room's backlog.
func (r *Room) takeEvents() {
	if r.eventer == nil {
		return
	}
	limit := r.mode.MaxEventBytes
	for _, ev := range r.eventer.Events() {
		size := len(ev.Type) + len(ev.Payload)
		switch {
		case ev.Type == "":
			panic(eventFault("an event without a type"))
		case size > limit:
			panic(eventFault(fmt.Sprintf("a %q event of %d bytes, over the mode's bound of %d per tick", ev.Type, size, limit)))
		case ev.To != "" && r.seatOf(ev.To) == nil:
			panic(eventFault(fmt.Sprintf("a %q event to %q, who has no seat", ev.Type, ev.To)))
		}
		r.eventBacklog = append(r.eventBacklog, ev)
		r.eventBytes += size
	}
	if r.eventBytes > eventBacklogTicks*limit {
		panic(eventFault(fmt.Sprintf("%d bytes waiting to be sent, over %d ticks' worth", r.eventBytes, eventBacklogTicks)))
	}
}

// sendEvents sends waiting events, oldest first, up to the mode's bytes
// per tick, or all of them when all is set (the match ended).
func (r *Room) sendEvents(all bool) {
	budget := r.mode.MaxEventBytes
	if all {
		budget = math.MaxInt
	}
	sent := 0
	for _, ev := range r.eventBacklog {
		size := len(ev.Type) + len(ev.Payload)
		cost := size * r.recipients(ev)
		if cost > budget && sent > 0 {
			break
		}
		budget -= cost
		sent++
		r.eventBytes -= size
		if ev.To != "" {
			r.sendEvent(r.seatOf(ev.To), ev)
			continue
		}
		for _, st := range r.seats {
			r.sendEvent(st, ev)
		}
	}
	clear(r.eventBacklog[:sent])
	r.eventBacklog = r.eventBacklog[sent:]
	if len(r.eventBacklog) == 0 {
		r.eventBacklog = nil
	}
}

// recipients is how many seats an event goes to.
func (r *Room) recipients(ev game.Event) int {
	if ev.To != "" {
		return 1
	}
	n := 0
	for _, st := range r.seats {
		if !st.left {
			n++
		}
	}
	return n
}

// sendEvent numbers an event for one seat and queues it on the seat's
// connection, if any. Seats gone for good get nothing.
func (r *Room) sendEvent(st *seat, ev game.Event) {
	if st.left {
		return
	}
	st.eventSeq++
	e := &skirmishv1.GameEvent{Seq: st.eventSeq, Tick: r.tick, Type: ev.Type, Payload: ev.Payload}
	st.sentEvents.add(e)
	if st.session != nil { // else it is resent when the player reconnects
		r.pushEvent(st, e)
	}
}

// pushEvent queues one event on the seat's connection; it reports false
// when the connection was cut because its queue is full.
func (r *Room) pushEvent(st *seat, e *skirmishv1.GameEvent) bool {
	s := st.session
	b, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Event{Event: e}}).MarshalVT()
	if err != nil {
		r.log.Error("encode game event", "err", err)
		return true
	}
	if !s.out.push(b) {
		s.Fail(skirmishv1.ErrorCode_ERROR_CODE_TOO_SLOW, "the connection fell too far behind the game events")
		s.abortLater()
		r.metrics.disconnects.WithLabelValues("too_slow").Inc()
		st.session = nil
		st.dropped = time.Now()
		return false
	}
	r.metrics.events.Inc()
	r.metrics.eventBytes.Add(float64(len(b)))
	return true
}
