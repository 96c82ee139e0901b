package sqsqueue_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/queuetest"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
	"github.com/skirmishgg/skirmish/internal/testenv"
)

func open(t *testing.T, cfg sqsqueue.Config) *sqsqueue.Queue {
	t.Helper()
	cfg.AccessKeyID, cfg.SecretAccessKey = "test", "test"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := sqsqueue.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New(%q) error: %v", cfg.QueueName, err)
	}
	return q
}

func TestConformance(t *testing.T) {
	endpoint := testenv.SQS(t)
	queuetest.Run(t, func(t *testing.T, s queuetest.Settings) queue.Queue {
		return open(t, sqsqueue.Config{
			QueueName:         s.Name,
			Endpoint:          endpoint,
			Create:            true,
			VisibilityTimeout: s.VisibilityTimeout,
			MaxReceives:       s.MaxReceives,
		})
	})
}

// TestFIFODeduplicatesByID: on a FIFO queue a message sent again with its
// ID (a publisher's retry) arrives once, while the matchmaker's
// server_lost record of a match and the gameserver's own outcome of it,
// sent after the record was received and deleted, both arrive: SQS
// accepts a message whose deduplication id it saw in the last five
// minutes and drops it, so they must not share an ID.
func TestFIFODeduplicatesByID(t *testing.T) {
	endpoint := testenv.SQS(t)
	q := open(t, sqsqueue.Config{QueueName: "outcomes.fifo", Endpoint: endpoint, Create: true, VisibilityTimeout: 30 * time.Second})
	ctx := context.Background()
	for range 2 {
		if err := q.Send(ctx, []queue.Outgoing{
			{ID: queue.OutcomeID("match-1"), Body: []byte("one")},
			{ID: queue.ServerLostID("match-2"), Body: []byte("two lost")},
		}); err != nil {
			t.Fatalf("Send error: %v", err)
		}
	}
	got := receiveAll(t, q, 2)
	slices.Sort(got)
	if want := []string{"one", "two lost"}; !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q: each message once", got, want)
	}
	// match-2's gameserver was only cut off; its outcome comes after the
	// record was applied and deleted, well within the five minutes.
	for range 2 {
		if err := q.Send(ctx, []queue.Outgoing{{ID: queue.OutcomeID("match-2"), Body: []byte("two")}}); err != nil {
			t.Fatalf("Send error: %v", err)
		}
	}
	if got := receiveAll(t, q, 1); !slices.Equal(got, []string{"two"}) {
		t.Fatalf("after the server_lost record, received %q, want [\"two\"]: the real outcome, once", got)
	}
	dlq := open(t, sqsqueue.Config{QueueName: sqsqueue.DeadLetterName("outcomes.fifo"), Endpoint: endpoint})
	if dlq.URL() == "" {
		t.Fatal("dead-letter queue has no URL")
	}
}

// receiveAll receives and deletes messages until want have arrived (or a
// few empty receives pass), then once more to see that no more come, and
// returns their bodies.
func receiveAll(t *testing.T, q *sqsqueue.Queue, want int) []string {
	t.Helper()
	var got []string
	for tries := 0; tries < 5 && len(got) < want; tries++ {
		got = append(got, bodies(t, q)...)
	}
	return append(got, bodies(t, q)...) // and no more
}

func TestNewWithoutCreateFailsOnMissingQueue(t *testing.T) {
	endpoint := testenv.SQS(t)
	_, err := sqsqueue.New(context.Background(), sqsqueue.Config{
		QueueName: "absent", Endpoint: endpoint, AccessKeyID: "test", SecretAccessKey: "test",
	})
	if err == nil {
		t.Fatal("New on a missing queue without Create succeeded, want an error")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  sqsqueue.Config
	}{
		{"max receives", sqsqueue.Config{MaxReceives: -1}},
		{"visibility", sqsqueue.Config{VisibilityTimeout: -time.Second}},
		{"half credentials", sqsqueue.Config{AccessKeyID: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqsqueue.New(context.Background(), tt.cfg)
			if err == nil {
				t.Fatalf("New(%+v) succeeded, want an error", tt.cfg)
			}
		})
	}
}

func TestDeadLetterName(t *testing.T) {
	tests := map[string]string{
		"match-outcomes":      "match-outcomes-dlq",
		"match-outcomes.fifo": "match-outcomes-dlq.fifo",
	}
	for in, want := range tests {
		if got := sqsqueue.DeadLetterName(in); got != want {
			t.Errorf("DeadLetterName(%q) = %q, want %q", in, got, want)
		}
	}
}

func bodies(t *testing.T, q *sqsqueue.Queue) []string {
	t.Helper()
	msgs, err := q.Receive(context.Background(), 10, time.Second)
	if err != nil {
		t.Fatalf("Receive error: %v", err)
	}
	var out []string
	handles := make([]string, len(msgs))
	for i, m := range msgs {
		out = append(out, string(m.Body))
		handles[i] = m.ReceiptHandle
	}
	if err := q.Delete(context.Background(), handles); err != nil {
		t.Fatalf("Delete error: %v", err)
	}
	return out
}
