package bot

import (
	"math"
	"math/rand/v2"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
)

// Brain decides a bot's input from the world it sees: head for the nearest
// living opponent while strafing, aim at it, and fire when it is in range.
type Brain struct {
	self   uint32
	rng    *rand.Rand
	strafe float64
	jitter float64
	turns  int
}

// NewBrain makes a brain for the player whose entity id is self; the seed
// makes its choices reproducible.
func NewBrain(self uint32, seed int64) *Brain {
	return &Brain{self: self, rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed)), strafe: 1}
}

const fireRange = 700.0 // world units

// Decide returns the input for the world w: a move direction, an aim angle
// and whether to fire.
func (b *Brain) Decide(w *skirmish.World) (moveX, moveY, aim float32, fire bool) {
	if w == nil {
		return 0, 0, 0, false
	}
	me, ok := w.Entity(b.self)
	if !ok {
		return 0, 0, 0, false
	}
	mx, my := arenaPos(me)
	var best skirmish.Entity
	bestDist := math.Inf(1)
	for _, e := range w.Entities {
		if e.Kind != arenaKindPlayer || e.ID == b.self || !arenaAlive(e) || arenaTeam(e) == arenaTeam(me) {
			continue
		}
		x, y := arenaPos(e)
		if d := math.Hypot(x-mx, y-my); d < bestDist || (d == bestDist && e.ID < best.ID) {
			best, bestDist = e, d
		}
	}
	b.turns++
	if b.turns%45 == 0 && b.rng.IntN(2) == 0 {
		b.strafe = -b.strafe
	}
	if math.IsInf(bestDist, 1) {
		// Nobody to fight: wander.
		a := b.rng.Float64() * 2 * math.Pi
		return float32(math.Cos(a)), float32(math.Sin(a)), 0, false
	}
	ox, oy := arenaPos(best)
	angle := math.Atan2(oy-my, ox-mx)
	// Close in while far away, circle when near.
	fwd := 1.0
	if bestDist < 250 {
		fwd = 0.2
	}
	dx := fwd*math.Cos(angle) - b.strafe*0.6*math.Sin(angle)
	dy := fwd*math.Sin(angle) + b.strafe*0.6*math.Cos(angle)
	if b.turns%15 == 1 {
		// A hand's aim error drifts; it does not shake every tick.
		b.jitter = (b.rng.Float64() - 0.5) * 0.1
	}
	return float32(dx), float32(dy), float32(angle + b.jitter), bestDist < fireRange
}
