package sqsqueue_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
	"github.com/skirmishgg/skirmish/internal/testenv"
)

// BenchmarkRoundTrip is the ceiling the SQS server puts on the outcome
// pipeline: b.N messages sent in batches of 10 by 4 senders while 4
// receivers receive batches of 10 and delete them, with no work between.
//
//	go test -run '^$' -bench RoundTrip -benchtime 4000x ./internal/queue/sqsqueue/
func BenchmarkRoundTrip(b *testing.B) {
	endpoint := testenv.SQS(b)
	q, err := sqsqueue.New(context.Background(), sqsqueue.Config{
		QueueName: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Endpoint: endpoint, Create: true,
		AccessKeyID: "test", SecretAccessKey: "test",
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const senders, receivers = 4, 4
	body := bytes.Repeat([]byte("x"), 600) // about the size of a duel's outcome
	var done atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for s := range senders {
		wg.Go(func() {
			for i := s * queue.MaxBatch; i < b.N; i += senders * queue.MaxBatch {
				msgs := make([]queue.Outgoing, 0, queue.MaxBatch)
				for j := i; j < min(i+queue.MaxBatch, b.N); j++ {
					msgs = append(msgs, queue.Outgoing{ID: fmt.Sprint(j), Body: body})
				}
				if err := q.Send(ctx, msgs); err != nil {
					b.Error(err)
					cancel()
					return
				}
			}
		})
	}
	for range receivers {
		wg.Go(func() {
			for done.Load() < int64(b.N) && ctx.Err() == nil {
				msgs, err := q.Receive(ctx, queue.MaxBatch, 100*time.Millisecond)
				if err != nil {
					b.Error(err)
					return
				}
				if len(msgs) == 0 {
					continue
				}
				handles := make([]string, len(msgs))
				for i, m := range msgs {
					handles[i] = m.ReceiptHandle
				}
				if err := q.Delete(ctx, handles); err != nil {
					b.Error(err)
					return
				}
				done.Add(int64(len(msgs)))
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(done.Load())/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}
