package limits

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// DefaultPeers is how many peers a table remembers by default.
const DefaultPeers = 100_000

// PeerRates gives each peer key (see Key) a token bucket. The table holds
// at most a fixed number of peers; when it is full, the peer seen least
// recently is forgotten (and starts with a full bucket if it comes back),
// so a flood of new addresses evicts only idle peers, never resets the
// busy ones. Safe for concurrent use. A nil *PeerRates allows everything.
type PeerRates struct {
	limit rate.Limit
	burst int
	peers *lru.Cache[string, *rate.Limiter]
}

// NewPeerRates returns a table of buckets of perSecond tokens and burst,
// remembering at most size peers (DefaultPeers when size <= 0). A negative
// perSecond returns nil: no limit.
func NewPeerRates(perSecond float64, burst, size int) *PeerRates {
	if perSecond < 0 {
		return nil
	}
	if size <= 0 {
		size = DefaultPeers
	}
	c, _ := lru.New[string, *rate.Limiter](size) // size > 0: no error
	return &PeerRates{limit: rate.Limit(perSecond), burst: max(burst, 1), peers: c}
}

// Allow takes a token for key at now. When there is none it reports false
// and how long until one is due.
func (p *PeerRates) Allow(key string, now time.Time) (bool, time.Duration) {
	if p == nil {
		return true, 0
	}
	lim, ok := p.peers.Get(key)
	if !ok {
		lim = rate.NewLimiter(p.limit, p.burst)
		if prev, found, _ := p.peers.PeekOrAdd(key, lim); found {
			lim = prev
		}
	}
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len reports how many peers the table remembers.
func (p *PeerRates) Len() int {
	if p == nil {
		return 0
	}
	return p.peers.Len()
}
