package skirmish

import (
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Roster is who is in the match: one entry a seat (the player included),
// with the entity in snapshots (0 until that player first joined), the
// player id, the display name, the team and the presence (waiting,
// connected, dropped, left). It comes with the Welcome and is replaced
// whole whenever someone joins, returns, drops or leaves; entries of
// players gone for good stay, so their names remain known. The slice and
// its entries must not be changed.
func (g *Game) Roster() []*skirmishv1.RosterEntry {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.roster
}

// Player returns the roster entry of the player whose entity is
// entityID, or nil when no seated player has it (a projectile, a match
// entity, or a player not yet joined).
func (g *Game) Player(entityID uint32) *skirmishv1.RosterEntry {
	if entityID == 0 {
		return nil
	}
	for _, p := range g.Roster() {
		if p.GetEntityId() == entityID {
			return p
		}
	}
	return nil
}

// setRoster replaces the roster and tells JoinOptions.OnRoster.
func (g *Game) setRoster(r []*skirmishv1.RosterEntry) {
	g.mu.Lock()
	g.roster = r
	g.mu.Unlock()
	if g.opts.OnRoster != nil {
		g.opts.OnRoster(r)
	}
}
