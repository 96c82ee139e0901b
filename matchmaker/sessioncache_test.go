package matchmaker

import (
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/auth"
)

func TestSessionCache(t *testing.T) {
	keys := testKeys(t)
	c := newSessionCache(keys, 4)
	now := time.Now()
	good, err := keys.IssueSession(auth.Session{PlayerID: "alice", Name: "Alice"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := keys.IssueSession(auth.Session{PlayerID: "bob"}, -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call is served from the cache
		if s, err := c.verify(good, now); err != nil || s.PlayerID != "alice" || s.Name != "Alice" {
			t.Errorf("verify(good) = %+v, %v", s, err)
		}
	}
	if exp, ok := expiry(good); !ok || exp.Before(now.Add(59*time.Minute)) {
		t.Errorf("expiry(good) = %v, %v; want in an hour", exp, ok)
	}
	for _, tok := range []string{expired, "garbage", good + "x"} {
		if _, err := c.verify(tok, now); err == nil {
			t.Errorf("verify(%.20q...) succeeded, want an error", tok)
		}
	}
	// A cached entry is served only until its expiry.
	c.entries[sha256Of("forged")] = cachedSession{sess: auth.Session{PlayerID: "mallory"}, exp: now.Add(-time.Second)}
	if _, err := c.verify("forged", now); err == nil {
		t.Error("verify served an expired cache entry")
	}
	// The cache stays bounded.
	for i := range 10 {
		tok, _ := keys.IssueSession(auth.Session{PlayerID: string(rune('a' + i))}, time.Hour)
		c.verify(tok, now)
	}
	if n := len(c.entries); n > 4 {
		t.Errorf("cache holds %d entries, want at most 4", n)
	}
}
