package matchmaker

import (
	"cmp"
	"math"
	"slices"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// roomKey names a room: room ids are unique on their gameserver.
type roomKey struct{ gameserver, room string }

// room is what the pool remembers of a room it allocated, so that the
// gameserver's ReportRoom can free its seats, requeue its players, or ask
// for backfill. The caller of every method holds the pool's lock.
type room struct {
	matchID string
	mode    string
	region  string
	seats   int            // seats held on the gameserver
	tickets []*ticket      // the tickets matched into the room
	players int            // players of those tickets
	ratings float64        // sum of their ratings
	open    map[uint32]int // open seats by team while backfill is wanted
	filling bool           // an AddSeats for this room is in flight
	// allocated is when CreateRoom answered; started is set when the
	// gameserver reported the match running. See serverLost.
	allocated time.Time
	started   bool
	// changed is when a match or a report last changed the room: a room
	// whose end is never reported is forgotten roomTTL after it (see
	// expireRooms), as the Redis store's record expires.
	changed time.Time
}

// roomMatched records the room of an allocated match or backfill.
func (p *pool) roomMatched(m *match, now time.Time) {
	k := roomKey{m.gameserverID, m.roomID}
	r := p.rooms[k]
	if r == nil {
		r = &room{matchID: m.matchID, mode: m.mode, region: m.region, allocated: now}
		p.rooms[k] = r
	}
	r.changed = now
	r.filling = false
	r.seats += m.players()
	for _, t := range m.tickets {
		if t.state != skirmishv1.TicketState_TICKET_STATE_MATCHED {
			continue // cancelled during allocation: its seats stay empty
		}
		r.tickets = append(r.tickets, t)
		r.players += t.size()
		r.ratings += t.rating * float64(t.size())
	}
}

// roomEnded forgets a room and returns the seats it held.
func (p *pool) roomEnded(gameserverID, roomID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := roomKey{gameserverID, roomID}
	r := p.rooms[k]
	if r == nil {
		return 0
	}
	delete(p.rooms, k)
	return r.seats
}

// roomCancelled forgets a room that did not start and returns the seats it
// held. The tickets whose players all joined go back to searching, at the
// front of the queue (they keep their creation time) with a fresh deadline;
// their clients watch the same ticket id again. Tickets with a missing
// player stay matched: those players walked away, and their party with
// them; each missing player gets a no-show (noshow.go). It returns how
// many tickets were requeued.
func (p *pool) roomCancelled(gameserverID, roomID string, missing []string, now time.Time) (seats, requeued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := roomKey{gameserverID, roomID}
	r := p.rooms[k]
	if r == nil {
		return 0, 0
	}
	delete(p.rooms, k)
	gone := make(map[string]bool, len(missing))
	for _, id := range missing {
		gone[id] = true
	}
	p.recordNoShows(r, missing, now)
	for _, t := range r.tickets {
		if p.requeueMatched(t, roomID, gone, now) {
			requeued++
		}
	}
	p.updateSearching()
	return r.seats, requeued
}

// wantBackfill records a room's open seats by team, replacing any it asked
// for before. A room the pool does not know (the matchmaker restarted) is
// remembered from the report alone, as running, and any rating fits it.
func (p *pool) wantBackfill(gameserverID, roomID, matchID, mode, region string, open map[uint32]int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := roomKey{gameserverID, roomID}
	r := p.rooms[k]
	if r == nil {
		r = &room{matchID: matchID, mode: mode, region: region, allocated: now, started: true}
		p.rooms[k] = r
	}
	r.open = open
	r.changed = now
}

// backfillDone stops filling a room's seats.
func (p *pool) backfillDone(gameserverID, roomID string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.rooms[roomKey{gameserverID, roomID}]; r != nil {
		r.open = nil
		r.changed = now
	}
}

// backfillFailed stops filling a room whose AddSeats failed: it is likely
// gone, and asks again if not.
func (p *pool) backfillFailed(m *match) {
	if r := p.rooms[roomKey{m.gameserverID, m.roomID}]; r != nil {
		r.filling = false
		r.open = nil
	}
}

// roomStarted records that a room's match is running.
func (p *pool) roomStarted(gameserverID, roomID string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.rooms[roomKey{gameserverID, roomID}]; r != nil {
		r.started = true
		r.changed = now
	}
}

// serverLost settles the rooms of a gameserver that stopped heartbeating:
// a room that had not started (no STARTED report, and younger than
// startTimeout) puts its tickets back at the front of the queue, as a
// cancelled room with every player present would; a running one is
// returned as a server-lost outcome. It forgets all of them.
func (p *pool) serverLost(gameserverID string, startTimeout time.Duration, now time.Time) (outcomes []*skirmishv1.MatchOutcome, requeued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, r := range p.rooms {
		if k.gameserver != gameserverID {
			continue
		}
		delete(p.rooms, k)
		if r.started || now.Sub(r.allocated) >= startTimeout {
			var players []lostPlayer
			for _, t := range r.tickets {
				for _, m := range t.members {
					if a := t.assignments[m.id]; a.GetRoomId() == k.room {
						players = append(players, lostPlayer{id: m.id, name: m.name, team: a.GetTeam()})
					}
				}
			}
			if len(players) > 0 {
				outcomes = append(outcomes, serverLostOutcome(gameserverID, k.room, r.matchID, r.mode, r.region, r.allocated, now, players))
			}
			continue
		}
		for _, t := range r.tickets {
			if p.requeueMatched(t, k.room, nil, now) {
				requeued++
			}
		}
	}
	p.updateSearching()
	return outcomes, requeued
}

// requeueMatched puts a ticket matched into the room back to searching,
// unless a member is in gone or has another active ticket. The caller
// holds the lock.
func (p *pool) requeueMatched(t *ticket, roomID string, gone map[string]bool, now time.Time) bool {
	if t.state != skirmishv1.TicketState_TICKET_STATE_MATCHED || t.assignments[t.members[0].id].GetRoomId() != roomID {
		return false
	}
	for _, m := range t.members {
		if gone[m.id] || p.active[m.id] != nil {
			return false
		}
	}
	t.queued = now
	t.lastFailure = ""
	p.search(t)
	p.modeMetrics(t.mode).ticketState(t.state)
	return true
}

// expireRooms forgets the rooms that no match or report changed for
// roomTTL: their end was never reported. A gameserver that deregistered
// keeps its rooms until they are reported ended or cancelled, or expire:
// it drains them first, and a room it still reports on must be known.
func (p *pool) expireRooms(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, r := range p.rooms {
		if now.Sub(r.changed) >= roomTTL {
			delete(p.rooms, k)
		}
	}
}

// backfill takes searching tickets out of the queue for the open seats of
// rooms that want backfill: tickets of the room's mode, in its region or
// with no region, whose skill window holds the room's mean rating,
// longest-waiting first, each party on a team with room for all of it. The
// caller holds the lock.
func (p *pool) backfill(now time.Time) []*match {
	var out []*match
	for k, r := range p.rooms {
		if len(r.open) == 0 || r.filling {
			continue
		}
		mode := p.cfg.Modes[r.mode]
		mean := math.NaN()
		if r.players > 0 {
			mean = r.ratings / float64(r.players)
		}
		limit := p.expiresAfter(r.mode)
		var fits []*ticket
		for _, region := range []string{r.region, ""} {
			q := p.queues[bucket{r.mode, region}]
			if q == nil {
				continue
			}
			for _, e := range q.entries {
				t := e.t
				if now.Sub(t.queued) >= limit {
					continue // the pass expires it next
				}
				if math.IsNaN(mean) || math.Abs(t.rating-mean) <= mode.Window.width(now.Sub(t.created).Seconds()) {
					fits = append(fits, t)
				}
			}
			if region == "" {
				break
			}
		}
		if len(fits) == 0 {
			continue
		}
		slices.SortFunc(fits, func(a, b *ticket) int { return cmp.Compare(a.created.UnixNano(), b.created.UnixNano()) })
		m := &match{mode: r.mode, region: r.region, backfill: true, gameserverID: k.gameserver, matchID: r.matchID, roomID: k.room}
		for _, t := range fits {
			team, room := uint32(0), 0
			for tm, n := range r.open {
				if n > room || (n == room && tm < team) {
					team, room = tm, n
				}
			}
			if room == 0 {
				break
			}
			if t.size() > room {
				continue
			}
			r.open[team] -= t.size()
			if r.open[team] == 0 {
				delete(r.open, team)
			}
			p.remove(t)
			t.allocating = true
			m.tickets = append(m.tickets, t)
			m.teams = append(m.teams, team)
		}
		if len(m.tickets) > 0 {
			r.filling = true
			out = append(out, m)
		}
	}
	return out
}
