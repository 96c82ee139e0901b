package matchmaker

import (
	"fmt"
	"sync"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// pool holds every ticket, the queues of searching ones, and the state
// machine between them: searching -> matched | expired | cancelled | failed.
// Only the formation loop moves tickets into and out of allocation, so no
// ticket can be in two matches.
type pool struct {
	cfg Config
	met *metrics

	mu       sync.Mutex
	tickets  map[string]*ticket
	active   map[string]*ticket // by player id, while searching
	queues   map[bucket][]*ticket
	ended    []endedTicket // in order of ending, for pruning
	estimate map[string]time.Duration
}

// bucket is the tickets that may be matched together.
type bucket struct{ mode, region string }

type endedTicket struct {
	t  *ticket
	at time.Time
}

// match is a group of tickets a pass took out of the queue for allocation.
type match struct {
	mode    string
	region  string
	tickets []*ticket
	teams   []uint32
}

func newPool(cfg Config, met *metrics) *pool {
	return &pool{
		cfg:      cfg,
		met:      met,
		tickets:  make(map[string]*ticket),
		active:   make(map[string]*ticket),
		queues:   make(map[bucket][]*ticket),
		estimate: make(map[string]time.Duration),
	}
}

// add queues a new ticket unless its player already has an active one.
func (p *pool) add(t *ticket) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.active[t.playerID]; old != nil {
		return fmt.Errorf("%w: %s", errActiveTicket, old.id)
	}
	t.state = skirmishv1.TicketState_TICKET_STATE_SEARCHING
	t.changed = make(chan struct{})
	p.tickets[t.id] = t
	p.active[t.playerID] = t
	p.push(t)
	p.met.ticketState(t.mode, t.state)
	return nil
}

// hasActive reports whether the player has an active ticket.
func (p *pool) hasActive(playerID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active[playerID] != nil
}

// view returns the player's ticket as sent to clients and a channel closed
// at its next change.
func (p *pool) view(id, playerID string, now time.Time) (*skirmishv1.Ticket, <-chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tickets[id]
	if t == nil || t.playerID != playerID {
		return nil, nil, errTicketNotFound
	}
	return t.proto(p.estimateFor(t, now)), t.changed, nil
}

// cancel ends a searching ticket. Cancelling a cancelled ticket is a no-op;
// a ticket in allocation is cancelled and its seat stays empty.
func (p *pool) cancel(id, playerID string, now time.Time) (*skirmishv1.Ticket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tickets[id]
	if t == nil || t.playerID != playerID {
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
	return t.proto(0), nil
}

// pass ends overdue tickets, forms matches in every bucket, and takes the
// tickets of the formed matches out of their queues. The formation itself
// runs without the lock.
func (p *pool) pass(now time.Time) []*match {
	p.mu.Lock()
	p.prune(now)
	snap := make(map[bucket][]*ticket, len(p.queues))
	for b, q := range p.queues {
		mode := p.cfg.Modes[b.mode]
		deadline := mode.MaxWait + p.cfg.ExpiryGrace
		keep := make([]*ticket, 0, len(q))
		for i := 0; i < len(q); i++ {
			t := q[i]
			if now.Sub(t.created) < deadline {
				keep = append(keep, t)
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
		snap[b] = keep
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
			cands[i] = candidate{rating: t.rating, waited: now.Sub(t.created).Seconds()}
		}
		if groups := formMatches(p.cfg.Modes[b.mode], cands); len(groups) > 0 {
			all = append(all, formed{b, q, groups})
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	var matches []*match
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

// matched ends the match's tickets as matched with their assignments; a
// ticket cancelled during allocation stays cancelled.
func (p *pool) matched(m *match, assignments []*skirmishv1.Assignment, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, t := range m.tickets {
		t.allocating = false
		if t.ended() {
			continue
		}
		t.assignment = assignments[i]
		waited := now.Sub(t.created)
		p.met.timeToMatch.WithLabelValues(t.mode).Observe(waited.Seconds())
		if old, ok := p.estimate[t.mode]; ok {
			p.estimate[t.mode] = (old*7 + waited) / 8
		} else {
			p.estimate[t.mode] = waited
		}
		p.end(t, skirmishv1.TicketState_TICKET_STATE_MATCHED, "", now)
	}
	p.met.matches.WithLabelValues(m.mode).Inc()
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
	if p.active[t.playerID] == t {
		delete(p.active, t.playerID)
	}
	p.ended = append(p.ended, endedTicket{t, now})
	close(t.changed)
	t.changed = make(chan struct{})
	p.met.ticketState(t.mode, state)
}

// prune forgets tickets that ended longer than TicketRetention ago.
func (p *pool) prune(now time.Time) {
	n := 0
	for n < len(p.ended) && now.Sub(p.ended[n].at) >= p.cfg.TicketRetention {
		delete(p.tickets, p.ended[n].t.id)
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

// counts returns how many tickets are searching (queued or in allocation)
// and how many the pool remembers; for tests.
func (p *pool) counts() (searching, known int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.active), len(p.tickets)
}
