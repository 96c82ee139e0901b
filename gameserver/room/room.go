package room

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

type seat struct {
	game.Seat
	limiter    ratelimit.Limiter // the player's input limit, kept across reconnections
	session    *Session          // the live connection, or nil
	joined     bool              // connected at least once
	left       bool              // gone for good
	dropped    time.Time
	added      time.Time           // when a backfill seat was added mid-match
	lastSeq    uint32              // newest input applied
	pending    []*skirmishv1.Input // inputs waiting for their tick, by seq
	backlog    int                 // ticks in a row that left inputs waiting
	entity     uint32
	team       uint32
	rosterSeen uint64 // the roster version this seat's connection has (roster.go)
	// eventSeq is the seq of the newest game event sent to the seat;
	// sentEvents keeps the newest for resending after a reconnection
	// (events.go).
	eventSeq   uint64
	sentEvents eventLog
}

type eventKind int

const (
	evAttach eventKind = iota
	evDetach
	evLeave
	evAddSeats
)

type event struct {
	kind     eventKind
	session  *Session
	playerID string
	reply    chan attachReply
	seats    []game.Seat
	added    chan error

	// eventsAfter, for evAttach, is Join.last_event_seq: the newest game
	// event the client holds.
	eventsAfter uint64
}

type attachReply struct {
	session *Session
	err     error
}

// Room is one match: a goroutine that owns the game and its seats.
type Room struct {
	id, matchID string
	mode        game.Mode
	game        game.Game
	seats       []*seat
	taken       int // seats not left for good, as counted in m.seats (m.mu)
	m           *Manager
	metrics     *metrics
	tally       tally  // this tick's counts, added to metrics at its end
	frameBuf    []byte // the snapshot frame being sent (sendSnapshot)
	log         *slog.Logger

	events   chan event
	shutdown chan struct{} // closed when the server gives up draining
	done     chan struct{} // closed when the goroutine has ended

	state     string
	tick      uint32
	enc       snapshotEncoder // this tick's shared snapshot bodies
	started   time.Time
	maxBehind int

	// lastTick is when the running room last finished a tick (Unix ns),
	// 0 while it is not running; Manager.Stalled reads it.
	lastTick atomic.Int64
	// playing is true while play ticks the game: connections are polled
	// (Session.Polled) only then.
	playing atomic.Bool

	// Game events (events.go): eventer and resyncer are nil when the game
	// does not implement them; eventBacklog waits to be sent, eventBytes
	// is its size.
	eventer      game.Eventer
	resyncer     game.Resyncer
	eventBacklog []game.Event
	eventBytes   int

	backfill  game.Backfiller // nil when the game takes no newcomers
	open      []game.Seat     // seats offered for backfill
	cancelled bool
	crashed   bool // the game panicked; it is never called again (crash.go)

	// rosterVersion counts roster changes; rosterSent is the version last
	// sent (roster.go).
	rosterVersion, rosterSent uint64
}

// ID returns the room id.
func (r *Room) ID() string { return r.id }

// post hands an event to the room goroutine, or drops it once the room is
// gone.
func (r *Room) post(ev event) {
	select {
	case r.events <- ev:
	case <-r.done:
	}
}

func (r *Room) setState(s string) {
	if r.state != "" {
		r.metrics.rooms.WithLabelValues(r.state, r.mode.Name).Dec()
	}
	r.state = s
	if s != "" {
		r.metrics.rooms.WithLabelValues(s, r.mode.Name).Inc()
	}
}

// run is the room's goroutine: waiting, running, ended, disposed.
func (r *Room) run(ctx context.Context) {
	defer close(r.done)
	defer r.setState("")
	r.setState(StateWaiting)
	reason := r.wait()
	if reason == skirmishv1.EndReason_END_REASON_UNSPECIFIED {
		r.setState(StateRunning)
		r.started = time.Now()
		r.lastTick.Store(r.started.UnixNano())
		// The matchmaker tells a running match (recorded as lost if this
		// server dies) from a room still waiting (requeued) by this event.
		r.report(skirmishv1.RoomEvent_ROOM_EVENT_STARTED, nil)
		r.guard("start", func() {
			for _, st := range r.seats {
				if !st.joined && !st.left { // missed the join deadline
					r.leftForGood(st)
				}
			}
		})
		r.flushRoster()
		if r.crashed {
			reason = skirmishv1.EndReason_END_REASON_ERROR
		} else {
			reason = r.play()
		}
		r.lastTick.Store(0)
	}
	r.setState(StateEnded)
	r.finish(ctx, reason)
	if r.cancelled {
		var missing []string
		for _, st := range r.seats {
			if !st.joined {
				missing = append(missing, st.PlayerID)
			}
		}
		r.report(skirmishv1.RoomEvent_ROOM_EVENT_CANCELLED, missing)
	} else {
		r.report(skirmishv1.RoomEvent_ROOM_EVENT_ENDED, nil)
	}
}

// wait admits players until every seat has joined (it returns
// UNSPECIFIED: play), or the join deadline passes with fewer than the
// mode's minimum (ABANDONED), or the server shuts down (SHUTDOWN), or the
// game panics (ERROR).
func (r *Room) wait() skirmishv1.EndReason {
	deadline := time.NewTimer(r.m.cfg.JoinTimeout)
	defer deadline.Stop()
	for {
		if r.joinedCount() == len(r.seats) {
			return skirmishv1.EndReason_END_REASON_UNSPECIFIED
		}
		select {
		case ev := <-r.events:
			if r.handleGuarded(ev); r.crashed {
				return skirmishv1.EndReason_END_REASON_ERROR
			}
			r.flushRoster()
		case <-deadline.C:
			if r.joinedCount() >= r.mode.MinPlayers {
				return skirmishv1.EndReason_END_REASON_UNSPECIFIED
			}
			r.log.Info("room cancelled: too few players joined", "joined", r.joinedCount(), "min", r.mode.MinPlayers)
			r.cancelled = true
			return skirmishv1.EndReason_END_REASON_ABANDONED
		case <-r.shutdown:
			return skirmishv1.EndReason_END_REASON_SHUTDOWN
		}
	}
}

// play ticks the game at the mode's rate until it ends (UNSPECIFIED: the
// game's reason stands), every player is gone for good (ABANDONED: left,
// or dropped past the reconnection grace; nobody is left to play for),
// the server shuts down (SHUTDOWN) or the game panics (ERROR).
func (r *Room) play() skirmishv1.EndReason {
	r.playing.Store(true)
	defer r.playing.Store(false)
	period := time.Second / time.Duration(r.mode.TickRate)
	t := phaseTicker(period)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case ev := <-r.events:
			if r.handleGuarded(ev); r.crashed {
				return skirmishv1.EndReason_END_REASON_ERROR
			}
			r.flushRoster()
		case <-t.C:
			start := time.Now()
			if gap := start.Sub(last); gap > period*3/2 {
				// The ticker drops ticks the room was too late to take.
				r.metrics.ticksSkipped.Add(float64(gap/period - 1))
			}
			last = start
			var ended bool
			ok := r.guard("tick", func() { ended = r.step() })
			r.tally.flush(r.metrics) // what was sent before a panic, too
			if !ok {
				return skirmishv1.EndReason_END_REASON_ERROR
			}
			r.metrics.ticks.Inc()
			took := time.Since(start)
			r.lastTick.Store(start.Add(took).UnixNano())
			r.metrics.tickSeconds.Observe(took.Seconds())
			if took > period {
				r.metrics.tickOverruns.Inc()
			}
			if ended {
				return skirmishv1.EndReason_END_REASON_UNSPECIFIED
			}
			r.flushRoster() // after a drop or a leave this tick; free otherwise
			if r.allGone() {
				r.log.Info("room abandoned: every player is gone for good")
				return skirmishv1.EndReason_END_REASON_ABANDONED
			}
		case <-r.shutdown:
			return skirmishv1.EndReason_END_REASON_SHUTDOWN
		}
	}
}

// phaseTicker returns a ticker whose ticks fall on multiples of period
// (in wall-clock time), after waiting for the next one (at most a period).
// Every room of a tick rate then ticks in phase: the process wakes once a
// tick and the rooms run back to back, rather than each room waking it at
// its own moment, which on a lightly loaded server costs more CPU than the
// rooms' work (docs/benchmarks.md). The price is a burst: the last room in
// it sends its snapshots later in the tick than the first.
func phaseTicker(period time.Duration) *time.Ticker {
	time.Sleep(time.Until(time.Now().Truncate(period).Add(period)))
	return time.NewTicker(period)
}

// allGone reports whether every seat is gone for good, so no one can
// come back to the match.
func (r *Room) allGone() bool {
	for _, s := range r.seats {
		if !s.left {
			return false
		}
	}
	return len(r.seats) > 0
}

func (r *Room) joinedCount() int {
	n := 0
	for _, s := range r.seats {
		if s.joined {
			n++
		}
	}
	return n
}

func (r *Room) seatOf(playerID string) *seat {
	for _, s := range r.seats {
		if s.PlayerID == playerID {
			return s
		}
	}
	return nil
}

func (r *Room) handle(ev event) {
	switch ev.kind {
	case evAttach:
		s, err := r.attach(ev.playerID, ev.eventsAfter)
		ev.reply <- attachReply{s, err}
	case evDetach:
		if st := ev.session.seat; st.session == ev.session {
			st.session = nil
			st.dropped = time.Now()
			r.rosterChanged()
			r.log.Debug("player dropped", "player", st.PlayerID)
		}
	case evLeave:
		if st := ev.session.seat; st.session == ev.session {
			st.session = nil
			r.leftForGood(st)
			ev.session.end(nil)
		}
	case evAddSeats:
		ev.added <- r.addSeats(ev.seats)
	}
}

func (r *Room) attach(playerID string, eventsAfter uint64) (*Session, error) {
	st := r.seatOf(playerID)
	if st == nil || st.left {
		return nil, ErrNotSeated
	}
	resumed := st.joined
	if old := st.session; old != nil {
		old.Fail(skirmishv1.ErrorCode_ERROR_CODE_REPLACED, "a newer connection took this seat")
		r.metrics.disconnects.WithLabelValues("replaced").Inc()
	}
	if !st.joined {
		st.entity, st.team = r.game.Join(playerID)
		st.joined = true
	}
	s := &Session{room: r, seat: st, out: newOutbound(), limiter: &st.limiter, written: make(chan struct{})}
	st.session = s
	r.rosterChanged()
	st.rosterSeen = r.rosterVersion
	s.welcome = &skirmishv1.Welcome{
		RoomId:     r.id,
		MatchId:    r.matchID,
		PlayerId:   playerID,
		EntityId:   st.entity,
		Team:       st.team,
		Mode:       r.mode.Name,
		TickRateHz: uint32(r.mode.TickRate),
		Resumed:    resumed,
		Roster:     r.roster(),
		EventSeq:   st.eventSeq,
		InputPolicy: map[game.InputKind]skirmishv1.InputPolicy{
			game.LatestWins: skirmishv1.InputPolicy_INPUT_POLICY_LATEST_WINS,
			game.Ordered:    skirmishv1.InputPolicy_INPUT_POLICY_ORDERED,
		}[r.mode.Input.Kind],
		MaxInputPayload: uint32(r.mode.Input.MaxPayloadBytes),
		MaxQueuedInputs: uint32(r.mode.Input.MaxQueued),
	}
	s.send(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Welcome{Welcome: s.welcome}})
	st.lastSeq, st.pending, st.backlog = 0, nil, 0 // a new connection numbers its inputs afresh
	r.resendEvents(st, eventsAfter)                // sent while away, or before a backfill seat's first join
	if resumed && r.resyncer != nil {
		r.resyncer.Resync(playerID)
	}
	return s, nil
}

// step runs one tick: reconnection deadlines, inputs, simulation,
// snapshots. It reports whether the game ended.
func (r *Room) step() bool {
	r.tick++
	now := time.Now()
	for _, st := range r.seats {
		switch {
		case st.joined && !st.left && st.session == nil && now.Sub(st.dropped) >= r.m.cfg.ReconnectGrace:
			r.log.Debug("player left: reconnection grace over", "player", st.PlayerID)
			r.leftForGood(st)
		case !st.joined && !st.left && !st.added.IsZero() && now.Sub(st.added) >= r.m.cfg.JoinTimeout:
			r.log.Debug("backfill player did not join in time", "player", st.PlayerID)
			r.leftForGood(st)
		}
	}
	for _, st := range r.seats {
		if st.session == nil {
			continue
		}
		st.session.pollInputs(now)
		if r.mode.Input.Kind == game.Ordered {
			r.applyOrdered(st)
		} else {
			r.applyInputs(st)
		}
	}
	ended := r.game.Tick()
	r.takeEvents()
	r.sendEvents(ended) // the last tick sends every event left
	// Backfill stops when the game wants no more newcomers, or the server
	// drains (the match ends soon).
	if len(r.open) > 0 && !ended && (!r.backfill.Backfilling() || r.m.Draining()) {
		r.open = nil
		r.report(skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE, nil)
	}
	for _, st := range r.seats {
		if st.session != nil {
			r.sendSnapshot(st)
		}
	}
	return ended
}

// Input buffering: inputBuffer is how many of a player's inputs may wait
// for later ticks; after shrinkAfter ticks in a row with inputs left
// waiting, one tick applies two, so one late packet does not delay every
// later input for good.
const (
	inputBuffer = 2
	shrinkAfter = 4
)

// applyInputs gives the game the player's next input: one per tick, in
// sequence order, so that the server simulates each input for one tick as
// the client predicted it. Inputs that arrive together (network jitter, or
// a client sending several per message) wait their turn; beyond
// inputBuffer waiting, the oldest are applied at once, so a player never
// lags more than inputBuffer ticks behind its own inputs. Repeated and old
// sequence numbers are ignored.
func (r *Room) applyInputs(st *seat) {
	for _, in := range st.session.takeInputs() {
		newest := st.lastSeq
		if n := len(st.pending); n > 0 {
			newest = st.pending[n-1].Seq
		}
		if in.Seq > newest {
			st.pending = append(st.pending, in)
			continue
		}
		// Out of order: insert it unless it was applied or is queued.
		i, found := slices.BinarySearchFunc(st.pending, in.Seq, func(q *skirmishv1.Input, seq uint32) int {
			return int(int64(q.Seq) - int64(seq))
		})
		if !found && in.Seq > st.lastSeq {
			st.pending = slices.Insert(st.pending, i, in)
		}
	}
	take := min(len(st.pending), 1+max(0, len(st.pending)-1-inputBuffer))
	if take == 1 && len(st.pending) > 1 && st.backlog >= shrinkAfter {
		take = 2
	}
	for _, in := range st.pending[:take] {
		r.game.Input(st.PlayerID, in)
		st.lastSeq = in.Seq
	}
	st.pending = slices.Delete(st.pending, 0, take)
	if len(st.pending) > 0 && take < 2 {
		st.backlog++
	} else {
		st.backlog = 0
	}
}

func (r *Room) sendSnapshot(st *seat) {
	s := st.session
	world := r.game.Snapshot(st.PlayerID)
	var base []game.Entity
	var baseTick uint32
	if ack := s.ack.Load(); ack <= r.tick {
		if w, ok := s.hist.Get(ack); ok {
			base, baseTick = w, ack
		}
	}
	s.hist.Put(r.tick, world)
	// Encoded once per distinct (base, world) this tick (shared.go).
	body, shared, err := r.enc.body(r.tick, baseTick, base, world)
	if err != nil {
		r.log.Error("encode snapshot", "err", err)
		return
	}
	// Built in a buffer the room reuses: most frames are written at once,
	// and pushSnapshot copies the others when it queues them.
	r.frameBuf = appendFrame(r.frameBuf[:0], body, st.lastSeq)
	b := r.frameBuf
	behind, direct := s.out.pushSnapshot(b)
	r.tally.snapshot(sent{bytes: len(b), delta: baseTick != 0, shared: shared, superseded: behind > 0, direct: direct})
	if behind > r.maxBehind {
		r.dropTooSlow(st, "the connection fell too far behind the snapshots")
	}
}

// dropTooSlow cuts a seat's connection that cannot keep up
// (ERROR_CODE_TOO_SLOW): the seat is kept for the reconnection grace
// period, as after any drop, and the others see it on the roster.
func (r *Room) dropTooSlow(st *seat, why string) {
	st.session.Fail(skirmishv1.ErrorCode_ERROR_CODE_TOO_SLOW, why)
	st.session.abortLater()
	r.metrics.disconnects.WithLabelValues("too_slow").Inc()
	st.session = nil
	st.dropped = time.Now()
	r.rosterChanged()
}

// finish builds the outcome, makes it durable, and only then tells the
// players the match ended.
func (r *Room) finish(ctx context.Context, reason skirmishv1.EndReason) {
	var g game.Outcome
	if !r.guard("outcome", func() { g = r.game.Outcome() }) {
		g = r.crashOutcome() // the game panicked, now or before
	} else if reason != skirmishv1.EndReason_END_REASON_UNSPECIFIED {
		g.Reason = reason
	}
	o := &skirmishv1.MatchOutcome{
		SchemaVersion: 1,
		MatchId:       r.matchID,
		RoomId:        r.id,
		Mode:          r.mode.Name,
		Region:        r.m.cfg.Region,
		GameserverId:  r.m.cfg.ServerID,
		EndedAt:       timestamppb.Now(),
		EndReason:     g.Reason,
		Teams:         g.Teams,
		Players:       g.Players,
	}
	if !r.started.IsZero() {
		o.StartedAt = timestamppb.New(r.started)
	}
	err := r.m.persist(ctx, o)
	for _, st := range r.seats {
		s := st.session
		if s == nil {
			continue
		}
		st.session = nil
		if err != nil {
			s.Fail(skirmishv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN, "the match result could not be saved")
			continue
		}
		s.end(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_MatchEnd{MatchEnd: &skirmishv1.MatchEnd{Outcome: o}}})
	}
	// Answer whoever is still trying to attach, until the manager forgets
	// the room.
	r.m.remove(r)
	for {
		select {
		case ev := <-r.events:
			if ev.kind == evAttach {
				ev.reply <- attachReply{err: ErrRoomNotFound}
			}
		default:
			return
		}
	}
}
