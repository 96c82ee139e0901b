package matchmaker

import (
	"fmt"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// No-shows: a player matched into a room that was cancelled because they
// never joined. Each no-show makes the player wait before they may queue
// again, longer for each one in a row (Config.NoShowCooldowns), and one
// is forgiven per Config.NoShowDecay without another. Recording one also
// ends the no-show's searching ticket, if they already queued again while
// the room waited for them, so that they cannot be matched with the same
// players at once.

// noShowReason is the failure reason of a searching ticket ended by its
// player's no-show.
const noShowReason = "a player of this ticket did not join the match they were matched into"

// noShow is what the store keeps of a player's no-shows.
type noShow struct {
	count int
	last  time.Time // the latest
}

// noShowCount is the count of no-shows left at now: one forgiven per
// NoShowDecay since the last.
func (c Config) noShowCount(n noShow, now time.Time) int {
	if n.count <= 0 {
		return 0
	}
	forgiven := int(now.Sub(n.last) / c.NoShowDecay)
	return max(n.count-forgiven, 0)
}

// noShowCooldown is the cooldown after the count-th no-show in a row.
func (c Config) noShowCooldown(count int) time.Duration {
	if count <= 0 {
		return 0
	}
	return c.NoShowCooldowns[min(count, len(c.NoShowCooldowns))-1]
}

// noShowUntil is when a player with these no-shows may queue again.
func (c Config) noShowUntil(n noShow) time.Time {
	return n.last.Add(c.noShowCooldown(n.count))
}

// noShowKeep is how long a record of count no-shows matters: until its
// cooldown is over and every no-show is forgiven.
func (c Config) noShowKeep(count int) time.Duration {
	return max(c.noShowCooldown(count), time.Duration(count)*c.NoShowDecay)
}

// cooldownError says that a player may not queue until a time.
type cooldownError struct {
	player string
	until  time.Time
}

func (e *cooldownError) Error() string {
	return fmt.Sprintf("player %s did not join a recent match and may queue again at %s", e.player, e.until.UTC().Format(time.RFC3339))
}

// recordNoShows counts a no-show for each of the players who belong to the
// room's tickets, and ends their searching tickets. The caller holds the
// lock.
func (p *pool) recordNoShows(r *room, missing []string, now time.Time) {
	for _, id := range missing {
		if !roomHas(r, id) {
			continue // a gameserver's report names only its room's players
		}
		n := p.noShows[id]
		n.count = p.cfg.noShowCount(n, now) + 1
		n.last = now
		p.noShows[id] = n
		p.met.noShows.Inc()
		if t := p.active[id]; t != nil && t.state == skirmishv1.TicketState_TICKET_STATE_SEARCHING && !t.allocating {
			p.remove(t)
			p.end(t, skirmishv1.TicketState_TICKET_STATE_FAILED, noShowReason, now)
		}
	}
}

func roomHas(r *room, player string) bool {
	for _, t := range r.tickets {
		if t.has(player) {
			return true
		}
	}
	return false
}

// cooldown returns the first of the players still in a no-show cooldown,
// and its end, or "".
func (p *pool) cooldown(players []string, now time.Time) (string, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range players {
		n, ok := p.noShows[id]
		if !ok {
			continue
		}
		if until := p.cfg.noShowUntil(n); now.Before(until) {
			return id, until
		}
	}
	return "", time.Time{}
}

// useInvites marks party invites used until they expire. It returns the
// index of the first one already used (and marks none), or -1.
func (p *pool) useInvites(ids []string, expires []time.Time, now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, id := range ids {
		if exp, ok := p.invites[id]; ok && now.Before(exp) {
			return i
		}
	}
	for i, id := range ids {
		p.invites[id] = expires[i]
	}
	return -1
}

// roomLive reports whether the pool knows the room: allocated, and not
// reported ended or cancelled, nor lost with its gameserver.
func (p *pool) roomLive(gameserverID, roomID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rooms[roomKey{gameserverID, roomID}] != nil
}

// pruneNoShows forgets no-shows that no longer matter and expired
// invites. The caller holds the lock.
func (p *pool) pruneNoShows(now time.Time) {
	for id, n := range p.noShows {
		if now.Sub(n.last) >= p.cfg.noShowKeep(n.count) {
			delete(p.noShows, id)
		}
	}
	for id, exp := range p.invites {
		if !now.Before(exp) {
			delete(p.invites, id)
		}
	}
}
