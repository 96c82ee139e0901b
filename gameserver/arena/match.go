package arena

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

type player struct {
	seat   game.Seat
	team   uint32
	entity uint32
	joined bool
	left   bool

	x, y, aim    float64
	moveX, moveY float64
	fire         bool
	health       int
	respawnAt    int // tick at which an eliminated player is back; 0 while alive
	cooldown     int // ticks until the next shot

	elims, deaths, damage, fired, hits uint32
}

func (p *player) present() bool { return p.joined && !p.left }
func (p *player) alive() bool   { return p.present() && p.health > 0 }

type projectile struct {
	id     uint32
	owner  int // index in match.players
	x, y   float64
	vx, vy float64
	// Where and when it was launched, as snapshots tell it: it is at
	// (x0 + vx*(t-t0)/rate, ...) at tick t.
	x0, y0 float64
	t0     int
}

// match is one Arena match; it implements game.Game.
type match struct {
	cfg     Config
	mode    string
	rng     *rand.Rand
	players []*player
	index   map[string]int // player id -> index in players; lookups only
	teams   []uint32       // team numbers, increasing
	shots   []projectile
	nextID  uint32

	tick, maxTicks, cooldownTicks, respawnTicks int
	scoreLimit                                  int
	ended                                       bool
	reason                                      skirmishv1.EndReason

	world     []game.Entity // snapshot of the current tick, built lazily
	worldTick int
}

func newMatch(cfg Config, mode string, gc game.Config) *match {
	m := &match{
		cfg:           cfg,
		mode:          mode,
		rng:           rand.New(rand.NewPCG(gc.Seed, gc.Seed^0x9e3779b97f4a7c15)),
		index:         make(map[string]int, len(gc.Seats)),
		nextID:        firstProjectileID,
		maxTicks:      ticks(cfg.MatchDuration, cfg.TickRate),
		cooldownTicks: ticks(FireCooldown, cfg.TickRate),
		respawnTicks:  ticks(RespawnDelay, cfg.TickRate),
		scoreLimit:    cfg.ScoreLimit,
		worldTick:     -1,
	}
	if teamMode(mode) {
		m.scoreLimit = cfg.TeamScoreLimit
		m.teams = []uint32{1, 2}
	}
	for i, s := range gc.Seats {
		p := &player{seat: s, entity: uint32(firstPlayerID + i), team: s.Team}
		if !teamMode(mode) {
			p.team = uint32(i + 1)
			m.teams = append(m.teams, p.team)
		}
		m.index[s.PlayerID] = i
		m.players = append(m.players, p)
	}
	return m
}

// ticks converts a duration to whole ticks, rounding up.
func ticks(d time.Duration, rate int) int {
	return int((d*time.Duration(rate) + time.Second - 1) / time.Second)
}

func (m *match) Join(playerID string) (uint32, uint32) {
	i, ok := m.index[playerID]
	if !ok {
		return 0, 0
	}
	p := m.players[i]
	if !p.joined {
		p.joined = true
		m.spawn(p)
	}
	return p.entity, p.team
}

func (m *match) Leave(playerID string) {
	if i, ok := m.index[playerID]; ok {
		m.players[i].left = true
	}
}

func (m *match) Input(playerID string, in *skirmishv1.Input) {
	i, ok := m.index[playerID]
	a := in.GetArena()
	if !ok || a == nil {
		return
	}
	p := m.players[i]
	mx, my := finite(float64(a.MoveX)), finite(float64(a.MoveY))
	if l := math.Hypot(mx, my); l > 1 {
		mx, my = mx/l, my/l
	}
	p.moveX, p.moveY = mx, my
	if aim := float64(a.Aim); !math.IsNaN(aim) && !math.IsInf(aim, 0) {
		p.aim = math.Remainder(aim, 2*math.Pi)
	}
	p.fire = a.Fire
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// spawn puts p at a spawn point of its side, chosen by the seeded random
// source.
func (m *match) spawn(p *player) {
	var candidates []point
	if teamMode(m.mode) {
		candidates = spawns[p.team-1][:]
	} else {
		candidates = append(spawns[0][:len(spawns[0]):len(spawns[0])], spawns[1][:]...)
	}
	s := candidates[m.rng.IntN(len(candidates))]
	p.x, p.y = s.x, s.y
	p.health = MaxHealth
	p.respawnAt = 0
	p.cooldown = 0
}

func (m *match) Tick() bool {
	if m.ended {
		return true
	}
	m.tick++
	dt := 1 / float64(m.cfg.TickRate)
	for _, p := range m.players {
		if !p.present() {
			continue
		}
		if p.health <= 0 {
			if m.tick >= p.respawnAt {
				m.spawn(p)
			}
			continue
		}
		m.move(p, dt)
		if p.cooldown > 0 {
			p.cooldown--
		}
		if p.fire && p.cooldown == 0 {
			m.shoot(p)
		}
	}
	m.fly(dt)
	m.checkEnd()
	return m.ended
}

func (m *match) move(p *player, dt float64) {
	step := PlayerSpeed * dt
	if nx := p.x + p.moveX*step; !blocked(nx, p.y, PlayerRadius) {
		p.x = nx
	}
	if ny := p.y + p.moveY*step; !blocked(p.x, ny, PlayerRadius) {
		p.y = ny
	}
}

func (m *match) shoot(p *player) {
	dx, dy := math.Cos(p.aim), math.Sin(p.aim)
	off := float64(PlayerRadius + ProjectileRadius + 1)
	m.shots = append(m.shots, projectile{
		id:    m.nextID,
		owner: m.index[p.seat.PlayerID],
		x:     p.x + dx*off, y: p.y + dy*off,
		vx: dx * ProjectileSpeed, vy: dy * ProjectileSpeed,
		// Launched at the end of the previous tick: this tick's fly moves
		// it by one tick's travel.
		x0: p.x + dx*off, y0: p.y + dy*off, t0: m.tick - 1,
	})
	m.nextID++
	p.fired++
	p.cooldown = m.cooldownTicks
}

// fly moves projectiles in small steps so none passes through a wall or a
// player, and applies hits.
func (m *match) fly(dt float64) {
	const maxStep = ProjectileRadius
	kept := m.shots[:0]
	for _, s := range m.shots {
		dist := math.Hypot(s.vx, s.vy) * dt
		n := int(math.Ceil(dist / maxStep))
		alive := true
		for k := 0; k < n && alive; k++ {
			s.x += s.vx * dt / float64(n)
			s.y += s.vy * dt / float64(n)
			if blocked(s.x, s.y, ProjectileRadius) {
				alive = false
				break
			}
			if t := m.hitAt(s); t != nil {
				m.hit(m.players[s.owner], t)
				alive = false
			}
		}
		if alive {
			kept = append(kept, s)
		}
	}
	m.shots = kept
}

func (m *match) hitAt(s projectile) *player {
	owner := m.players[s.owner]
	const reach = PlayerRadius + ProjectileRadius
	for i, p := range m.players {
		if i == s.owner || !p.alive() || (teamMode(m.mode) && p.team == owner.team) {
			continue
		}
		dx, dy := p.x-s.x, p.y-s.y
		if dx*dx+dy*dy <= reach*reach {
			return p
		}
	}
	return nil
}

func (m *match) hit(shooter, target *player) {
	shooter.hits++
	shooter.damage += Damage
	target.health -= Damage
	if target.health <= 0 {
		target.health = 0
		target.deaths++
		target.respawnAt = m.tick + m.respawnTicks
		shooter.elims++
	}
}

// score returns the score of a team: its players' eliminations.
func (m *match) score(team uint32) int {
	s := 0
	for _, p := range m.players {
		if p.team == team {
			s += int(p.elims)
		}
	}
	return s
}

func (m *match) checkEnd() {
	for _, t := range m.teams {
		if m.score(t) >= m.scoreLimit {
			m.end(skirmishv1.EndReason_END_REASON_SCORE_LIMIT)
			return
		}
	}
	if m.tick >= m.maxTicks {
		m.end(skirmishv1.EndReason_END_REASON_TIME_LIMIT)
		return
	}
	present := 0
	for _, t := range m.teams {
		if m.teamPresent(t) {
			present++
		}
	}
	if present < 2 {
		m.end(skirmishv1.EndReason_END_REASON_ABANDONED)
	}
}

func (m *match) teamPresent(team uint32) bool {
	for _, p := range m.players {
		if p.team == team && p.present() {
			return true
		}
	}
	return false
}

func (m *match) end(r skirmishv1.EndReason) {
	m.ended, m.reason = true, r
}
