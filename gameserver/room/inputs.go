package room

import (
	"fmt"
	"slices"
	"strings"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Input policies (game.InputPolicy). Both check each input's custom
// payload against the mode's bound and refuse a larger one with
// ERROR_CODE_INPUT_TOO_LARGE. Then:
//   - LatestWins queues the inputs for the room, dropping the oldest
//     waiting beyond MaxQueued; the room applies one per tick
//     (Room.applyInputs).
//   - Ordered queues them only while at most MaxQueued wait: inputs
//     beyond are refused at once with ERROR_CODE_INPUT_QUEUE_FULL, so a
//     queued input is never dropped later; the room applies every queued
//     input at the next tick, in sequence order (Room.applyOrdered).

// queueInputs takes the inputs of one Inputs message that passed the rate
// limit, for the room's next tick.
func (s *Session) queueInputs(ins []*skirmishv1.Input) {
	policy := s.room.mode.Input
	var tooLarge []uint32
	ok := ins[:0:0]
	for _, in := range ins {
		if len(in.GetCustom()) > policy.MaxPayloadBytes {
			tooLarge = append(tooLarge, in.Seq)
			continue
		}
		ok = append(ok, in)
	}
	if len(tooLarge) > 0 {
		s.room.metrics.inputsRefused.WithLabelValues("too_large").Add(float64(len(tooLarge)))
		s.refuse(skirmishv1.ErrorCode_ERROR_CODE_INPUT_TOO_LARGE, tooLarge,
			fmt.Sprintf("custom payload over %d bytes", policy.MaxPayloadBytes))
	}
	var full []uint32
	s.mu.Lock()
	if policy.Kind == game.Ordered {
		room := max(0, policy.MaxQueued-len(s.inputs))
		if len(ok) > room {
			for _, in := range ok[room:] {
				full = append(full, in.Seq)
			}
			ok = ok[:room]
		}
		s.inputs = append(s.inputs, ok...)
	} else {
		s.inputs = append(s.inputs, ok...)
		if n := len(s.inputs); n > policy.MaxQueued {
			s.inputs = slices.Delete(s.inputs, 0, n-policy.MaxQueued)
		}
	}
	s.mu.Unlock()
	if len(full) > 0 {
		s.room.metrics.inputsRefused.WithLabelValues("queue_full").Add(float64(len(full)))
		s.refuse(skirmishv1.ErrorCode_ERROR_CODE_INPUT_QUEUE_FULL, full,
			fmt.Sprintf("more than %d inputs waiting for the next tick", policy.MaxQueued))
	}
}

// refuseRateLimited answers an Inputs message over the rate limit. In an
// ordered mode every refused input is named; in a latest-wins mode the
// player is told at most once a second that inputs were dropped.
func (s *Session) refuseRateLimited(ins []*skirmishv1.Input) {
	if s.room.mode.Input.Kind != game.Ordered {
		s.rateLimited()
		return
	}
	seqs := make([]uint32, len(ins))
	for i, in := range ins {
		seqs[i] = in.Seq
	}
	s.room.metrics.inputsRefused.WithLabelValues("rate_limited").Add(float64(len(seqs)))
	s.refuse(skirmishv1.ErrorCode_ERROR_CODE_INPUT_RATE_LIMITED, seqs, "too many messages")
}

// refuse tells the player that the inputs seqs were refused, and why; the
// connection stays open. The message reads "inputs refused: <why>: seq 3 4".
func (s *Session) refuse(code skirmishv1.ErrorCode, seqs []uint32, why string) {
	if len(seqs) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "inputs refused: %s: seq", why)
	for _, q := range seqs {
		fmt.Fprintf(&b, " %d", q)
	}
	s.send(errorMessage(code, b.String()))
}

// applyOrdered gives the game every input the player queued since the
// last tick, in sequence order; repeated and old sequence numbers (a
// client resending over an unreliable transport) are skipped.
func (r *Room) applyOrdered(st *seat) {
	ins := st.session.takeInputs()
	slices.SortStableFunc(ins, func(a, b *skirmishv1.Input) int {
		return int(int64(a.Seq) - int64(b.Seq))
	})
	for _, in := range ins {
		if in.Seq <= st.lastSeq {
			continue
		}
		r.game.Input(st.PlayerID, in)
		st.lastSeq = in.Seq
	}
}
