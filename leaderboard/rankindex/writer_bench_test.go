package rankindex_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
)

// BenchmarkWriteThrough: the time from a stats worker's ApplyOutcome to
// its return, with the write-through to a shared Redis index (the moment a
// replica ranks the match) and without (the commit alone), on SQLite and
// PostgreSQL. The difference is what write-through adds per outcome.
func BenchmarkWriteThrough(b *testing.B) {
	dbs := map[string]func(b *testing.B) rankindex.Source{
		"sqlite": func(b *testing.B) rankindex.Source {
			return openSQLite(b, filepath.Join(b.TempDir(), "lb.db"))
		},
		"postgres": func(b *testing.B) rankindex.Source { return openPostgres(b, testenv.Postgres(b)) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, through := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/write-through=%v", name, through), func(b *testing.B) {
				ctx := context.Background()
				src := dbs[name](b)
				var store leaderboard.Store = src
				if through {
					addr := testenv.Redis(b)
					prefix := testenv.RedisPrefix(b, addr)
					idx := redisAt(b, addr, prefix)
					// The replica has loaded the boards into Redis.
					_ = start(b, rankindex.Config{Poll: time.Hour, DriftCheck: -1}, src, idx, prometheus.NewRegistry())
					w, err := rankindex.NewWriter(src, idx, prometheus.NewRegistry(), nil)
					if err != nil {
						b.Fatal(err)
					}
					store = w
				}
				b.ResetTimer()
				for i := range b.N {
					m := duel(fmt.Sprintf("m%d", i), fmt.Sprintf("p%d", i%1000), 1, time.Now())
					if _, err := store.ApplyOutcome(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
