package rankindex

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// benchSizes are the board sizes the index benchmarks fill:
// SKIRMISH_BENCH_ENTRIES=1000000,10000000 for the recorded runs; a small
// board by default, so that the suite stays quick.
func benchSizes(b *testing.B) []int {
	v := os.Getenv("SKIRMISH_BENCH_ENTRIES")
	if v == "" {
		return []int{100_000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			b.Fatalf("SKIRMISH_BENCH_ENTRIES: %v", err)
		}
		out = append(out, n)
	}
	return out
}

func filled(b *testing.B, n int) *Memory {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	m := NewMemory()
	board := leaderboard.Board{ID: "b", Order: leaderboard.Descending}
	t0 := time.Unix(1_800_000_000, 0)
	err := m.Load(context.Background(), board, func(fn func(leaderboard.Entry) error) error {
		for i := range n {
			// Scores with many ties, so the tie-breaks are exercised.
			fn(leaderboard.Entry{PlayerID: fmt.Sprintf("p%08d", i), Name: "player", Score: float64((i * 7919) % (n/3 + 1)), Updated: t0.Add(time.Duration(i%1000) * time.Second)})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.Logf("n=%d: loaded in %v, heap %.0f bytes an entry, %d GC cycles", n, took.Round(time.Millisecond),
		float64(after.HeapAlloc-before.HeapAlloc)/float64(n), after.NumGC-before.NumGC)
	return m
}

func BenchmarkIndex(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		m := filled(b, n)
		b.Run(fmt.Sprintf("Rank/n=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i = (i + 7919) % n
				if _, ok, _ := m.Rank(ctx, "b", fmt.Sprintf("p%08d", i)); !ok {
					b.Fatal("missing")
				}
			}
		})
		b.Run(fmt.Sprintf("Top10/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				m.Range(ctx, "b", 0, 10)
			}
		})
		b.Run(fmt.Sprintf("Around5/n=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i = (i + 7919) % n
				e, _, _ := m.Rank(ctx, "b", fmt.Sprintf("p%08d", i))
				m.Range(ctx, "b", max(0, int(e.Rank)-6), 11)
			}
		})
		b.Run(fmt.Sprintf("Update/n=%d", n), func(b *testing.B) {
			i, v := 0, int64(1)
			t0 := time.Unix(1_900_000_000, 0)
			for b.Loop() {
				i = (i + 7919) % n
				v++ // every update a newer version, as the store gives them
				m.Set(ctx, "b", 1, []leaderboard.Entry{{PlayerID: fmt.Sprintf("p%08d", i), Name: "player", Score: float64(i % 1000), Updated: t0.Add(time.Duration(i)), Version: v}})
			}
		})
	}
}
