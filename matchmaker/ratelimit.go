package matchmaker

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// playerLimiter bounds each player's MatchmakerService calls with a token
// bucket; a player over it gets RESOURCE_EXHAUSTED.
type playerLimiter struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	players   map[string]*playerBucket
	lastPrune time.Time
}

type playerBucket struct {
	lim  *rate.Limiter
	last time.Time
}

// newPlayerLimiter returns nil, which allows everything, for a negative
// rate.
func newPlayerLimiter(perSecond float64, burst int) *playerLimiter {
	if perSecond < 0 {
		return nil
	}
	return &playerLimiter{rate: rate.Limit(perSecond), burst: burst, players: make(map[string]*playerBucket)}
}

func (l *playerLimiter) allow(player string, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.players[player]
	if b == nil {
		b = &playerBucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.players[player] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// prune forgets players idle long enough for their bucket to be full again.
func (l *playerLimiter) prune(now time.Time) {
	if l == nil {
		return
	}
	idle := time.Minute
	if l.rate > 0 {
		idle = max(idle, time.Duration(float64(l.burst)/float64(l.rate)*float64(time.Second)))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastPrune) < 10*time.Second {
		return
	}
	l.lastPrune = now
	for p, b := range l.players {
		if now.Sub(b.last) > idle {
			delete(l.players, p)
		}
	}
}
