package matchmaker

import (
	"fmt"
	"sync"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// pool holds every ticket, the queues of searching ones, the rooms of the
// matches it formed, and the state machine between them:
// searching -> matched | expired | cancelled | failed (and matched ->
// searching again when a room is cancelled before its start). Only the
// formation loop moves tickets into and out of allocation, so no ticket can
// be in two matches.
type pool struct {
	cfg Config
	met *metrics

	mu       sync.Mutex
	tickets  map[string]*ticket
	active   map[string]*ticket // by player id, while searching
	queues   map[bucket][]*ticket
	ended    []endedTicket // in order of ending, for pruning
	estimate map[string]time.Duration
	rooms    map[roomKey]*room // rooms.go
}

// bucket is the tickets that may be matched together.
type bucket struct{ mode, region string }

type endedTicket struct {
	t  *ticket
	at time.Time
}

// match is a group of tickets a pass took out of the queue for allocation:
// a new room, or seats in a running room that asked for backfill.
type match struct {
	mode    string
	region  string
	tickets []*ticket
	teams   []uint32 // teams[i] is the team of every player of tickets[i]

	// Set by the allocator for a new room, by the pass for a backfill.
	backfill     bool
	gameserverID string
	matchID      string
	roomID       string
}

// players is the number of players of the match.
func (m *match) players() int {
	n := 0
	for _, t := range m.tickets {
		n += t.size()
	}
	return n
}

func newPool(cfg Config, met *metrics) *pool {
	return &pool{
		cfg:      cfg,
		met:      met,
		tickets:  make(map[string]*ticket),
		active:   make(map[string]*ticket),
		queues:   make(map[bucket][]*ticket),
		estimate: make(map[string]time.Duration),
		rooms:    make(map[roomKey]*room),
	}
}

// add queues a new ticket unless one of its players already has an active
// one.
func (p *pool) add(t *ticket) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range t.members {
		if old := p.active[m.id]; old != nil {
			return &activeError{player: m.id}
		}
	}
	if t.queued.IsZero() {
		t.queued = t.created
	}
	p.search(t)
	p.met.ticketState(t.mode, t.state)
	return nil
}

// search makes a ticket searching and queues it; the caller holds the lock
// and has checked that none of its players has an active ticket.
func (p *pool) search(t *ticket) {
	t.state = skirmishv1.TicketState_TICKET_STATE_SEARCHING
	if t.changed != nil {
		close(t.changed)
	}
	t.changed = make(chan struct{})
	t.assignments = nil
	t.failure = ""
	p.tickets[t.id] = t
	for _, m := range t.members {
		p.active[m.id] = t
	}
	p.push(t)
}

// hasActive returns the first of the players that has an active ticket,
// or "".
func (p *pool) hasActive(playerIDs ...string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range playerIDs {
		if p.active[id] != nil {
			return id
		}
	}
	return ""
}

// view returns the ticket as the given member sees it and a channel closed
// at its next change.
func (p *pool) view(id, playerID string, now time.Time) (*skirmishv1.Ticket, <-chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tickets[id]
	if t == nil || !t.has(playerID) {
		return nil, nil, errTicketNotFound
	}
	return t.proto(p.estimateFor(t, now), playerID), t.changed, nil
}

// cancel ends a searching ticket for any of its members. Cancelling a
// cancelled ticket is a no-op; a ticket in allocation is cancelled and its
// seats stay empty.
func (p *pool) cancel(id, playerID string, now time.Time) (*skirmishv1.Ticket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tickets[id]
	if t == nil || !t.has(playerID) {
		return nil, errTicketNotFound
	}
	switch t.state {
	case skirmishv1.TicketState_TICKET_STATE_SEARCHING:
		p.remove(t)
		p.end(t, skirmishv1.TicketState_TICKET_STATE_CANCELLED, "", now)
	case skirmishv1.TicketState_TICKET_STATE_CANCELLED:
	default:
		return nil, fmt.Errorf("%w: %s", errTicketEnded, t.state)
	}
	return t.proto(0, playerID), nil
}

// deadline is when a ticket stops searching: its mode's MaxWait and the
// ExpiryGrace after it was created, or after it went back to the queue
// when its room was cancelled.
func (p *pool) deadline(t *ticket) time.Time {
	return t.queued.Add(p.cfg.Modes[t.mode].MaxWait + p.cfg.ExpiryGrace)
}

// pass ends overdue tickets, fills the seats of rooms that want backfill,
// forms matches in every bucket, and takes the tickets of the formed
// matches out of their queues. The formation itself runs without the lock.
func (p *pool) pass(now time.Time) []*match {
	p.mu.Lock()
	p.prune(now)
	for b, q := range p.queues {
		for i := 0; i < len(q); i++ {
			t := q[i]
			if now.Before(p.deadline(t)) {
				continue
			}
			p.remove(t)
			i-- // remove moved the queue's last ticket to i
			q = p.queues[b]
			if t.lastFailure != "" {
				p.end(t, skirmishv1.TicketState_TICKET_STATE_FAILED, "no gameserver could host the match: "+t.lastFailure, now)
			} else {
				p.end(t, skirmishv1.TicketState_TICKET_STATE_EXPIRED, "", now)
			}
		}
	}
	matches := p.backfill(now)
	snap := make(map[bucket][]*ticket, len(p.queues))
	for b, q := range p.queues {
		snap[b] = append([]*ticket(nil), q...)
	}
	p.mu.Unlock()

	type formed struct {
		b      bucket
		q      []*ticket
		groups []group
	}
	var all []formed
	for b, q := range snap {
		cands := make([]candidate, len(q))
		for i, t := range q {
			cands[i] = candidate{rating: t.rating, waited: now.Sub(t.created).Seconds(), size: t.size()}
		}
		if groups := formMatches(p.cfg.Modes[b.mode], cands); len(groups) > 0 {
			all = append(all, formed{b, q, groups})
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range all {
	groups:
		for _, g := range f.groups {
			m := &match{mode: f.b.mode, region: f.b.region, tickets: make([]*ticket, len(g.members)), teams: g.teams}
			for i, idx := range g.members {
				t := f.q[idx]
				if t.qpos < 0 { // cancelled since the snapshot
					continue groups
				}
				m.tickets[i] = t
			}
			for _, t := range m.tickets {
				p.remove(t)
				t.allocating = true
			}
			matches = append(matches, m)
		}
	}
	p.updateSearching()
	return matches
}

// matched ends the match's tickets as matched with each player's
// assignment, and remembers the room for ReportRoom; a ticket cancelled
// during allocation stays cancelled.
func (p *pool) matched(m *match, assignments map[string]*skirmishv1.Assignment, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range m.tickets {
		t.allocating = false
		if t.ended() {
			continue
		}
		t.assignments = make(map[string]*skirmishv1.Assignment, t.size())
		for _, mem := range t.members {
			t.assignments[mem.id] = assignments[mem.id]
		}
		waited := now.Sub(t.created)
		p.met.timeToMatch.WithLabelValues(t.mode).Observe(waited.Seconds())
		if old, ok := p.estimate[t.mode]; ok {
			p.estimate[t.mode] = (old*7 + waited) / 8
		} else {
			p.estimate[t.mode] = waited
		}
		p.end(t, skirmishv1.TicketState_TICKET_STATE_MATCHED, "", now)
	}
	p.roomMatched(m)
	if m.backfill {
		p.met.backfills.WithLabelValues(m.mode).Inc()
	} else {
		p.met.matches.WithLabelValues(m.mode).Inc()
	}
}

// requeue puts the match's tickets back in their queues after a failed
// allocation. They keep their creation time, so the next pass serves them
// first, until they fail at their deadline.
func (p *pool) requeue(m *match, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range m.tickets {
		t.allocating = false
		if t.ended() {
			continue
		}
		t.lastFailure = reason
		p.push(t)
	}
	if m.backfill {
		p.backfillFailed(m)
	}
	p.updateSearching()
}

// push and remove keep a ticket's queue position; the caller holds the lock.
func (p *pool) push(t *ticket) {
	b := bucket{t.mode, t.region}
	t.qpos = len(p.queues[b])
	p.queues[b] = append(p.queues[b], t)
}

func (p *pool) remove(t *ticket) {
	if t.qpos < 0 {
		return
	}
	b := bucket{t.mode, t.region}
	q := p.queues[b]
	last := q[len(q)-1]
	q[t.qpos] = last
	last.qpos = t.qpos
	q[len(q)-1] = nil
	q = q[:len(q)-1]
	if len(q) == 0 {
		delete(p.queues, b)
	} else {
		p.queues[b] = q
	}
	t.qpos = -1
}

// end moves a ticket to a final state and wakes its watchers.
func (p *pool) end(t *ticket, state skirmishv1.TicketState, reason string, now time.Time) {
	t.state = state
	t.failure = reason
	t.endedAt = now
	for _, m := range t.members {
		if p.active[m.id] == t {
			delete(p.active, m.id)
		}
	}
	p.ended = append(p.ended, endedTicket{t, now})
	close(t.changed)
	t.changed = make(chan struct{})
	p.met.ticketState(t.mode, state)
}

// prune forgets tickets that ended longer than TicketRetention ago, unless
// they went back to searching since.
func (p *pool) prune(now time.Time) {
	n := 0
	for n < len(p.ended) && now.Sub(p.ended[n].at) >= p.cfg.TicketRetention {
		if e := p.ended[n]; e.t.ended() && e.t.endedAt.Equal(e.at) && p.tickets[e.t.id] == e.t {
			delete(p.tickets, e.t.id)
		}
		n++
	}
	if n > 0 {
		p.ended = append(p.ended[:0], p.ended[n:]...)
	}
}

func (p *pool) estimateFor(t *ticket, now time.Time) time.Duration {
	est, ok := p.estimate[t.mode]
	if !ok {
		est = p.cfg.Modes[t.mode].MaxWait / 4
	}
	return max(est-now.Sub(t.created), 0)
}

func (p *pool) updateSearching() {
	counts := make(map[string]int, len(p.cfg.Modes))
	for b, q := range p.queues {
		counts[b.mode] += len(q)
	}
	for mode := range p.cfg.Modes {
		p.met.searching.WithLabelValues(mode).Set(float64(counts[mode]))
	}
}

// counts returns how many players are searching (queued or in allocation)
// and how many tickets the pool remembers; for tests.
func (p *pool) counts() (searching, known int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.active), len(p.tickets)
}
