package room

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// ErrNoBackfill is returned by AddSeats for a room that has no seat open
// for newcomers (it is not running, never asked, or stopped asking).
var ErrNoBackfill = errors.New("room takes no backfill")

// Reporter receives what the rooms tell the matchmaker: cancelled, ended,
// backfill wanted or done. Report is called from room goroutines and must
// not block.
type Reporter interface {
	Report(req *skirmishv1.ReportRoomRequest)
}

// report tells the matchmaker about the room; BACKFILL_WANTED carries the
// open seats.
func (r *Room) report(ev skirmishv1.RoomEvent, missing []string) {
	if r.m.cfg.Reporter == nil {
		return
	}
	req := &skirmishv1.ReportRoomRequest{
		GameserverId:     r.m.cfg.ServerID,
		RoomId:           r.id,
		MatchId:          r.matchID,
		Mode:             r.mode.Name,
		Event:            ev,
		MissingPlayerIds: missing,
	}
	if ev == skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED {
		for _, s := range r.open {
			req.OpenSeats = append(req.OpenSeats, &skirmishv1.Seat{Team: s.Team})
		}
	}
	r.m.metrics.reports.WithLabelValues(ev.String()).Inc()
	r.m.cfg.Reporter.Report(req)
}

// leftForGood runs the game's Leave for a seat given up (the player left,
// stayed away past the grace period, or never came), gives the seat back
// to the server's capacity and, while the match runs, the server is not
// draining and the game wants it, offers the seat for backfill.
func (r *Room) leftForGood(st *seat) {
	if st.left {
		return
	}
	st.left = true
	r.m.countSeats(r, -1)
	r.rosterChanged()
	r.game.Leave(st.PlayerID)
	if r.backfill == nil || r.state != StateRunning || r.m.Draining() {
		return
	}
	if open, ok := r.backfill.OpenSeat(st.PlayerID); ok {
		open.PlayerID, open.Name = "", ""
		r.open = append(r.open, open)
		r.report(skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED, nil)
	}
}

// addSeats gives newcomers open seats; either all of them get one or none.
// A draining server takes no newcomers: its matches are about to end.
func (r *Room) addSeats(seats []game.Seat) error {
	if r.m.Draining() {
		return ErrDraining
	}
	if r.state != StateRunning || r.backfill == nil || len(r.open) == 0 || !r.backfill.Backfilling() {
		return ErrNoBackfill
	}
	if len(seats) == 0 {
		return fmt.Errorf("%w: no seats", game.ErrBadSeats)
	}
	open := append([]game.Seat(nil), r.open...)
	seen := make(map[string]bool, len(seats))
	for i, s := range seats {
		if s.PlayerID == "" {
			return fmt.Errorf("%w: seat %d has no player id", game.ErrBadSeats, i)
		}
		if seen[s.PlayerID] || r.seatOf(s.PlayerID) != nil {
			return fmt.Errorf("%w: player %q holds a seat already", game.ErrBadSeats, s.PlayerID)
		}
		seen[s.PlayerID] = true
		k := -1
		for j, o := range open {
			if o.Team == 0 || s.Team == 0 || o.Team == s.Team {
				k = j
				break
			}
		}
		if k < 0 {
			return fmt.Errorf("%w: no open seat for player %q on team %d", ErrNoBackfill, s.PlayerID, s.Team)
		}
		if s.Team == 0 {
			seats[i].Team = open[k].Team
		}
		open = append(open[:k], open[k+1:]...)
	}
	now := time.Now()
	for _, s := range seats {
		if err := r.backfill.AddSeat(s); err != nil {
			return fmt.Errorf("add seat for %q: %w", s.PlayerID, err)
		}
		r.seats = append(r.seats, &seat{Seat: s, added: now,
			limiter: ratelimit.New(r.m.cfg.InputRate, r.m.cfg.InputBurst)})
		r.m.countSeats(r, 1)
	}
	r.open = open
	r.rosterChanged()
	r.log.Info("backfill seats added", "seats", len(seats), "still_open", len(open))
	if len(open) == 0 {
		r.report(skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE, nil)
	}
	return nil
}

// AddSeats seats newcomers in a running room that asked for backfill; they
// then join with join tokens like any player. Errors wrap ErrRoomNotFound,
// ErrNoBackfill, ErrDraining or game.ErrBadSeats.
func (m *Manager) AddSeats(ctx context.Context, roomID string, seats []game.Seat) error {
	m.mu.Lock()
	r := m.rooms[roomID]
	m.mu.Unlock()
	if r == nil {
		return ErrRoomNotFound
	}
	added := make(chan error, 1)
	r.post(event{kind: evAddSeats, seats: seats, added: added})
	select {
	case err := <-added:
		return err
	case <-r.done:
		return ErrRoomNotFound
	case <-ctx.Done():
		return ctx.Err()
	}
}

// countSeats adds n to the seats the room takes: a newcomer's seat (1), or
// one given up for good (-1).
func (m *Manager) countSeats(r *Room, n int) {
	m.mu.Lock()
	if m.rooms[r.id] == r {
		m.seats += n
		r.taken += n
	}
	m.mu.Unlock()
}
