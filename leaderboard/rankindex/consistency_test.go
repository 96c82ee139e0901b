package rankindex_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
)

// databases open two stores on one fresh database: the leaderboard
// replica's and another process's (a stats worker).
var databases = []struct {
	name string
	open func(t *testing.T) (replica, other rankindex.Source)
}{
	{"sqlite", func(t *testing.T) (rankindex.Source, rankindex.Source) {
		path := filepath.Join(t.TempDir(), "lb.db")
		return openSQLite(t, path), openSQLite(t, path)
	}},
	{"postgres", func(t *testing.T) (rankindex.Source, rankindex.Source) {
		dsn := testenv.Postgres(t)
		return openPostgres(t, dsn), openPostgres(t, dsn)
	}},
}

func openPostgres(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// start runs a Store with cfg until the test ends and waits until ready.
func start(t testing.TB, cfg rankindex.Config, src rankindex.Source, idx rankindex.Index, reg prometheus.Registerer) *rankindex.Store {
	t.Helper()
	s, err := rankindex.New(cfg, src, idx, reg, nil)
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

// TestWriterWritesThrough: a stats worker in another process that writes
// through the shared Redis index makes its commit visible to a replica at
// once, with no poll (the replica's poll is an hour away).
func TestWriterWritesThrough(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			replicaSrc, workerSrc := db.open(t)
			addr := testenv.Redis(t)
			prefix := testenv.RedisPrefix(t, addr)
			replica := start(t, rankindex.Config{Poll: time.Hour, DriftCheck: -1}, replicaSrc, redisAt(t, addr, prefix), prometheus.NewRegistry())
			w, err := rankindex.NewWriter(workerSrc, redisAt(t, addr, prefix), prometheus.NewRegistry(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.ApplyOutcome(ctx, duel("m1", "ada", 4, time.Now())); err != nil {
				t.Fatal(err)
			}
			e, err := replica.PlayerRank(ctx, "eliminations", "ada")
			if err != nil || e.Rank != 1 || e.Score != 4 {
				t.Fatalf("PlayerRank(ada) right after the commit = %+v, %v; want rank 1, score 4", e, err)
			}
			// A redelivered duplicate changes nothing.
			if applied, err := w.ApplyOutcome(ctx, duel("m1", "ada", 4, time.Now())); err != nil || applied {
				t.Fatalf("ApplyOutcome(duplicate) = %v, %v; want false, nil", applied, err)
			}
			if e, err := replica.PlayerRank(ctx, "wins", "ada"); err != nil || e.Score != 1 {
				t.Fatalf("PlayerRank(wins, ada) = %+v, %v; want score 1", e, err)
			}
		})
	}
}

// TestDatabaseClock: matches are stamped by the database's clock, the one
// DatabaseTime reads, so RecordedSince splits them by it.
func TestDatabaseClock(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			src, _ := db.open(t)
			before, err := src.DatabaseTime(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// An end time far in the past does not matter: the stamp is
			// when the database recorded the match.
			if _, err := src.ApplyOutcome(ctx, duel("m1", "ada", 1, time.Unix(0, 0))); err != nil {
				t.Fatal(err)
			}
			after, err := src.DatabaseTime(ctx)
			if err != nil {
				t.Fatal(err)
			}
			m, err := src.GetMatch(ctx, "m1")
			if err != nil {
				t.Fatal(err)
			}
			// SQLite's clock has milliseconds.
			if m.Recorded.Before(before.Truncate(time.Millisecond)) || m.Recorded.After(after) {
				t.Errorf("Recorded = %v, want between the database times %v and %v", m.Recorded, before, after)
			}
			got, err := src.RecordedSince(ctx, m.Recorded.Add(-time.Microsecond), 10)
			if err != nil || len(got) != 1 || got[0].MatchID != "m1" || len(got[0].PlayerIDs) != 2 {
				t.Errorf("RecordedSince(just before) = %+v, %v; want m1 with 2 players", got, err)
			}
			if got, err := src.RecordedSince(ctx, m.Recorded, 10); err != nil || len(got) != 0 {
				t.Errorf("RecordedSince(its stamp) = %+v, %v; want none", got, err)
			}
		})
	}
}

// lateSource hides a match from RecordedSince until revealed, as if its
// transaction committed long after the database stamped it.
type lateSource struct {
	rankindex.Source
	hide     string
	revealed atomic.Bool
	polls    atomic.Int64
}

func (s *lateSource) RecordedSince(ctx context.Context, since time.Time, limit int) ([]leaderboard.RecordedMatch, error) {
	ms, err := s.Source.RecordedSince(ctx, since, limit)
	s.polls.Add(1)
	if s.revealed.Load() {
		return ms, err
	}
	out := ms[:0:0]
	for _, m := range ms {
		if m.MatchID != s.hide {
			out = append(out, m)
		}
	}
	return out, err
}

// TestLateCommit: a match that commits after several polls have passed
// its stamp (but within the overlap) still reaches the index.
func TestLateCommit(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "lb.db")
			src := &lateSource{Source: openSQLite(t, path), hide: "m1"}
			s := start(t, rankindex.Config{Poll: 10 * time.Millisecond, DriftCheck: -1}, src, b.new(t), prometheus.NewRegistry())
			if _, err := openSQLite(t, path).ApplyOutcome(ctx, duel("m1", "ada", 3, time.Now())); err != nil {
				t.Fatal(err)
			}
			// Let several polls pass the stamp without seeing the match.
			n := src.polls.Load()
			waitFor(t, func() bool { return src.polls.Load() > n+5 })
			if _, err := s.PlayerRank(ctx, "eliminations", "ada"); err == nil {
				t.Fatal("ada ranks before her match is revealed")
			}
			src.revealed.Store(true)
			waitFor(t, func() bool {
				e, err := s.PlayerRank(ctx, "eliminations", "ada")
				return err == nil && e.Score == 3
			})
		})
	}
}

// TestDriftRepair: a board whose index lost a write, or holds an entry
// the store never had, is rebuilt by the drift check and counted.
func TestDriftRepair(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(ctx context.Context, idx rankindex.Index, b leaderboard.Board) error
	}{
		{"lost writes", func(ctx context.Context, idx rankindex.Index, b leaderboard.Board) error {
			return idx.Rebuild(ctx, b, func(func(leaderboard.Entry) error) error { return nil })
		}},
		{"ghost entry", func(ctx context.Context, idx rankindex.Index, b leaderboard.Board) error {
			return idx.Set(ctx, b.ID, b.Season, []leaderboard.Entry{{PlayerID: "ghost", Name: "ghost", Score: 99, Updated: time.Now(), Version: 1}})
		}},
		{"lost update", func(ctx context.Context, idx rankindex.Index, b leaderboard.Board) error {
			// ada's entry at a version the store passed: same count, lower sum.
			return idx.Rebuild(ctx, b, func(fn func(leaderboard.Entry) error) error {
				if err := fn(leaderboard.Entry{PlayerID: "ada", Name: "ada", Score: 1, Updated: time.Unix(1, 0), Version: 1}); err != nil {
					return err
				}
				return fn(leaderboard.Entry{PlayerID: "bob", Name: "bob", Score: 0, Updated: time.Unix(1, 0), Version: 1})
			})
		}},
	}
	for _, db := range databases {
		for _, be := range backends {
			if db.name == "postgres" && be.name == "memory" {
				continue // the store's summary is the same SQL as with Redis
			}
			for _, tc := range cases {
				t.Run(db.name+"/"+be.name+"/"+tc.name, func(t *testing.T) {
					t.Parallel()
					ctx := context.Background()
					db, _ := db.open(t)
					src := &lateSource{Source: db}
					src.revealed.Store(true)
					idx := be.new(t)
					reg := prometheus.NewRegistry()
					s := start(t, rankindex.Config{Poll: 10 * time.Millisecond, DriftCheck: 20 * time.Millisecond}, src, idx, reg)
					for i, elims := range []int64{1, 2} {
						if _, err := s.ApplyOutcome(ctx, duel("m"+string(rune('1'+i)), "ada", elims, time.Now())); err != nil {
							t.Fatal(err)
						}
					}
					// Once the poll has read both matches, only the drift
					// check can repair the index.
					n := src.polls.Load()
					waitFor(t, func() bool { return src.polls.Load() > n+2 })
					b, err := s.GetBoard(ctx, "eliminations")
					if err != nil {
						t.Fatal(err)
					}
					if err := tc.corrupt(ctx, idx, b); err != nil {
						t.Fatal(err)
					}
					waitFor(t, func() bool {
						top, err := s.TopEntries(ctx, "eliminations", 10, nil)
						return err == nil && len(top) == 2 && top[0].PlayerID == "ada" && top[0].Score == 3 && top[1].PlayerID == "bob"
					})
					waitFor(t, func() bool { return repairs(t, reg) >= 1 })
				})
			}
		}
	}
}

// TestNoDriftUnderLoad: writes in flight from another process never look
// like drift: no repair while outcomes keep committing.
func TestNoDriftUnderLoad(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			replicaSrc, workerSrc := db.open(t)
			reg := prometheus.NewRegistry()
			s := start(t, rankindex.Config{Poll: 5 * time.Millisecond, DriftCheck: time.Millisecond}, replicaSrc, rankindex.NewMemory(), reg)
			for i := range 100 {
				m := duel("m"+time.Duration(i).String(), "ada", 1, time.Now())
				m.Players[1].PlayerID = "p" + time.Duration(i%7).String()
				if _, err := workerSrc.ApplyOutcome(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, func() bool {
				e, err := s.PlayerRank(ctx, "eliminations", "ada")
				return err == nil && e.Score == 100
			})
			if n := repairs(t, reg); n != 0 {
				t.Errorf("repairs = %v, want 0", n)
			}
		})
	}
}

func repairs(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "skirmish_leaderboard_index_repairs_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no skirmish_leaderboard_index_repairs_total")
	return 0
}
