package rankindex_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
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
	return start(t, rankindex.Config{Poll: 20 * time.Millisecond}, src, idx, prometheus.NewRegistry())
}

func openSQLite(t testing.TB, path string) *sqlite.Store {
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

func redisAt(t testing.TB, addr, prefix string) *rankindex.Redis {
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
		{PlayerID: "ada", Name: "ada", Team: 1, Placement: 1, Stats: map[string]float64{"eliminations": 5}},
		{PlayerID: "bob", Name: "bob", Team: 2, Placement: 2, Stats: map[string]float64{"eliminations": 2}},
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

// stallSource stalls the poll at the worst moment, to replay the races of
// several writers deterministically: after arm, the next PlayerEntries
// reads the store, signals read and waits for release before returning;
// after freeze, RecordedSince (the start of the poll's next step) signals
// frozen and blocks until the test ends, so nothing repairs the index
// behind the test's back.
type stallSource struct {
	rankindex.Source
	armed, frozen         atomic.Bool
	read, release, paused chan struct{}
}

func newStallSource(src rankindex.Source) *stallSource {
	return &stallSource{Source: src, read: make(chan struct{}), release: make(chan struct{}), paused: make(chan struct{}, 1)}
}

func (s *stallSource) PlayerEntries(ctx context.Context, ids []string) ([]leaderboard.BoardEntry, error) {
	es, err := s.Source.PlayerEntries(ctx, ids)
	if s.armed.CompareAndSwap(true, false) {
		close(s.read)
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	}
	return es, err
}

func (s *stallSource) RecordedSince(ctx context.Context, since time.Time, limit int) ([]leaderboard.RecordedMatch, error) {
	if s.frozen.Load() {
		select {
		case s.paused <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Source.RecordedSince(ctx, since, limit)
}

// TestStaleReads: a poll that read the store before a newer write, or
// before a season ended, and applies what it read afterwards, leaves the
// newer state in the index. Each case stalls the poll between its read and
// its write to the index; before entries had versions and seasons, both
// left the index wrong until a later poll (the flaky AroundPlayer).
func TestStaleReads(t *testing.T) {
	cases := []struct {
		name string
		// after the poll read ada's first entry: a write through the
		// wrapped store, then what the index must show.
		write func(ctx context.Context, s *rankindex.Store) error
		check func(ctx context.Context, s *rankindex.Store) error
	}{
		{"newer commit",
			func(ctx context.Context, s *rankindex.Store) error {
				_, err := s.ApplyOutcome(ctx, duel("m2", "ada", 3, time.Now()))
				return err
			},
			func(ctx context.Context, s *rankindex.Store) error {
				if e, err := s.PlayerRank(ctx, "eliminations", "ada"); err != nil || e.Score != 4 {
					return fmt.Errorf("PlayerRank(ada) = %+v, %v; want score 4 (1 + 3)", e, err)
				}
				return nil
			}},
		{"season end",
			func(ctx context.Context, s *rankindex.Store) error {
				_, err := s.EndSeason(ctx, "eliminations", 1, time.Now())
				return err
			},
			func(ctx context.Context, s *rankindex.Store) error {
				if top, err := s.TopEntries(ctx, "eliminations", 10, nil); err != nil || len(top) != 0 {
					return fmt.Errorf("TopEntries of season 2 = %+v, %v; want empty", top, err)
				}
				return nil
			}},
	}
	for _, b := range backends {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				path := filepath.Join(t.TempDir(), "lb.db")
				src := newStallSource(openSQLite(t, path))
				s := run(t, src, b.new(t))
				src.armed.Store(true)
				if _, err := openSQLite(t, path).ApplyOutcome(ctx, duel("m1", "ada", 1, time.Now())); err != nil {
					t.Fatal(err)
				}
				select {
				case <-src.read:
				case <-time.After(10 * time.Second):
					t.Fatal("the poll did not read the other process's outcome in 10s")
				}
				if err := tc.write(ctx, s); err != nil {
					t.Fatal(err)
				}
				src.frozen.Store(true)
				close(src.release)
				select {
				case <-src.paused:
				case <-time.After(10 * time.Second):
					t.Fatal("the poll did not finish its step in 10s")
				}
				if err := tc.check(ctx, s); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// duel is a 1v1 that winner wins with elims eliminations against bob.
func duel(id, winner string, elims int64, ended time.Time) leaderboard.Match {
	return leaderboard.Match{ID: id, Mode: "duel", EndedAt: ended, Players: []leaderboard.Result{
		{PlayerID: winner, Name: winner, Team: 1, Placement: 1, Stats: map[string]float64{"eliminations": float64(elims)}},
		{PlayerID: "bob", Name: "bob", Team: 2, Placement: 2, Stats: map[string]float64{"eliminations": 0}},
	}}
}
