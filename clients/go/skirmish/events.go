package skirmish

import (
	"fmt"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Game-defined inputs and events.
//
// A game other than Arena takes inputs as opaque bytes (Input.custom), at
// most Welcome().MaxInputPayload of them; send them with SendCustom. How
// the room applies them is Welcome().InputPolicy: latest-wins (action
// games; under load the oldest waiting inputs are dropped) or ordered
// (turn-based games; every input accepted is applied in order, and one the
// server cannot take is refused at once with an error that
// JoinOptions.OnRefused receives, the connection staying open).
//
// A game sends events besides snapshots (a round's result, a card dealt):
// JoinOptions.OnEvent receives them in order, each numbered by seq from 1
// for this player in this match. Game.Rejoin tells the server the newest
// event held (JoinOptions.LastEventSeq), and the server sends again the
// ones after it that it still holds (its newest 48), right after the
// Welcome; a seq that skips ahead shows events older than that were lost,
// and the player relies on the fresh snapshot and on what the game sends
// again.

// Refusal reports whether a server error refuses some inputs and leaves
// the connection open (ERROR_CODE_INPUT_QUEUE_FULL, _INPUT_TOO_LARGE,
// _INPUT_RATE_LIMITED), rather than ending it.
func Refusal(code skirmishv1.ErrorCode) bool {
	switch code {
	case skirmishv1.ErrorCode_ERROR_CODE_INPUT_QUEUE_FULL,
		skirmishv1.ErrorCode_ERROR_CODE_INPUT_TOO_LARGE,
		skirmishv1.ErrorCode_ERROR_CODE_INPUT_RATE_LIMITED:
		return true
	}
	return false
}

// SendCustom sends one game-defined input and returns its sequence
// number. A payload larger than the mode accepts is not sent.
func (g *Game) SendCustom(payload []byte) (uint32, error) {
	if max := g.welcome.GetMaxInputPayload(); max > 0 && len(payload) > int(max) {
		return 0, fmt.Errorf("send input: payload of %d bytes, the mode takes at most %d", len(payload), max)
	}
	return g.SendInput(&skirmishv1.Input{Game: &skirmishv1.Input_Custom{Custom: payload}})
}

// EventSeq is the seq of the newest game event received on this
// connection (0: none).
func (g *Game) EventSeq() uint64 { return g.eventSeq.Load() }

func (g *Game) onEvent(ev *skirmishv1.GameEvent) {
	g.eventSeq.Store(ev.GetSeq())
	if g.opts.OnEvent != nil {
		g.opts.OnEvent(ev)
	}
}
