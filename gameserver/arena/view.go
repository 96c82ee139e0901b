package arena

import (
	"math"
	"slices"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Snapshot returns the world; every viewer sees all of it, so the slice is
// built once per tick and shared.
func (m *match) Snapshot(string) []game.Entity {
	if m.worldTick == m.tick && m.world != nil {
		return m.world
	}
	w := make([]game.Entity, 0, 1+len(m.players)+len(m.shots))
	// One backing array for all fields of the tick.
	fields := make([]int32, 0, MatchTeamScores+len(m.teams)+playerFields*len(m.players)+projectileFields*len(m.shots))
	take := func(vals ...int32) []int32 {
		start := len(fields)
		fields = append(fields, vals...)
		return fields[start:len(fields):len(fields)]
	}

	mf := []int32{int32(m.maxTicks), int32(m.scoreLimit)}
	for _, t := range m.teams {
		mf = append(mf, int32(m.score(t)))
	}
	w = append(w, game.Entity{ID: MatchEntityID, Kind: KindMatch, Fields: take(mf...)})

	for _, p := range m.players {
		if !p.present() {
			continue
		}
		w = append(w, game.Entity{ID: p.entity, Kind: KindPlayer, Fields: take(
			q10(p.x), q10(p.y), aimStep(p.aim), int32(p.health),
			int32(p.team), int32(p.elims), int32(p.deaths), int32(p.respawnAt),
		)})
	}
	for _, s := range m.shots {
		w = append(w, game.Entity{ID: s.id, Kind: KindProjectile, Fields: take(
			q10(s.x0), q10(s.y0), q10(s.vx), q10(s.vy), int32(m.players[s.owner].entity), int32(s.t0),
		)})
	}
	m.world, m.worldTick = w, m.tick
	return w
}

func q10(v float64) int32 { return int32(math.Round(v * 10)) }

// aimStep quantizes an angle to one of AimSteps directions, 0 pointing
// along +x and counting towards +y.
func aimStep(a float64) int32 {
	s := int32(math.Round(a / (2 * math.Pi / AimSteps)))
	return ((s % AimSteps) + AimSteps) % AimSteps
}

// Outcome ranks teams by score (teams with nobody left in the match rank
// after the others when the match was abandoned); tied teams share a
// placement.
func (m *match) Outcome() game.Outcome {
	type rank struct {
		team    uint32
		score   int
		present bool
	}
	ranks := make([]rank, len(m.teams))
	for i, t := range m.teams {
		ranks[i] = rank{t, m.score(t), m.teamPresent(t) || m.reason != skirmishv1.EndReason_END_REASON_ABANDONED}
	}
	better := func(a, b rank) bool {
		if a.present != b.present {
			return a.present
		}
		return a.score > b.score
	}
	placement := make(map[uint32]uint32, len(ranks))
	out := game.Outcome{Reason: m.reason}
	for _, r := range ranks {
		pl := uint32(1)
		for _, o := range ranks {
			if better(o, r) {
				pl++
			}
		}
		placement[r.team] = pl
		out.Teams = append(out.Teams, &skirmishv1.TeamResult{Team: r.team, Score: int32(r.score), Placement: pl})
	}
	slices.SortFunc(out.Teams, func(a, b *skirmishv1.TeamResult) int { return int(a.Team) - int(b.Team) })
	for _, p := range m.players {
		out.Players = append(out.Players, &skirmishv1.PlayerResult{
			PlayerId:     p.seat.PlayerID,
			Name:         p.seat.Name,
			Team:         p.team,
			Placement:    placement[p.team],
			Eliminations: p.elims,
			Deaths:       p.deaths,
			Damage:       p.damage,
			ShotsFired:   p.fired,
			ShotsHit:     p.hits,
			Left:         !p.present(),
			Stats: map[string]float64{
				StatEliminations: float64(p.elims),
				StatDeaths:       float64(p.deaths),
				StatDamage:       float64(p.damage),
				StatShotsFired:   float64(p.fired),
				StatShotsHit:     float64(p.hits),
			},
		})
	}
	return out
}
