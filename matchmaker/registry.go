package matchmaker

import (
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

// sweep forgets gameservers whose last heartbeat is older than the TTL. It
// returns how many remain in allocation and the control addresses of all
// that remain.
func (r *registry) sweep(now time.Time) (live int, addrs map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addrs = make(map[string]bool, len(r.servers))
	for id, gs := range r.servers {
		if now.Sub(gs.lastSeen) > r.ttl {
			delete(r.servers, id)
			continue
		}
		addrs[gs.info.GetControlAddress()] = true
		if !gs.info.GetDraining() {
			live++
		}
	}
	return live, addrs
}

// reserve picks a gameserver with room for seats players, preferring the
// region, and holds the seats until release or the next heartbeat. It
// returns nil when no gameserver has room.
func (r *registry) reserve(region string, seats int, now time.Time) *skirmishv1.Gameserver {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best *gameserver
	bestLoad, bestInRegion := 0.0, false
	for _, gs := range r.servers {
		info := gs.info
		used := info.GetPlayers() + gs.pending
		if info.GetDraining() || now.Sub(gs.lastSeen) > r.ttl || used+uint32(seats) > info.GetCapacity() {
			continue
		}
		inRegion := region != "" && info.GetRegion() == region
		load := float64(used) / float64(info.GetCapacity())
		better := best == nil || (inRegion && !bestInRegion)
		if !better && inRegion == bestInRegion {
			if r.fillFirst {
				better = load > bestLoad || (load == bestLoad && info.GetId() < best.info.GetId())
			} else {
				better = load < bestLoad || (load == bestLoad && info.GetId() < best.info.GetId())
			}
		}
		if better {
			best, bestLoad, bestInRegion = gs, load, inRegion
		}
	}
	if best == nil {
		return nil
	}
	best.pending += uint32(seats)
	return best.info
}

// release returns seats reserved on a gameserver whose CreateRoom failed.
func (r *registry) release(id string, seats int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gs := r.servers[id]; gs != nil {
		gs.pending -= min(gs.pending, uint32(seats))
	}
}
