// Package ratelimit bounds how often one client may do something: a token
// bucket, checked once per message a player sends, so on the hot path of
// every room tick.
//
// It exists because golang.org/x/time/rate, which Skirmish uses
// everywhere else, takes a mutex and does floating-point time arithmetic
// on every call: at 1,000 players, its two calls per input (the
// transport's message bound and the room's input limit) were 4% of the
// gameserver's CPU (docs/benchmarks.md). This one is the generic cell rate
// algorithm (GCRA, the "virtual scheduling" form of ITU-T I.371 and the
// ATM Forum's TM 4.0): the bucket is one theoretical arrival time, moved
// with one compare-and-swap, which answers as a token bucket of the same
// burst does whose rate is rounded down to a whole number of nanoseconds
// per event (60 a second: 16,666,667 ns, a bound never looser than asked).
package ratelimit

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Limiter lets through at most burst events at once and, over time, one
// per interval (New's perSecond). It is safe for concurrent use (only the
// arrival time changes once it is made) and must not be copied once used.
// It is a value, kept inside what it limits (a connection, a seat), so that
// checking it touches no memory of its own. The zero Limiter lets
// everything through.
type Limiter struct {
	origin    time.Time    // the clock's zero; times are nanoseconds since
	tat       atomic.Int64 // theoretical arrival time of the next event
	interval  int64        // nanoseconds per event: 1e9 / rate
	tolerance int64        // how far tat may run ahead of now: (burst-1) * interval
}

// New returns a limiter of perSecond events a second with bursts of burst,
// full (burst events may come at once). perSecond must be finite and above
// 0, and burst at least 1; New panics otherwise, as these come from
// validated configuration. An interval past math.MaxInt64/4/burst
// nanoseconds (for burst 1, about 73 years) is cut to that, so that no sum
// of times overflows.
func New(perSecond float64, burst int) Limiter {
	if !(perSecond > 0) || math.IsInf(perSecond, 1) || burst < 1 {
		panic(fmt.Sprintf("ratelimit: rate %v, burst %d: want a finite rate above 0 and a burst of at least 1", perSecond, burst))
	}
	longest := math.MaxInt64 / 4 / int64(burst)
	interval := int64(min(math.Ceil(float64(time.Second)/perSecond), float64(longest)))
	interval = min(max(interval, 1), longest)
	return Limiter{origin: time.Now(), interval: interval, tolerance: int64(burst-1) * interval}
}

// Allow takes one event at now and reports whether it is within the
// limit; one refused takes nothing. now is the caller's clock (time.Now(),
// or the time of the tick being run), which saves reading it per event.
func (l *Limiter) Allow(now time.Time) bool {
	if l.interval == 0 {
		return true // the zero Limiter
	}
	t := max(int64(now.Sub(l.origin)), 0) // a clock read before New counts as New's
	for {
		old := l.tat.Load()
		tat := max(old, t) // an idle bucket refills up to its burst, no further
		if tat-t > l.tolerance {
			return false
		}
		if l.tat.CompareAndSwap(old, tat+l.interval) {
			return true
		}
	}
}
