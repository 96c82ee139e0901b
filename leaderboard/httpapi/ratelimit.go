package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/skirmishgg/skirmish/internal/limits"
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

// limiter gives each client a token bucket, keyed by limits.Key of its
// address (an IPv6 client by its /64), or of the address a trusted proxy
// forwarded. The table remembers limits.DefaultPeers clients and forgets
// the least recently seen when full, so a flood of new addresses never
// resets the buckets of busy clients.
type limiter struct {
	rates   *limits.PeerRates
	proxies limits.Proxies
}

func newLimiter(perSecond float64, burst int, proxies limits.Proxies) *limiter {
	return &limiter{rates: limits.NewPeerRates(perSecond, burst, 0), proxies: proxies}
}

// allow reports whether the client may go on, and if not, how long it
// should wait.
func (l *limiter) allow(r *http.Request, now time.Time) (bool, time.Duration) {
	return l.rates.Allow(limits.Key(l.proxies.FromRequest(r)), now)
}

func writeTooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeProblem(w, http.StatusTooManyRequests, "too many requests from this client; retry after "+
		strconv.Itoa(int(math.Ceil(wait.Seconds())))+"s")
}
