// Package guess is Guess the Number, a small game for Skirmish written
// against its public APIs only: the server draws a secret number from 1 to
// --guess-max; each player sends guesses and alone sees whether the
// secret is higher or lower than their last guess. The first to name it
// wins; when nobody has by --guess-time, nobody does.
//
// server/ is its gameserver (a one-line main) and bot/ a bot that plays
// it; docs/writing-a-game.md walks through all three.
package guess

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// ModeGuess is the one mode: 2 to 8 players, each on their own team.
const ModeGuess = "guess"

// TickRate is the ticks per second: at most one guess per player a tick.
const TickRate = 10

// Game is Guess the Number as a gameserver hosts it (host.Game).
type Game struct {
	Max       int           // the secret is from 1 to Max
	TimeLimit time.Duration // the match ends after it
}

// Flags registers the game's settings: --guess-max and --guess-time.
func (g *Game) Flags(fs *flag.FlagSet) {
	fs.IntVar(&g.Max, "guess-max", 100, "Guess the Number: the highest secret number")
	fs.DurationVar(&g.TimeLimit, "guess-time", time.Minute, "Guess the Number: match time limit")
}

// Modes checks the settings and returns the game's mode.
func (g *Game) Modes() ([]game.Mode, error) {
	if g.Max < 2 || g.Max > 1_000_000 {
		return nil, fmt.Errorf("--guess-max: must be from 2 to 1000000, got %d", g.Max)
	}
	if g.TimeLimit < time.Second {
		return nil, fmt.Errorf("--guess-time: must be at least 1s, got %s", g.TimeLimit)
	}
	rules := *g
	return []game.Mode{{
		Name:       ModeGuess,
		TickRate:   TickRate,
		MinPlayers: 2,
		Validate:   validateSeats,
		New: func(cfg game.Config) (game.Game, error) {
			if err := validateSeats(cfg.Seats); err != nil {
				return nil, err
			}
			return newMatch(rules, cfg), nil
		},
	}}, nil
}

func validateSeats(seats []game.Seat) error {
	if len(seats) < 2 || len(seats) > 8 {
		return fmt.Errorf("%w: %d seats, want 2 to 8", game.ErrBadSeats, len(seats))
	}
	return nil
}

// Snapshot entities. Fields are int32 in this order:
//
//	kind 1 (KindPlayer), id 2 + seat index:
//	  0 guesses made, 1 hint to the viewer's own last guess
//	  (1 higher, -1 lower, 0 none or right; 0 for other players' entities),
//	  2 1 once the player named the secret
//	kind 2 (KindMatch), id 1:
//	  0 end tick (the match ends by time at this tick), 1 the secret
//	  once the match is over, else 0
const (
	KindPlayer = 1
	KindMatch  = 2
)

// Field indexes of the entity kinds.
const (
	PlayerGuesses = 0
	PlayerHint    = 1
	PlayerRight   = 2

	MatchEndTick = 0
	MatchSecret  = 1
)

type player struct {
	seat    game.Seat
	entity  uint32
	joined  bool
	left    bool
	guesses int
	hint    int32
	right   bool
}

// match is one match. The room calls it from one goroutine: no locks.
type match struct {
	secret  int
	players []*player
	tick    uint32
	endTick uint32
	over    bool
	reason  skirmishv1.EndReason
}

func newMatch(rules Game, cfg game.Config) *match {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	m := &match{
		secret:  1 + rng.IntN(rules.Max),
		endTick: uint32(rules.TimeLimit.Seconds() * TickRate),
	}
	for i, s := range cfg.Seats {
		m.players = append(m.players, &player{seat: s, entity: uint32(2 + i)})
	}
	return m
}

func (m *match) player(id string) *player {
	for _, p := range m.players {
		if p.seat.PlayerID == id {
			return p
		}
	}
	return nil
}

// Join brings a seated player in; every player is their own team.
func (m *match) Join(playerID string) (entityID, team uint32) {
	p := m.player(playerID)
	p.joined = true
	return p.entity, p.entity - 1
}

// Leave takes a player out for good.
func (m *match) Leave(playerID string) {
	m.player(playerID).left = true
}

// Input applies one guess: the custom payload is the number in decimal
// ("42"). Anything else is ignored, as are guesses after the end.
func (m *match) Input(playerID string, in *skirmishv1.Input) {
	p := m.player(playerID)
	n, err := strconv.Atoi(string(in.GetCustom()))
	if err != nil || m.over || p.right {
		return
	}
	p.guesses++
	switch {
	case n < m.secret:
		p.hint = 1
	case n > m.secret:
		p.hint = -1
	default:
		p.hint, p.right = 0, true
	}
}

// Tick ends the match when someone named the secret, when the time is
// up, or when fewer than two players are left.
func (m *match) Tick() (ended bool) {
	m.tick++
	present := 0
	for _, p := range m.players {
		if p.right {
			m.over, m.reason = true, skirmishv1.EndReason_END_REASON_SCORE_LIMIT
		}
		if !p.left {
			present++
		}
	}
	switch {
	case m.over:
	case m.tick >= m.endTick:
		m.over, m.reason = true, skirmishv1.EndReason_END_REASON_TIME_LIMIT
	case present < 2:
		m.over, m.reason = true, skirmishv1.EndReason_END_REASON_ABANDONED
	}
	return m.over
}

// Snapshot is what viewer sees: every player's guess count, its own hint
// only, and the secret only once the match is over. It builds new slices
// every call: the room keeps them for delta encoding.
func (m *match) Snapshot(viewer string) []snapshot.Entity {
	secret := int32(0)
	if m.over {
		secret = int32(m.secret)
	}
	out := []snapshot.Entity{{ID: 1, Kind: KindMatch, Fields: []int32{int32(m.endTick), secret}}}
	for _, p := range m.players {
		if !p.joined || p.left {
			continue
		}
		hint := int32(0)
		if p.seat.PlayerID == viewer {
			hint = p.hint
		}
		right := int32(0)
		if p.right {
			right = 1
		}
		out = append(out, snapshot.Entity{ID: p.entity, Kind: KindPlayer, Fields: []int32{int32(p.guesses), hint, right}})
	}
	return out
}

// Outcome ranks the players who named the secret first (placement 1),
// then the others who stayed (2), then those who left (3), and reports
// each player's guesses as a stat.
func (m *match) Outcome() game.Outcome {
	out := game.Outcome{Reason: m.reason}
	for _, p := range m.players {
		placement := uint32(2)
		switch {
		case p.right:
			placement = 1
		case p.left:
			placement = 3
		case m.reason == skirmishv1.EndReason_END_REASON_ABANDONED:
			placement = 1 // the last one standing
		}
		team := p.entity - 1
		out.Teams = append(out.Teams, &skirmishv1.TeamResult{Team: team, Score: int32(p.guesses), Placement: placement})
		out.Players = append(out.Players, &skirmishv1.PlayerResult{
			PlayerId:  p.seat.PlayerID,
			Name:      p.seat.Name,
			Team:      team,
			Placement: placement,
			Left:      p.left,
			Stats:     map[string]float64{"guesses": float64(p.guesses)},
		})
	}
	return out
}
