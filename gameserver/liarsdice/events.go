package liarsdice

import (
	"encoding/json"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// Event types and payloads (JSON). Seats are indices into SeatsEvent.Seats.
const (
	EventSeats   = "seats"
	EventRound   = "round"
	EventBid     = "bid"
	EventReveal  = "reveal"
	EventOut     = "out"
	EventRefused = "refused"
)

// SeatInfo is one seat of the table.
type SeatInfo struct {
	Seat     int    `json:"seat"`
	PlayerID string `json:"player_id"`
	Name     string `json:"name"`
}

// SeatsEvent tells a player who sits where, and which seat is theirs.
type SeatsEvent struct {
	Seats []SeatInfo `json:"seats"`
	You   int        `json:"you"`
}

// RoundEvent starts a round: its number, its starter and every seat's
// dice count.
type RoundEvent struct {
	Round   int   `json:"round"`
	Starter int   `json:"starter"`
	Dice    []int `json:"dice"`
}

// BidEvent is a bid made.
type BidEvent struct {
	Seat     int  `json:"seat"`
	Quantity int  `json:"quantity"`
	Face     int  `json:"face"`
	Auto     bool `json:"auto,omitempty"` // the server bid for a player out of time
}

// RevealEvent is a call of liar and its result.
type RevealEvent struct {
	Round    int     `json:"round"`
	Caller   int     `json:"caller"`
	Bidder   int     `json:"bidder"`
	Quantity int     `json:"quantity"`
	Face     int     `json:"face"`
	Count    int     `json:"count"` // dice showing Face
	Loser    int     `json:"loser"`
	Dice     [][]int `json:"dice"` // every seat's dice, by seat
	Auto     bool    `json:"auto,omitempty"`
}

// OutEvent is a player out of the match.
type OutEvent struct {
	Seat      int  `json:"seat"`
	Placement int  `json:"placement"`
	Left      bool `json:"left,omitempty"` // left the match rather than lost
}

// RefusedEvent tells a player why a move was not allowed.
type RefusedEvent struct {
	Reason string `json:"reason"`
}

func (m *match) emit(to, typ string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of this file are marshalled
	}
	m.events = append(m.events, game.Event{To: to, Type: typ, Payload: b})
}

// Events implements game.Eventer.
func (m *match) Events() []game.Event {
	out := m.events
	m.events = nil
	return out
}

// Resync implements game.Resyncer: a player who reconnects learns the
// seats again; the snapshot holds everything else.
func (m *match) Resync(playerID string) {
	if p := m.player(playerID); p != nil {
		m.sendSeats(p)
	}
}

func (m *match) sendSeats(p *player) {
	ev := SeatsEvent{You: p.seat}
	for _, q := range m.players {
		ev.Seats = append(ev.Seats, SeatInfo{Seat: q.seat, PlayerID: q.id, Name: q.name})
	}
	m.emit(p.id, EventSeats, ev)
}
