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
// Each seat numbers its events from 1 (seq); an event for a seat whose
// player is away still takes a number, so after reconnecting the client
// sees the gap (Welcome.event_seq tells the newest number sent before).
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
	s := st.session
	if s == nil {
		return // the gap shows in the seq after reconnecting
	}
	b, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Event{Event: &skirmishv1.GameEvent{
		Seq: st.eventSeq, Tick: r.tick, Type: ev.Type, Payload: ev.Payload,
	}}}).MarshalVT()
	if err != nil {
		r.log.Error("encode game event", "err", err)
		return
	}
	if !s.out.push(b) {
		s.Fail(skirmishv1.ErrorCode_ERROR_CODE_TOO_SLOW, "the connection fell too far behind the game events")
		s.abortLater()
		r.metrics.disconnects.WithLabelValues("too_slow").Inc()
		st.session = nil
		st.dropped = time.Now()
		return
	}
	r.metrics.events.Inc()
	r.metrics.eventBytes.Add(float64(len(b)))
}
