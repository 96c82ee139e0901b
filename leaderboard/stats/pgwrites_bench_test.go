package stats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
)

// BenchmarkPostgresWritesPerOutcome counts what applying one duel outcome
// writes to PostgreSQL: b.N outcomes (the players of BenchmarkPipeline,
// 1,000 of them, so most outcomes update players that exist) applied one
// after another through the store as a stats worker applies them, with the
// transactions and rows the database's own statistics (pg_stat_database of
// the test's fresh database) count. Reported per outcome: xacts
// (committed transactions), rows-inserted, rows-updated and rows-deleted
// (WAL is left out: it is counted per server, shared with other users of
// it), and outcomes/s one after another on one session.
//
//	go test -run '^$' -bench PostgresWritesPerOutcome -benchtime 2000x ./leaderboard/stats/
func BenchmarkPostgresWritesPerOutcome(b *testing.B) {
	ctx := context.Background()
	dsn := testenv.Postgres(b)
	apply := func(n, from int) time.Duration {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := range n {
			m, err := stats.FromProto(benchOutcome(fmt.Sprintf("pw-%d", from+i), from+i))
			if err != nil {
				b.Fatal(err)
			}
			if applied, err := st.ApplyOutcome(ctx, m); err != nil || !applied {
				b.Fatalf("ApplyOutcome = %v, %v", applied, err)
			}
		}
		took := time.Since(start)
		// Closing ends the sessions, and a session's last act is to
		// flush its statistics.
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		return took
	}
	apply(1000, 0) // every player exists: the steady state
	before := dbStats(b, dsn)
	b.ResetTimer()
	took := apply(b.N, 1000)
	b.StopTimer()
	// Sessions flush their statistics as they exit, a moment after the
	// pool closed them: read until two reads agree on the rows. Each read
	// commits transactions of its own, counted once its session closed:
	// the last two reads tell how many a read adds.
	after := dbStats(b, dsn)
	reads := int64(2) // before and after
	for {
		time.Sleep(500 * time.Millisecond)
		again := dbStats(b, dsn)
		reads++
		if again.inserted == after.inserted && again.updated == after.updated && again.deleted == after.deleted {
			perRead := again.xacts - after.xacts
			after = again
			after.xacts -= perRead * (reads - 1) // the reads before this one
			break
		}
		after = again
	}
	n := float64(b.N)
	b.ReportMetric(float64(after.xacts-before.xacts)/n, "xacts/outcome")
	b.ReportMetric(float64(after.inserted-before.inserted)/n, "rows-inserted/outcome")
	b.ReportMetric(float64(after.updated-before.updated)/n, "rows-updated/outcome")
	b.ReportMetric(float64(after.deleted-before.deleted)/n, "rows-deleted/outcome")
	b.ReportMetric(n/took.Seconds(), "outcomes/s")
	b.ReportMetric(0, "ns/op")
}

// pgStats are a database's counters from pg_stat_database.
type pgStats struct{ xacts, inserted, updated, deleted int64 }

// dbStats reads the counters of the database dsn names, on a session of
// its own that it closes (flushing its own, read-only, statistics).
func dbStats(b *testing.B, dsn string) pgStats {
	b.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	var s pgStats
	if err := c.QueryRow(ctx, `SELECT xact_commit, tup_inserted, tup_updated, tup_deleted
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&s.xacts, &s.inserted, &s.updated, &s.deleted); err != nil {
		b.Fatal(err)
	}
	return s
}
