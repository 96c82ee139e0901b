package sqsqueue_test

import (
	"context"
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

func TestFIFODeduplicatesByID(t *testing.T) {
	endpoint := testenv.SQS(t)
	q := open(t, sqsqueue.Config{QueueName: "outcomes.fifo", Endpoint: endpoint, Create: true, VisibilityTimeout: 30 * time.Second})
	ctx := context.Background()
	for range 2 {
		if err := q.Send(ctx, []queue.Outgoing{{ID: "match-1", Body: []byte("one")}, {ID: "match-2", Body: []byte("two")}}); err != nil {
			t.Fatalf("Send error: %v", err)
		}
	}
	var got []string
	for tries := 0; tries < 5 && len(got) < 2; tries++ {
		got = append(got, bodies(t, q)...)
	}
	got = append(got, bodies(t, q)...) // and no more
	if len(got) != 2 {
		t.Fatalf("received %q, want each of the two matches once", got)
	}
	dlq := open(t, sqsqueue.Config{QueueName: sqsqueue.DeadLetterName("outcomes.fifo"), Endpoint: endpoint})
	if dlq.URL() == "" {
		t.Fatal("dead-letter queue has no URL")
	}
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
	for _, m := range msgs {
		out = append(out, string(m.Body))
	}
	return out
}
