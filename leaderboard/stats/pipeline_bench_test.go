package stats_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/skirmishgg/skirmish/gameserver/outbox"
	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// BenchmarkPipeline measures the outcome pipeline end to end: b.N outcomes
// added to a gameserver outbox by 8 rooms at once, published to the queue,
// and applied to the store by a stats worker, until the last commit. It
// reports outcomes/s and the lag of each outcome from outbox Add to the
// store applying it (p50, p99, max), from an HDR histogram.
//
//	go test -run '^$' -bench Pipeline -benchtime 2000x ./leaderboard/stats/
func BenchmarkPipeline(b *testing.B) {
	// SQLite has one writer: the embedded worker applies one outcome at a
	// time; on PostgreSQL each batch's outcomes are applied 4 at once.
	configs := map[string]stats.Config{
		"embedded":     {Wait: time.Second},
		"postgres+sqs": {Wait: time.Second, Appliers: 4},
	}
	setups := map[string]func(b *testing.B) (queue.Queue, leaderboard.Store){
		"embedded": func(b *testing.B) (queue.Queue, leaderboard.Store) {
			dir := b.TempDir()
			q, err := litequeue.Open(context.Background(), filepath.Join(dir, "queue.db"), litequeue.Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { q.Close() })
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "lb.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return q, st
		},
		"postgres+sqs": func(b *testing.B) (queue.Queue, leaderboard.Store) {
			q, err := sqsqueue.New(context.Background(), sqsqueue.Config{
				QueueName: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Endpoint: testenv.SQS(b),
				Create: true, AccessKeyID: "test", SecretAccessKey: "test",
			})
			if err != nil {
				b.Fatal(err)
			}
			st, err := postgres.Open(context.Background(), withPool(testenv.Postgres(b)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return q, st
		},
	}
	for _, name := range []string{"embedded", "postgres+sqs"} {
		b.Run(name, func(b *testing.B) {
			q, st := setups[name](b)
			benchPipeline(b, q, st, configs[name])
		})
	}
}

func benchPipeline(b *testing.B, q queue.Queue, st leaderboard.Store, cfg stats.Config) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ob, err := outbox.Open(ctx, filepath.Join(b.TempDir(), "outbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	pub, err := outbox.NewPublisher(outbox.PublisherConfig{}, ob, q, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	w, err := stats.New(cfg, q, st, reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = pub.Run(ctx) })
	wg.Go(func() { _ = w.Run(ctx) })
	defer wg.Wait()
	defer cancel()

	run := time.Now().UnixNano()
	id := func(i int) string { return fmt.Sprintf("bench-%d-%d", run, i) }
	b.ResetTimer()
	cpu0 := cpuTime(b)
	start := time.Now()
	const rooms = 8
	var adders sync.WaitGroup
	for r := range rooms {
		adders.Go(func() {
			for i := r; i < b.N; i += rooms {
				o := benchOutcome(id(i), i)
				if err := ob.Add(ctx, o); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	adders.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	var published time.Duration // when the outbox was empty: all sent
	for appliedCount(b, reg) < b.N {
		if time.Now().After(deadline) {
			b.Fatalf("applied %d of %d outcomes", appliedCount(b, reg), b.N)
		}
		if published == 0 {
			if n, err := ob.Pending(ctx); err == nil && n == 0 {
				published = time.Since(start)
			}
		}
		time.Sleep(5 * time.Millisecond) // polling the worker's counter
	}
	elapsed := time.Since(start)
	cpu := cpuTime(b) - cpu0
	if published == 0 {
		published = elapsed
	}
	b.StopTimer()
	lag := hdrhistogram.New(1, int64(5*time.Minute/time.Microsecond), 3)
	for i := range b.N {
		m, err := st.GetMatch(ctx, id(i))
		if err != nil {
			b.Fatal(err)
		}
		_ = lag.RecordValue(max(1, m.Recorded.Sub(m.EndedAt).Microseconds()))
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "outcomes/s")
	b.ReportMetric(float64(b.N)/published.Seconds(), "published/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/outcome")
	b.ReportMetric(float64(lag.ValueAtQuantile(50))/1000, "p50-lag-ms")
	b.ReportMetric(float64(lag.ValueAtQuantile(99))/1000, "p99-lag-ms")
	b.ReportMetric(float64(lag.Max())/1000, "max-lag-ms")
	b.ReportMetric(0, "ns/op")
}

// benchOutcome is a duel between two of 1,000 players, ended now.
func benchOutcome(id string, i int) *skirmishv1.MatchOutcome {
	a, c := fmt.Sprintf("bp%d", i%1000), fmt.Sprintf("bp%d", (i*7+1)%1000)
	if a == c {
		c = "bp-other"
	}
	now := time.Now()
	return &skirmishv1.MatchOutcome{
		SchemaVersion: 1, MatchId: id, RoomId: id, Mode: "duel", Region: "local", GameserverId: "gs",
		StartedAt: timestamppb.New(now.Add(-3 * time.Minute)), EndedAt: timestamppb.New(now),
		EndReason: skirmishv1.EndReason_END_REASON_SCORE_LIMIT,
		Players: []*skirmishv1.PlayerResult{
			{PlayerId: a, Name: a, Team: 1, Placement: 1, Eliminations: 10, Deaths: 3, Damage: 900},
			{PlayerId: c, Name: c, Team: 2, Placement: 2, Eliminations: 3, Deaths: 10, Damage: 400},
		},
	}
}

func appliedCount(b *testing.B, reg *prometheus.Registry) int {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "skirmish_stats_outcomes_applied_total" || mf.GetName() == "skirmish_stats_outcomes_duplicate_total" {
			n += mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return int(n)
}

// withPool sets the size of pgx's pool to what the worker uses: 4 pollers
// with 4 appliers each.
func withPool(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "pool_max_conns=16"
}

// cpuTime is the CPU time (user and system) this process has used: on the
// embedded pipeline all of it, on PostgreSQL and fauxqs the Go side only.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
