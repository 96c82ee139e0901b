package rankindex_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/leaderboard/storetest"
)

// run wraps src in a rank index, runs it until the test ends and waits
// until every board is loaded.
func run(t *testing.T, src rankindex.Source, idx rankindex.Index) *rankindex.Store {
	t.Helper()
	s, err := rankindex.New(rankindex.Config{Poll: 20 * time.Millisecond}, src, idx, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run = %v before ready", err)
	case <-time.After(10 * time.Second):
		t.Fatal("index not ready after 10s")
	}
	return s
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backends are the index implementations every test here runs on; each
// returns a fresh, empty index.
var backends = []struct {
	name string
	new  func(t *testing.T) rankindex.Index
}{
	{"memory", func(t *testing.T) rankindex.Index { return rankindex.NewMemory() }},
	{"redis", newRedis},
}

// newRedis returns a Redis index under a key prefix of the test's own.
func newRedis(t *testing.T) rankindex.Index {
	addr := testenv.Redis(t)
	return redisAt(t, addr, testenv.RedisPrefix(t, addr))
}

func redisAt(t *testing.T, addr, prefix string) *rankindex.Redis {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return rankindex.NewRedis(c, prefix)
}

// TestStoreSuite: the wrapped store passes the suite every store passes.
func TestStoreSuite(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) leaderboard.Store {
				return run(t, openSQLite(t, filepath.Join(t.TempDir(), "lb.db")), b.new(t))
			})
		})
	}
}

// TestLearnsOfOtherProcesses: outcomes applied through another store on
// the same database reach the index by polling.
func TestLearnsOfOtherProcesses(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testLearnsOfOtherProcesses(t, b.new(t)) })
	}
}

func testLearnsOfOtherProcesses(t *testing.T, idx rankindex.Index) {
	path := filepath.Join(t.TempDir(), "lb.db")
	s := run(t, openSQLite(t, path), idx)
	other := openSQLite(t, path) // the "stats worker" process
	ctx := context.Background()
	m := leaderboard.Match{ID: "m1", Mode: "duel", EndedAt: time.Now(), Players: []leaderboard.Result{
		{PlayerID: "ada", Name: "ada", Team: 1, Placement: 1, Eliminations: 5},
		{PlayerID: "bob", Name: "bob", Team: 2, Placement: 2, Eliminations: 2},
	}}
	if _, err := other.ApplyOutcome(ctx, m); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		e, err := s.PlayerRank(ctx, "eliminations", "bob")
		return err == nil && e.Rank == 2 && e.Score == 2
	})
	// A season ended elsewhere empties the board here.
	b, _ := other.GetBoard(ctx, "eliminations")
	if _, err := other.EndSeason(ctx, "eliminations", b.Season, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		top, err := s.TopEntries(ctx, "eliminations", 10, nil)
		return err == nil && len(top) == 0
	})
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatal("condition not met after 10s")
		}
	}
}
