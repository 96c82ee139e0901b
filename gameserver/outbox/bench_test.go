package outbox_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/outbox"
)

// BenchmarkAdd measures Adds from 8 rooms at once into one outbox: each Add
// waits for the fsync of the group commit that holds it.
//
//	go test -run '^$' -bench Add -benchtime 2000x ./gameserver/outbox/
func BenchmarkAdd(b *testing.B) {
	ob, err := outbox.Open(context.Background(), filepath.Join(b.TempDir(), "outbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	const rooms = 8
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for r := range rooms {
		wg.Go(func() {
			for i := r; i < b.N; i += rooms {
				if err := ob.Add(context.Background(), outcome(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "adds/s")
}
