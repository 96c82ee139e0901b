package matchmaker

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/skirmishgg/skirmish/internal/auth"
)

// sessionCache remembers verified session tokens until they expire, so
// that a player's calls after the first (WatchTicket, GetTicket,
// CancelTicket, the next CreateTicket) skip the Ed25519 verification, the
// largest cost of a call. Tokens are keyed by their SHA-256; when full it
// forgets half its entries.
type sessionCache struct {
	keys *auth.Keys
	max  int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedSession
}

type cachedSession struct {
	sess auth.Session
	exp  time.Time
}

func newSessionCache(keys *auth.Keys, max int) *sessionCache {
	return &sessionCache{keys: keys, max: max, entries: make(map[[sha256.Size]byte]cachedSession)}
}

// verify returns the session of a valid token.
func (c *sessionCache) verify(token string, now time.Time) (auth.Session, error) {
	key := sha256Of(token)
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.sess, nil
	}
	sess, err := c.keys.VerifySession(token)
	if err != nil {
		return auth.Session{}, err
	}
	exp, ok := expiry(token)
	if !ok {
		return sess, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		n := 0
		for k := range c.entries { // map order is random: forget about half
			if n%2 == 0 {
				delete(c.entries, k)
			}
			n++
		}
	}
	c.entries[key] = cachedSession{sess: sess, exp: exp}
	return sess, nil
}

// expiry reads the exp claim of a JWT whose signature has been verified.
func expiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(body, &c) != nil || c.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.Exp, 0), true
}

func sha256Of(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }
