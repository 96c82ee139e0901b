// Package arena is Skirmish's reference game: a top-down 2D shooter on a
// 1600 x 900 field with a few rectangular walls. Players are circles of
// radius 20 moving at 200 units/s; they fire projectiles (600 units/s,
// stopped by walls, 250 ms cooldown, 25 damage) and have 100 health; an
// eliminated player respawns after 2 s. Modes: "duel" (1v1), "ffa" (2-8
// players, each on their own team), "team" (2v2, teams 1 and 2; 3v3 and
// 4v4 are accepted too) and "team4" (4v4, or 3v3 when the matchmaker
// starts it short). A match ends at the score limit (10 eliminations in
// duel and ffa, 20 per team in the team modes) or after 3 minutes. The
// simulation is deterministic for a given seed, join order and input
// sequence: no map iteration, no clock.
//
// # Snapshot entities
//
// Fields are int32, in this order (positions in tenths of a unit, ticks in
// the snapshot's tick numbering: the match's tick count, which is
// Snapshot.tick). No field changes every tick unless the thing it
// describes does, so a delta costs bytes only for what moved or happened:
//
//	kind 1 (KindPlayer), id 2 + seat index (2..15):
//	  0 x*10, 1 y*10,
//	  2 aim in steps of 2*pi/AimSteps (0..AimSteps-1; the server aims
//	    with the exact input, the field is for drawing),
//	  3 health (0 while eliminated), 4 team, 5 eliminations, 6 deaths,
//	  7 respawn tick: the tick at which an eliminated player is back
//	    (0 while alive)
//	kind 2 (KindProjectile), id 16 and up, never reused in a match; every
//	field is fixed at spawn, so a projectile costs bytes once:
//	  0 x*10, 1 y*10 (position at the spawn tick),
//	  2 vx*10, 3 vy*10 (units per second), 4 owner entity id,
//	  5 spawn tick.
//	  At tick T the projectile is at (x + vx*(T-spawn)/rate,
//	  y + vy*(T-spawn)/rate) (rate: Welcome.tick_rate_hz): it flies
//	  straight until it hits a wall or a player, and then the snapshot
//	  removes it. Clients move it themselves between spawn and removal.
//	kind 3 (KindMatch), id 1 (MatchEntityID), exactly one:
//	  0 end tick (the match ends by time at this tick), 1 score limit,
//	  then one field per team in increasing team order: 2 score of
//	  team 1, 3 score of team 2, ... (in duel and ffa, team k is seat
//	  k-1 and its score the player's eliminations)
//
// Every viewer sees every entity (Arena hides nothing). Players that have
// not joined or that left are absent.
package arena

import (
	"fmt"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// The stats Arena reports for each player in its outcome
// (PlayerResult.stats), all counts of the match: leaderboard boards rank by
// them by name. The older PlayerResult fields carry the same figures for
// readers that predate stats; they are deprecated.
const (
	StatEliminations = "eliminations" // opponents eliminated
	StatDeaths       = "deaths"       // times eliminated
	StatDamage       = "damage"       // damage dealt, in health points
	StatShotsFired   = "shots_fired"  // projectiles fired
	StatShotsHit     = "shots_hit"    // projectiles that hit an opponent
)

// Entity kinds of Arena snapshots.
const (
	KindPlayer     = 1
	KindProjectile = 2
	KindMatch      = 3
)

// Entity ids.
const (
	MatchEntityID     = 1
	firstPlayerID     = 2
	firstProjectileID = 16
)

// Player field indexes (kind 1).
const (
	PlayerX = iota
	PlayerY
	PlayerAim
	PlayerHealth
	PlayerTeam
	PlayerEliminations
	PlayerDeaths
	PlayerRespawnTick
	playerFields
)

// Projectile field indexes (kind 2).
const (
	ProjectileX = iota
	ProjectileY
	ProjectileVX
	ProjectileVY
	ProjectileOwner
	ProjectileSpawnTick
	projectileFields
)

// Match field indexes (kind 3); team scores follow from MatchTeamScores.
const (
	MatchEndTick = iota
	MatchScoreLimit
	MatchTeamScores
)

// Rules of the game.
const (
	Width            = 1600
	Height           = 900
	PlayerRadius     = 20
	PlayerSpeed      = 200 // units per second
	ProjectileSpeed  = 600 // units per second
	ProjectileRadius = 4
	FireCooldown     = 250 * time.Millisecond
	Damage           = 25
	MaxHealth        = 100
	RespawnDelay     = 2 * time.Second
	// AimSteps is how many aim directions the snapshot tells apart
	// (5.6 degrees each): aim jitter within a step is not a change.
	AimSteps = 64
)

// Mode names.
const (
	ModeDuel = "duel"
	ModeFFA  = "ffa"
	ModeTeam = "team"
	// ModeTeam4 is the team game with teams of up to four, the
	// matchmaker's built-in "team4" (4v4, at least 3v3 after its wait).
	ModeTeam4 = "team4"
)

// teamMode reports whether mode is played in two teams (1 and 2) rather
// than each player alone.
func teamMode(mode string) bool { return mode == ModeTeam || mode == ModeTeam4 }

// Config tunes Arena; the zero value plays by the rules above.
type Config struct {
	// TickRate is ticks per second (default 30).
	TickRate int
	// MatchDuration is the time limit (default 3 minutes).
	MatchDuration time.Duration
	// ScoreLimit is the eliminations that win duel and ffa (default 10).
	ScoreLimit int
	// TeamScoreLimit is the team eliminations that win team and team4
	// (default 20).
	TeamScoreLimit int
	// BackfillMinTimeLeft is the least match time that must remain for a
	// seat left open to be offered to a newcomer (default 30 s).
	BackfillMinTimeLeft time.Duration
}

func (c Config) withDefaults() Config {
	if c.TickRate <= 0 {
		c.TickRate = game.DefaultTickRate
	}
	if c.MatchDuration <= 0 {
		c.MatchDuration = 3 * time.Minute
	}
	if c.ScoreLimit <= 0 {
		c.ScoreLimit = 10
	}
	if c.TeamScoreLimit <= 0 {
		c.TeamScoreLimit = 20
	}
	if c.BackfillMinTimeLeft <= 0 {
		c.BackfillMinTimeLeft = 30 * time.Second
	}
	return c
}

// Modes returns Arena's modes (duel, ffa, team, team4), to register in a
// game.Registry.
func Modes(cfg Config) []game.Mode {
	cfg = cfg.withDefaults()
	mk := func(name string, validate func([]game.Seat) error) game.Mode {
		return game.Mode{
			Name:       name,
			TickRate:   cfg.TickRate,
			MinPlayers: 2,
			Validate:   validate,
			New: func(gc game.Config) (game.Game, error) {
				if err := validate(gc.Seats); err != nil {
					return nil, err
				}
				return newMatch(cfg, name, gc), nil
			},
		}
	}
	return []game.Mode{
		mk(ModeDuel, func(s []game.Seat) error { return seatCount(s, 2, 2) }),
		mk(ModeFFA, func(s []game.Seat) error { return seatCount(s, 2, 8) }),
		mk(ModeTeam, validateTeams(2, 4)),
		mk(ModeTeam4, validateTeams(3, 4)),
	}
}

func seatCount(seats []game.Seat, lo, hi int) error {
	if len(seats) < lo || len(seats) > hi {
		if lo == hi {
			return fmt.Errorf("%w: %d seats, want %d", game.ErrBadSeats, len(seats), lo)
		}
		return fmt.Errorf("%w: %d seats, want %d to %d", game.ErrBadSeats, len(seats), lo, hi)
	}
	return nil
}

// validateTeams accepts two equal teams, 1 and 2, of lo to hi players.
func validateTeams(lo, hi int) func([]game.Seat) error {
	return func(seats []game.Seat) error {
		if n := len(seats); n%2 != 0 || n < 2*lo || n > 2*hi {
			return fmt.Errorf("%w: %d seats, want two equal teams of %d to %d", game.ErrBadSeats, n, lo, hi)
		}
		var n [3]int
		for _, s := range seats {
			if s.Team != 1 && s.Team != 2 {
				return fmt.Errorf("%w: player %q is on team %d, want 1 or 2", game.ErrBadSeats, s.PlayerID, s.Team)
			}
			n[s.Team]++
		}
		if n[1] != n[2] {
			return fmt.Errorf("%w: teams of %d and %d players, want equal", game.ErrBadSeats, n[1], n[2])
		}
		return nil
	}
}
