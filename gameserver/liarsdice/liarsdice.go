// Package liarsdice is Liar's Dice, a turn-based game with hidden
// information for 2 to 6 players, plugged into Skirmish through the
// public game seam only (game.Game, game.Eventer, game.Resyncer, an
// ordered input policy and per-viewer snapshots).
//
// # Rules
//
// Every player starts with 5 dice. Each round, every player still in
// rolls their dice in secret. Players then take turns, starting with the
// round's starter: a turn is either a bid, "among all the dice on the
// table at least Quantity show Face", higher than the standing bid
// (a greater quantity, or the same quantity and a greater face; quantity
// at most the dice in play, face 1 to 6; there are no wild faces), or a
// call of "liar" on the standing bid. On a call every die is revealed: if
// fewer dice than the bid's quantity show its face, the bidder loses a
// die, otherwise the caller does. The loser starts the next round (or the
// next player still in, when the loser is out). A player with no dice
// left is out; the last player with dice wins.
//
// A player who does not act within the turn time (15 s) has the server
// act for them: a call when a bid stands, else a bid of one die of the
// face they hold most. A player who leaves the match for good is out at
// once, placed below everyone still in, and the round is rolled again
// without them.
//
// # Inputs
//
// A move is the Input.custom payload of 3 bytes (EncodeMove, DecodeMove):
// op (1 bid, 2 call), quantity, face. The mode's input policy is ordered:
// no move is ever dropped. A move that is not allowed now (not your turn,
// a bid not higher) is answered with a "refused" event to the mover.
//
// # Snapshot entities
//
// Fields are int32, in this order:
//
//	kind 1 (KindTable), id 1 (TableID):
//	  0 round (from 1), 1 phase (PhaseBidding, PhaseReveal, PhaseOver),
//	  2 seat whose turn it is (-1 outside bidding),
//	  3 bid quantity, 4 bid face, 5 bidder seat (0, 0, -1: no bid yet),
//	  6 tick at which the turn times out (or the reveal ends),
//	  7 dice in play
//	kind 2 (KindPlayer), id PlayerID(seat) = 10 + seat:
//	  0 seat, 1 dice left, 2 out (0 or 1), 3 placement (0 while in)
//	kind 3 (KindDie), id DieID(seat, i) = 100 + 8*seat + i:
//	  0 face (1 to 6)
//
// Dice are hidden information: while bidding a viewer sees only its own
// dice; during the reveal between rounds, everyone sees every die. A
// player's own entity is Welcome.entity_id (PlayerID of its seat), its
// team is seat + 1.
//
// # Events
//
// Payloads are JSON objects (see events.go): "seats" (to a player when it
// joins or reconnects: everyone's seat, id and name), "round" (a round
// starts), "bid", "reveal" (a call: every die, the count, who lost a
// die), "out" (a player is out, with placement), "refused" (to the mover:
// why a move was not allowed).
//
// # Outcome
//
// Placement by the order players went out (the winner is 1; the
// leaderboard counts wins from it). Stats per player: "rounds_won" (calls
// the player won, as caller or bidder), "bluffs_called" (right calls of
// liar), "bids_upheld" (own bids that stood when called), "bids",
// "dice_lost", "dice_left", "timeouts" (turns the server played for the
// player). A team's score is the player's dice left.
package liarsdice

import (
	"fmt"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// ModeDice is the mode name: 2 to 6 players, each on their own team.
const ModeDice = "dice"

// Entity kinds and ids.
const (
	KindTable  = 1
	KindPlayer = 2
	KindDie    = 3

	TableID = 1
)

// PlayerID is the entity id of the player in seat.
func PlayerID(seat int) uint32 { return uint32(10 + seat) }

// DieID is the entity id of the i-th die of the player in seat.
func DieID(seat, i int) uint32 { return uint32(100 + 8*seat + i) }

// Phases of the table.
const (
	PhaseBidding = 1
	PhaseReveal  = 2
	PhaseOver    = 3
)

// Bounds of the game.
const (
	MinPlayers = 2
	MaxPlayers = 6
	MaxDice    = 8
)

// Config tunes the game; the zero value plays by the rules above.
type Config struct {
	// TickRate is ticks per second (default 10).
	TickRate int
	// Dice is each player's dice at the start (default 5, at most 8).
	Dice int
	// TurnTime is how long a player has to act (default 15 s).
	TurnTime time.Duration
	// RevealTime is the pause after a call, while every die is shown,
	// before the next round (default 2 s).
	RevealTime time.Duration
}

func (c Config) withDefaults() Config {
	if c.TickRate <= 0 {
		c.TickRate = 10
	}
	if c.Dice <= 0 {
		c.Dice = 5
	}
	c.Dice = min(c.Dice, MaxDice)
	if c.TurnTime <= 0 {
		c.TurnTime = 15 * time.Second
	}
	if c.RevealTime <= 0 {
		c.RevealTime = 2 * time.Second
	}
	return c
}

// ticks converts a duration to whole ticks, at least 1.
func (c Config) ticks(d time.Duration) int32 {
	return int32(max(1, d*time.Duration(c.TickRate)/time.Second))
}

// Modes returns the game's one mode, "dice", to register in a
// game.Registry.
func Modes(cfg Config) []game.Mode {
	cfg = cfg.withDefaults()
	return []game.Mode{{
		Name:       ModeDice,
		TickRate:   cfg.TickRate,
		MinPlayers: MinPlayers,
		Input:      game.InputPolicy{Kind: game.Ordered, MaxQueued: 8, MaxPayloadBytes: 16},
		// A reveal to 6 players is the largest event: under 1 KiB each.
		MaxEventBytes: 16 << 10,
		Validate:      validate,
		New: func(gc game.Config) (game.Game, error) {
			if err := validate(gc.Seats); err != nil {
				return nil, err
			}
			return newMatch(cfg, gc), nil
		},
	}}
}

func validate(seats []game.Seat) error {
	if len(seats) < MinPlayers || len(seats) > MaxPlayers {
		return fmt.Errorf("%w: %d seats, want %d to %d", game.ErrBadSeats, len(seats), MinPlayers, MaxPlayers)
	}
	return nil
}
