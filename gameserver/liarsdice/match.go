package liarsdice

import (
	"math/rand/v2"
	"slices"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

type player struct {
	seat      int
	id, name  string
	dice      []int // this round's roll, sorted
	count     int   // dice left
	out       bool
	left      bool
	placement int // set when out

	bids, bluffsCalled, bidsUpheld, diceLost, timeouts int
}

// match is one game of Liar's Dice. Its methods are called from the
// room's goroutine only.
type match struct {
	cfg     Config
	rng     *rand.Rand
	players []*player
	events  []game.Event

	tick     int32
	round    int
	phase    int
	turn     int  // seat to act while bidding
	bid      Move // standing bid; Quantity 0: none
	bidder   int  // seat of the standing bid, -1: none
	starter  int  // seat that starts the next round
	deadline int32
	reason   skirmishv1.EndReason
}

func newMatch(cfg Config, gc game.Config) *match {
	m := &match{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(gc.Seed, gc.Seed^0x9e3779b97f4a7c15)),
		bidder: -1,
		phase:  PhaseBidding,
	}
	for i, s := range gc.Seats {
		m.players = append(m.players, &player{seat: i, id: s.PlayerID, name: s.Name, count: cfg.Dice})
	}
	return m
}

func (m *match) player(id string) *player {
	for _, p := range m.players {
		if p.id == id {
			return p
		}
	}
	return nil
}

func (m *match) alive() int {
	n := 0
	for _, p := range m.players {
		if !p.out {
			n++
		}
	}
	return n
}

func (m *match) diceInPlay() int {
	n := 0
	for _, p := range m.players {
		if !p.out {
			n += p.count
		}
	}
	return n
}

// nextIn is the first seat still in after seat (seat itself when it is
// the only one).
func (m *match) nextIn(seat int) int {
	n := len(m.players)
	for i := 1; i <= n; i++ {
		if s := (seat + i) % n; !m.players[s].out {
			return s
		}
	}
	return seat
}

// Join implements game.Game.
func (m *match) Join(playerID string) (entityID, team uint32) {
	p := m.player(playerID)
	if p == nil {
		return 0, 0
	}
	m.sendSeats(p)
	return PlayerID(p.seat), uint32(p.seat + 1)
}

// Leave implements game.Game: the player is out at once, placed below
// everyone still in; a round in play is rolled again without them.
func (m *match) Leave(playerID string) {
	p := m.player(playerID)
	if p == nil || p.left {
		return
	}
	p.left = true
	if p.out || m.phase == PhaseOver {
		return
	}
	m.knockOut(p, true)
	if m.alive() <= 1 {
		m.finish(skirmishv1.EndReason_END_REASON_ABANDONED)
		return
	}
	if m.round > 0 && m.phase == PhaseBidding {
		start := m.turn
		if m.players[start].out {
			start = m.nextIn(start)
		}
		m.startRound(start)
	}
}

func (m *match) knockOut(p *player, left bool) {
	p.placement = m.alive()
	p.out = true
	m.emit("", EventOut, OutEvent{Seat: p.seat, Placement: p.placement, Left: left})
}

func (m *match) finish(reason skirmishv1.EndReason) {
	m.phase = PhaseOver
	m.reason = reason
	for _, p := range m.players {
		if !p.out {
			p.placement = 1
		}
	}
}

// Input implements game.Game: one move of the player.
func (m *match) Input(playerID string, in *skirmishv1.Input) {
	p := m.player(playerID)
	if p == nil {
		return
	}
	mv, err := DecodeMove(in.GetCustom())
	if err != nil {
		m.refuse(p, err.Error())
		return
	}
	switch {
	case m.phase != PhaseBidding || m.round == 0:
		m.refuse(p, "no round in play")
	case p.out:
		m.refuse(p, "you are out")
	case p.seat != m.turn:
		m.refuse(p, "not your turn")
	default:
		if why := m.play(p, mv, false); why != "" {
			m.refuse(p, why)
		}
	}
}

func (m *match) refuse(p *player, why string) {
	m.emit(p.id, EventRefused, RefusedEvent{Reason: why})
}

// play applies the move of the player whose turn it is, or says why it is
// not allowed.
func (m *match) play(p *player, mv Move, auto bool) (refused string) {
	if mv.Call {
		if m.bidder < 0 {
			return "no bid to call yet"
		}
		m.reveal(p, auto)
		return ""
	}
	if !Higher(mv, m.bid) {
		return "a bid must raise the quantity, or keep it and raise the face"
	}
	if mv.Quantity > m.diceInPlay() {
		return "a bid's quantity is at most the dice in play"
	}
	m.bid, m.bidder = mv, p.seat
	p.bids++
	m.emit("", EventBid, BidEvent{Seat: p.seat, Quantity: mv.Quantity, Face: mv.Face, Auto: auto})
	m.turn = m.nextIn(p.seat)
	m.deadline = m.tick + m.cfg.ticks(m.cfg.TurnTime)
	return ""
}

// reveal settles a call of liar by caller on the standing bid.
func (m *match) reveal(caller *player, auto bool) {
	bidder := m.players[m.bidder]
	count := 0
	ev := RevealEvent{Round: m.round, Caller: caller.seat, Bidder: bidder.seat, Quantity: m.bid.Quantity, Face: m.bid.Face, Auto: auto}
	for _, p := range m.players {
		var dice []int
		if !p.out {
			dice = slices.Clone(p.dice)
			for _, d := range p.dice {
				if d == m.bid.Face {
					count++
				}
			}
		}
		ev.Dice = append(ev.Dice, dice)
	}
	loser := caller
	if count < m.bid.Quantity {
		loser = bidder
		caller.bluffsCalled++
	} else {
		bidder.bidsUpheld++
	}
	ev.Count, ev.Loser = count, loser.seat
	loser.count--
	loser.diceLost++
	m.emit("", EventReveal, ev)
	m.phase = PhaseReveal
	m.deadline = m.tick + m.cfg.ticks(m.cfg.RevealTime)
	m.starter = loser.seat
	if loser.count == 0 {
		m.knockOut(loser, false)
		m.starter = m.nextIn(loser.seat)
	}
}

func (m *match) startRound(starter int) {
	m.round++
	m.phase = PhaseBidding
	m.bid, m.bidder = Move{}, -1
	m.turn = starter
	m.deadline = m.tick + m.cfg.ticks(m.cfg.TurnTime)
	ev := RoundEvent{Round: m.round, Starter: starter}
	for _, p := range m.players {
		p.dice = p.dice[:0]
		if !p.out {
			for range p.count {
				p.dice = append(p.dice, 1+m.rng.IntN(6))
			}
			slices.Sort(p.dice)
		}
		ev.Dice = append(ev.Dice, len(p.dice))
	}
	m.emit("", EventRound, ev)
}

// Tick implements game.Game: it starts rounds, ends reveals and plays
// for a player whose turn timed out.
func (m *match) Tick() bool {
	m.tick++
	switch {
	case m.phase == PhaseOver:
	case m.round == 0:
		if m.alive() <= 1 {
			m.finish(skirmishv1.EndReason_END_REASON_ABANDONED)
			break
		}
		start := 0
		if m.players[0].out {
			start = m.nextIn(0)
		}
		m.startRound(start)
	case m.phase == PhaseReveal && m.tick >= m.deadline:
		if m.alive() <= 1 {
			m.finish(skirmishv1.EndReason_END_REASON_SCORE_LIMIT)
			break
		}
		start := m.starter
		if m.players[start].out { // the starter left during the reveal
			start = m.nextIn(start)
		}
		m.startRound(start)
	case m.phase == PhaseBidding && m.tick >= m.deadline:
		p := m.players[m.turn]
		p.timeouts++
		m.play(p, m.autoMove(p), true)
	}
	return m.phase == PhaseOver
}

// autoMove is what the server plays for a player out of time: a call when
// a bid stands, else one die of the face the player holds most.
func (m *match) autoMove(p *player) Move {
	if m.bidder >= 0 {
		return Move{Call: true}
	}
	var n [7]int
	best := 1
	for _, d := range p.dice {
		n[d]++
		if n[d] > n[best] {
			best = d
		}
	}
	return Move{Quantity: 1, Face: best}
}
