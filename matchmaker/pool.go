package matchmaker

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

	mu        sync.Mutex
	tickets   map[string]*ticket
	active    map[string]*ticket // by player id, while searching
	queues    map[bucket]*queue
	ended     []endedTicket // in order of ending, for pruning
	estimate  map[string]time.Duration
	rooms     map[roomKey]*room       // rooms.go
	epoch     time.Time               // queue entries count time from it
	removals  uint64                  // tickets taken out of a queue, ever
	searching map[string]*modeCount   // by mode; updateSearching
	byMode    map[string]*modeMetrics // modeMetrics
	noShows   map[string]noShow       // by player id; noshow.go
	invites   map[string]time.Time    // used party invite ids -> their expiry
	prunedAt  time.Time               // last pruneNoShows

	passMu  sync.Mutex // held by a pass: one at a time, as scratch is the pass's
	scratch passScratch
}

// queue is the free searching tickets of one bucket, in no order. Each
// entry carries what a pass reads of its ticket, so that a pass over
// 100,000 tickets reads one array instead of 100,000 scattered tickets.
type queue struct {
	b       bucket
	entries []entry
}

// entry is a queued ticket. Times are since the pool's epoch.
type entry struct {
	t       *ticket
	rating  float64
	created time.Duration
	queued  time.Duration
	size    int
}

// passScratch is the memory of a pass, reused by the next so that a pass
// over many tickets allocates little besides its matches.
type passScratch struct {
	form    former
	entries []entry     // the queues' entries, bucket after bucket
	cands   []candidate // cands[i] is entries[i]
	spans   []span
	formed  []formedGroup
}

// span is the part of passScratch.entries that holds one bucket.
type span struct {
	b      bucket
	lo, hi int
}

type formedGroup struct {
	span int
	g    group
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

	// claim is the id the Redis store claimed the tickets under.
	claim string
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
		queues:   make(map[bucket]*queue),
		estimate: make(map[string]time.Duration),
		rooms:    make(map[roomKey]*room),
		epoch:    time.Now(),
		byMode:   make(map[string]*modeMetrics),
		noShows:  make(map[string]noShow),
		invites:  make(map[string]time.Time),
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
	p.modeMetrics(t.mode).ticketState(t.state)
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

// expiresAfter is how long a ticket of the mode searches: its MaxWait and
// the ExpiryGrace after it, counted from its creation, or from when it went
// back to the queue when its room was cancelled.
func (p *pool) expiresAfter(mode string) time.Duration {
	return p.cfg.Modes[mode].MaxWait + p.cfg.ExpiryGrace
}

// pass ends overdue tickets, fills the seats of rooms that want backfill,
// forms matches in every bucket, and takes the tickets of the formed
// matches out of their queues. The formation itself runs without the lock.
//
// A pass over 100,000 tickets touches each a few times; so it reads them
// once under the lock (expiry and snapshot in one sweep), builds the
// candidates outside it, and reuses the memory of the previous pass.
func (p *pool) pass(now time.Time) []*match {
	p.passMu.Lock()
	defer p.passMu.Unlock()
	s := &p.scratch

	p.mu.Lock()
	p.prune(now)
	matches := p.backfill(now)
	s.entries, s.spans = s.entries[:0], s.spans[:0]
	since := now.Sub(p.epoch)
	for b, q := range p.queues {
		cutoff := since - p.expiresAfter(b.mode) // queued before it: expired
		lo := len(s.entries)
		for i := 0; i < len(q.entries); i++ {
			e := q.entries[i]
			if e.queued > cutoff {
				s.entries = append(s.entries, e)
				continue
			}
			t := e.t
			p.remove(t)
			i-- // remove moved the queue's last ticket to i
			if t.lastFailure != "" {
				p.end(t, skirmishv1.TicketState_TICKET_STATE_FAILED, "no gameserver could host the match: "+t.lastFailure, now)
			} else {
				p.end(t, skirmishv1.TicketState_TICKET_STATE_EXPIRED, "", now)
			}
		}
		if len(s.entries) > lo {
			s.spans = append(s.spans, span{b, lo, len(s.entries)})
		}
	}
	removals := p.removals
	p.mu.Unlock()

	s.cands = grow(s.cands, len(s.entries))
	for i, e := range s.entries {
		s.cands[i] = candidate{rating: e.rating, waited: (since - e.created).Seconds(), size: e.size}
	}
	s.form.members = s.form.members[:0]
	s.formed = s.formed[:0]
	for i, sp := range s.spans {
		for _, g := range s.form.form(p.cfg.Modes[sp.b.mode], s.cands[sp.lo:sp.hi]) {
			s.formed = append(s.formed, formedGroup{i, g})
		}
	}

	// Matches and their tickets are allocated a chunk at a time: one
	// allocation per match is slow, and one for 50,000 of them is slower
	// still (fresh memory for every pass).
	const chunk = 128
	var ms []match
	var tickets []*ticket
	p.mu.Lock()
	defer p.mu.Unlock()
	check := p.removals != removals // some ticket was cancelled since the snapshot
groups:
	for i, f := range s.formed {
		sp := s.spans[f.span]
		if len(ms) == 0 {
			ms = make([]match, min(chunk, len(s.formed)-i))
		}
		if len(tickets) < len(f.g.members) {
			tickets = make([]*ticket, max(chunk, len(f.g.members)))
		}
		m := &ms[0]
		ms = ms[1:]
		*m = match{mode: sp.b.mode, region: sp.b.region, tickets: tickets[:len(f.g.members):len(f.g.members)], teams: f.g.teams}
		tickets = tickets[len(f.g.members):]
		for j, idx := range f.g.members {
			t := s.entries[sp.lo+int(idx)].t
			if check && t.qpos < 0 { // cancelled since the snapshot
				continue groups
			}
			m.tickets[j] = t
		}
		for _, t := range m.tickets {
			p.remove(t)
			t.allocating = true
		}
		matches = append(matches, m)
	}
	clear(s.entries) // let ended tickets go
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
		p.modeMetrics(t.mode).timeToMatch.Observe(waited.Seconds())
		if old, ok := p.estimate[t.mode]; ok {
			p.estimate[t.mode] = (old*7 + waited) / 8
		} else {
			p.estimate[t.mode] = waited
		}
		p.end(t, skirmishv1.TicketState_TICKET_STATE_MATCHED, "", now)
	}
	p.roomMatched(m, now)
	if m.backfill {
		p.modeMetrics(m.mode).backfills.Inc()
	} else {
		p.modeMetrics(m.mode).matches.Inc()
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
	q := p.queues[b]
	if q == nil {
		q = &queue{b: b}
		p.queues[b] = q
	}
	t.q, t.qpos = q, len(q.entries)
	q.entries = append(q.entries, entry{t: t, rating: t.rating, created: t.created.Sub(p.epoch), queued: t.queued.Sub(p.epoch), size: t.size()})
}

func (p *pool) remove(t *ticket) {
	if t.qpos < 0 {
		return
	}
	q := t.q
	last := q.entries[len(q.entries)-1]
	q.entries[t.qpos] = last
	last.t.qpos = t.qpos
	q.entries[len(q.entries)-1] = entry{}
	q.entries = q.entries[:len(q.entries)-1]
	p.removals++
	if len(q.entries) == 0 {
		delete(p.queues, q.b)
	}
	t.q, t.qpos = nil, -1
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
	p.modeMetrics(t.mode).ticketState(state)
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
	if now.Sub(p.prunedAt) >= time.Second {
		p.pruneNoShows(now)
		p.prunedAt = now
	}
}

func (p *pool) estimateFor(t *ticket, now time.Time) time.Duration {
	est, ok := p.estimate[t.mode]
	if !ok {
		est = p.cfg.Modes[t.mode].MaxWait / 4
	}
	return max(est-now.Sub(t.created), 0)
}

// updateSearching sets the searching gauge of every mode; the caller
// holds the lock.
func (p *pool) updateSearching() {
	if p.searching == nil {
		p.searching = make(map[string]*modeCount, len(p.cfg.Modes))
		for mode := range p.cfg.Modes {
			p.searching[mode] = &modeCount{gauge: p.modeMetrics(mode).searching}
		}
	}
	for _, c := range p.searching {
		c.n = 0
	}
	for b, q := range p.queues {
		if c := p.searching[b.mode]; c != nil {
			c.n += len(q.entries)
		}
	}
	for _, c := range p.searching {
		c.gauge.Set(float64(c.n))
	}
}

// modeMetrics returns the mode's metrics; the caller holds the lock.
func (p *pool) modeMetrics(mode string) *modeMetrics {
	mm := p.byMode[mode]
	if mm == nil {
		mm = p.met.forMode(mode)
		p.byMode[mode] = mm
	}
	return mm
}

// modeCount is the searching gauge of one mode and its count.
type modeCount struct {
	gauge prometheus.Gauge
	n     int
}

// counts returns how many players are searching (queued or in allocation)
// and how many tickets the pool remembers; for tests.
func (p *pool) counts() (searching, known int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.active), len(p.tickets)
}
