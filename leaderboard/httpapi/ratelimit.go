package httpapi

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The default per-address limit is sized for many players behind one
// address: a LAN party, a school or a carrier NAT shows the leaderboard
// one IP for hundreds of people. A player costs about one request to sign
// in and a handful per match (results, boards), so a burst of 1,000 lets
// a thousand players behind one address sign in at once, and 100 requests
// a second keeps them browsing boards; past that, clients get 429 with
// Retry-After (whole seconds) and come back. The limit is a brake on one
// address flooding the API, not a quota per person; set --rate-limit and
// --rate-burst for other populations.
const (
	DefaultRatePerSecond = 100
	DefaultRateBurst     = 1000
)

// limiter gives each client (by IP address) a token bucket.
type limiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

// maxClients bounds the table; when full it starts afresh, which at worst
// gives every client a full bucket again.
const maxClients = 100_000

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{limit: rate.Limit(perSecond), burst: burst, clients: map[string]*rate.Limiter{}}
}

// allow reports whether the client may go on, and if not, how long it
// should wait.
func (l *limiter) allow(r *http.Request, now time.Time) (bool, time.Duration) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	l.mu.Lock()
	lim, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= maxClients {
			clear(l.clients)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients[ip] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func writeTooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeProblem(w, http.StatusTooManyRequests, "too many requests from this client; retry after "+
		strconv.Itoa(int(math.Ceil(wait.Seconds())))+"s")
}
