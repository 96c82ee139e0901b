package matchmaker

import (
	"iter"
	"maps"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// registry tracks the gameservers that heartbeat and chooses one for each
// match.
type registry struct {
	ttl       time.Duration
	fillFirst bool

	mu      sync.Mutex
	servers map[string]*gameserver
}

type gameserver struct {
	info     *skirmishv1.Gameserver
	lastSeen time.Time
	// pending counts seats allocated since the last heartbeat, which the
	// heartbeat's player count may not include yet.
	pending uint32
	// freed counts seats of rooms that ended or were cancelled since the
	// last heartbeat, which its player count may still include.
	freed uint32
	// suspect is set when a CreateRoom failed: no room goes to the
	// gameserver until its next heartbeat shows it alive.
	suspect bool
}

// used is the number of seats taken on the gameserver, as best known.
func (gs *gameserver) used() uint32 {
	u := gs.info.GetPlayers() + gs.pending
	return u - min(u, gs.freed)
}

func newRegistry(ttl time.Duration, fillFirst bool) *registry {
	return &registry{ttl: ttl, fillFirst: fillFirst, servers: make(map[string]*gameserver)}
}

// heartbeat records a gameserver's state; the first one registers it.
func (r *registry) heartbeat(info *skirmishv1.Gameserver, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.servers[info.GetId()] = &gameserver{info: proto.CloneOf(info), lastSeen: now}
}

// deregister takes a gameserver out of allocation at once.
func (r *registry) deregister(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.servers[id]
	delete(r.servers, id)
	return ok
}

// Gameserver states, as the skirmish_matchmaker_gameservers metric labels
// them.
var gameserverStates = []string{"available", "full", "draining"}

// sweep forgets gameservers whose last heartbeat is older than the TTL. It
// returns how many remain in each state, the control addresses of all
// that remain, and the ids of those it forgot (lost: they stopped without
// deregistering).
func (r *registry) sweep(now time.Time) (states map[string]int, addrs map[string]bool, lost []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	states = make(map[string]int, len(gameserverStates))
	addrs = make(map[string]bool, len(r.servers))
	for id, gs := range r.servers {
		if now.Sub(gs.lastSeen) > r.ttl {
			delete(r.servers, id)
			lost = append(lost, id)
			continue
		}
		addrs[gs.info.GetControlAddress()] = true
		switch {
		case gs.info.GetDraining():
			states["draining"]++
		case gs.used() >= gs.info.GetCapacity():
			states["full"]++
		default:
			states["available"]++
		}
	}
	return states, addrs, lost
}

// markSuspect takes a gameserver out of allocation until its next
// heartbeat.
func (r *registry) markSuspect(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gs := r.servers[id]; gs != nil {
		gs.suspect = true
	}
}

// get returns a gameserver in allocation, or nil.
func (r *registry) get(id string, now time.Time) *skirmishv1.Gameserver {
	r.mu.Lock()
	defer r.mu.Unlock()
	gs := r.servers[id]
	if gs == nil || now.Sub(gs.lastSeen) > r.ttl {
		return nil
	}
	return gs.info
}

// add counts seats added to a running room (backfill) until the next
// heartbeat.
func (r *registry) add(id string, seats int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gs := r.servers[id]; gs != nil {
		gs.pending += uint32(seats)
	}
}

// free counts seats of a room that ended or was cancelled as free until the
// next heartbeat.
func (r *registry) free(id string, seats int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gs := r.servers[id]; gs != nil {
		gs.freed += uint32(seats)
	}
}

// reserve picks a gameserver with room for seats players, preferring the
// region, and holds the seats until release or the next heartbeat. It
// returns nil when no gameserver has room.
func (r *registry) reserve(region string, seats int, now time.Time, skip func(id string) bool) *skirmishv1.Gameserver {
	r.mu.Lock()
	defer r.mu.Unlock()
	best := pickGameserver(maps.Values(r.servers), region, seats, r.fillFirst, r.ttl, now, skip)
	if best == nil {
		return nil
	}
	best.pending += uint32(seats)
	return best.info
}

// pickGameserver chooses, among the gameservers that are live, not
// suspect, not skipped (skip may be nil), not draining and have room for
// seats players, one in the
// region if any is, then the least loaded (or with fillFirst the most
// loaded), ties broken by id. It returns nil when none fits.
func pickGameserver(servers iter.Seq[*gameserver], region string, seats int, fillFirst bool, ttl time.Duration, now time.Time, skip func(id string) bool) *gameserver {
	var best *gameserver
	bestLoad, bestInRegion := 0.0, false
	for gs := range servers {
		info := gs.info
		used := gs.used()
		if gs.suspect || (skip != nil && skip(info.GetId())) || info.GetDraining() || now.Sub(gs.lastSeen) > ttl || used+uint32(seats) > info.GetCapacity() {
			continue
		}
		inRegion := region != "" && info.GetRegion() == region
		load := float64(used) / float64(info.GetCapacity())
		better := best == nil || (inRegion && !bestInRegion)
		if !better && inRegion == bestInRegion {
			if fillFirst {
				better = load > bestLoad || (load == bestLoad && info.GetId() < best.info.GetId())
			} else {
				better = load < bestLoad || (load == bestLoad && info.GetId() < best.info.GetId())
			}
		}
		if better {
			best, bestLoad, bestInRegion = gs, load, inRegion
		}
	}
	return best
}

// release returns seats reserved on a gameserver whose CreateRoom failed.
func (r *registry) release(id string, seats int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gs := r.servers[id]; gs != nil {
		gs.pending -= min(gs.pending, uint32(seats))
	}
}
