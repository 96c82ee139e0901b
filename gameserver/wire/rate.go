package wire

import (
	"github.com/skirmishgg/skirmish/gameserver/ratelimit"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Defaults of every transport's bound on the messages one connection may
// send, of every kind (inputs, acks, pings, leave; and the transport's
// own control frames, such as WebSocket pings): 120 a second with bursts
// of 240. A game client sends one Inputs per tick (30 or 60 a second) and
// a ping every few seconds; the room's own input limit drops inputs over
// 60 a second. A connection over this bound is closed.
const (
	DefaultMessageRate  = 120
	DefaultMessageBurst = 240
)

// NewMessageLimiter returns the per-connection bound on messages:
// perSecond with burst (the defaults above when zero); a negative
// perSecond returns the zero Limiter, no bound.
func NewMessageLimiter(perSecond float64, burst int) ratelimit.Limiter {
	if perSecond < 0 {
		return ratelimit.Limiter{}
	}
	if perSecond == 0 {
		perSecond = DefaultMessageRate
	}
	if burst <= 0 {
		burst = DefaultMessageBurst
	}
	return ratelimit.New(perSecond, burst)
}

// TooFast is the Reject for a connection over its message bound.
func TooFast() *Reject {
	return &Reject{Code: skirmishv1.ErrorCode_ERROR_CODE_RATE_LIMITED, Text: "too many messages: connection closed"}
}
