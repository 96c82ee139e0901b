package room

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/snapshot"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

type seat struct {
	game.Seat
	limiter *rate.Limiter
	session *Session // the live connection, or nil
	joined  bool     // connected at least once
	left    bool     // gone for good
	dropped time.Time
	lastSeq uint32
	entity  uint32
	team    uint32
}

type eventKind int

const (
	evAttach eventKind = iota
	evDetach
	evLeave
)

type event struct {
	kind     eventKind
	session  *Session
	playerID string
	reply    chan attachReply
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
	m           *Manager
	metrics     *metrics
	log         *slog.Logger

	events   chan event
	shutdown chan struct{} // closed when the server gives up draining
	done     chan struct{} // closed when the goroutine has ended

	state     string
	tick      uint32
	started   time.Time
	maxBehind int
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
		r.metrics.rooms.WithLabelValues(r.state).Dec()
	}
	r.state = s
	if s != "" {
		r.metrics.rooms.WithLabelValues(s).Inc()
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
		reason = r.play()
	}
	r.setState(StateEnded)
	r.finish(ctx, reason)
}

// wait admits players until every seat has joined (it returns
// UNSPECIFIED: play), or the join deadline passes with fewer than the
// mode's minimum (ABANDONED), or the server shuts down (SHUTDOWN).
func (r *Room) wait() skirmishv1.EndReason {
	deadline := time.NewTimer(r.m.cfg.JoinTimeout)
	defer deadline.Stop()
	for {
		if r.joinedCount() == len(r.seats) {
			return skirmishv1.EndReason_END_REASON_UNSPECIFIED
		}
		select {
		case ev := <-r.events:
			r.handle(ev)
		case <-deadline.C:
			if r.joinedCount() >= r.mode.MinPlayers {
				return skirmishv1.EndReason_END_REASON_UNSPECIFIED
			}
			r.log.Info("room cancelled: too few players joined", "joined", r.joinedCount(), "min", r.mode.MinPlayers)
			return skirmishv1.EndReason_END_REASON_ABANDONED
		case <-r.shutdown:
			return skirmishv1.EndReason_END_REASON_SHUTDOWN
		}
	}
}

// play ticks the game at the mode's rate until it ends (UNSPECIFIED: the
// game's reason stands) or the server shuts down (SHUTDOWN).
func (r *Room) play() skirmishv1.EndReason {
	t := time.NewTicker(time.Second / time.Duration(r.mode.TickRate))
	defer t.Stop()
	for {
		select {
		case ev := <-r.events:
			r.handle(ev)
		case <-t.C:
			start := time.Now()
			ended := r.step()
			r.metrics.ticks.Inc()
			r.metrics.tickSeconds.Observe(time.Since(start).Seconds())
			if ended {
				return skirmishv1.EndReason_END_REASON_UNSPECIFIED
			}
		case <-r.shutdown:
			return skirmishv1.EndReason_END_REASON_SHUTDOWN
		}
	}
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
		s, err := r.attach(ev.playerID)
		ev.reply <- attachReply{s, err}
	case evDetach:
		if st := ev.session.seat; st.session == ev.session {
			st.session = nil
			st.dropped = time.Now()
			r.metrics.players.Dec()
			r.log.Debug("player dropped", "player", st.PlayerID)
		}
	case evLeave:
		if st := ev.session.seat; st.session == ev.session {
			st.session = nil
			st.left = true
			r.metrics.players.Dec()
			r.game.Leave(st.PlayerID)
			ev.session.end(nil)
		}
	}
}

func (r *Room) attach(playerID string) (*Session, error) {
	st := r.seatOf(playerID)
	if st == nil || st.left {
		return nil, ErrNotSeated
	}
	resumed := st.joined
	if old := st.session; old != nil {
		old.Fail(skirmishv1.ErrorCode_ERROR_CODE_REPLACED, "a newer connection took this seat")
		r.metrics.disconnects.WithLabelValues("replaced").Inc()
	} else {
		r.metrics.players.Inc()
	}
	if !st.joined {
		st.entity, st.team = r.game.Join(playerID)
		st.joined = true
	}
	s := &Session{room: r, seat: st, out: newOutbound(), limiter: st.limiter}
	s.welcome = &skirmishv1.Welcome{
		RoomId:     r.id,
		MatchId:    r.matchID,
		PlayerId:   playerID,
		EntityId:   st.entity,
		Team:       st.team,
		Mode:       r.mode.Name,
		TickRateHz: uint32(r.mode.TickRate),
		Resumed:    resumed,
	}
	s.send(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Welcome{Welcome: s.welcome}})
	st.session = s
	st.lastSeq = 0 // a new connection numbers its inputs afresh
	return s, nil
}

// step runs one tick: reconnection deadlines, inputs, simulation,
// snapshots. It reports whether the game ended.
func (r *Room) step() bool {
	r.tick++
	now := time.Now()
	for _, st := range r.seats {
		if st.joined && !st.left && st.session == nil && now.Sub(st.dropped) >= r.m.cfg.ReconnectGrace {
			st.left = true
			r.game.Leave(st.PlayerID)
			r.log.Debug("player left: reconnection grace over", "player", st.PlayerID)
		}
	}
	for _, st := range r.seats {
		if st.session == nil {
			continue
		}
		ins := st.session.takeInputs()
		slices.SortStableFunc(ins, func(a, b *skirmishv1.Input) int { return int(int64(a.Seq) - int64(b.Seq)) })
		for _, in := range ins {
			if in.Seq > st.lastSeq {
				r.game.Input(st.PlayerID, in)
				st.lastSeq = in.Seq
			}
		}
	}
	ended := r.game.Tick()
	for _, st := range r.seats {
		if st.session != nil {
			r.sendSnapshot(st)
		}
	}
	return ended
}

func (r *Room) sendSnapshot(st *seat) {
	s := st.session
	world := r.game.Snapshot(st.PlayerID)
	snap := &skirmishv1.Snapshot{Tick: r.tick, LastInputSeq: st.lastSeq}
	kind := "full"
	if ack := s.ack.Load(); ack <= r.tick {
		if base, ok := s.hist.Get(ack); ok {
			snapshot.Delta(snap, base, world)
			snap.BaseTick = ack
			kind = "delta"
		}
	}
	if snap.BaseTick == 0 {
		snapshot.Full(snap, world)
	}
	s.hist.Put(r.tick, world)
	b, err := proto.Marshal(&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: snap}})
	if err != nil {
		r.log.Error("encode snapshot", "err", err)
		return
	}
	r.metrics.snapshotBytes.WithLabelValues(kind).Add(float64(len(b)))
	if behind := s.out.pushSnapshot(b); behind > r.maxBehind {
		s.Fail(skirmishv1.ErrorCode_ERROR_CODE_TOO_SLOW, "the connection fell too far behind the snapshots")
		r.metrics.disconnects.WithLabelValues("too_slow").Inc()
		st.session = nil
		st.dropped = time.Now()
		r.metrics.players.Dec()
	}
}

// finish builds the outcome, makes it durable, and only then tells the
// players the match ended.
func (r *Room) finish(ctx context.Context, reason skirmishv1.EndReason) {
	g := r.game.Outcome()
	if reason != skirmishv1.EndReason_END_REASON_UNSPECIFIED {
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
		r.metrics.players.Dec()
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
