package room

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/internal/limits"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// One game's fault stays in its room. Every call into game code (Join,
// Leave, Input, Tick, Snapshot, Outcome, the Backfiller methods, and the
// mode's New) runs under a guard: a panic is recovered, logged with its
// stack, counted in skirmish_gameserver_room_panics_total, and ends that
// room at once with END_REASON_ERROR. The game is never called again: the
// outcome is built from the seats alone (every player's team, no
// placement or statistics), persisted like any other, sent to the players
// as MatchEnd and reported to the matchmaker. Other rooms, each its own
// goroutine, keep ticking.

// ErrGameFailed is returned to calls waiting on a room whose game
// panicked while serving them.
var ErrGameFailed = errors.New("the game failed")

// panicValueMax bounds the panic value logged, in bytes.
const panicValueMax = 1024

// guard runs f, which calls game code, and reports whether it returned
// normally. A panic marks the room crashed (phase names what the room was
// doing: "event", "tick", "outcome", "start").
func (r *Room) guard(phase string, f func()) (ok bool) {
	if r.crashed {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			ok = false
			r.crashed = true
			r.metrics.panics.WithLabelValues(r.mode.Name, phase).Inc()
			r.log.Error("game panicked: room ends with END_REASON_ERROR", "phase", phase,
				"panic", limits.Clip(fmt.Sprint(p), panicValueMax), "stack", string(debug.Stack()))
		}
	}()
	f()
	return true
}

// handleGuarded handles ev under a guard; when the game panics, whoever
// waits on the event gets an answer.
func (r *Room) handleGuarded(ev event) {
	if r.guard("event", func() { r.handle(ev) }) {
		return
	}
	switch ev.kind {
	case evAttach:
		select {
		case ev.reply <- attachReply{err: ErrRoomNotFound}:
		default:
		}
	case evAddSeats:
		select {
		case ev.added <- ErrGameFailed:
		default:
		}
	}
}

// crashOutcome is the outcome of a room whose game panicked: the seats
// and their teams, nothing the game computed.
func (r *Room) crashOutcome() game.Outcome {
	o := game.Outcome{Reason: skirmishv1.EndReason_END_REASON_ERROR}
	teams := map[uint32]bool{}
	for _, st := range r.seats {
		team := st.Team // as allocated; the game's own, once it gave one
		if st.joined && st.team != 0 {
			team = st.team
		}
		o.Players = append(o.Players, &skirmishv1.PlayerResult{PlayerId: st.PlayerID, Name: st.Name, Team: team, Left: st.left})
		if !teams[team] {
			teams[team] = true
			o.Teams = append(o.Teams, &skirmishv1.TeamResult{Team: team})
		}
	}
	return o
}

// newGame runs the mode's New under a guard: a panic there is an error
// wrapping ErrGameFailed, and no room is made.
func newGame(md game.Mode, cfg game.Config) (g game.Game, panicked bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			g, panicked = nil, true
			err = fmt.Errorf("%w: New panicked: %s", ErrGameFailed, limits.Clip(fmt.Sprint(p), panicValueMax))
		}
	}()
	g, err = md.New(cfg)
	return g, false, err
}
