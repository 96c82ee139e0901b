package litequeue_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	"github.com/skirmishgg/skirmish/internal/queue/queuetest"
)

func TestConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	queuetest.Run(t, func(t *testing.T, s queuetest.Settings) queue.Queue {
		return open(t, path, litequeue.Config{
			Name:              s.Name,
			VisibilityTimeout: s.VisibilityTimeout,
			MaxReceives:       s.MaxReceives,
		})
	})
}

func open(t *testing.T, path string, cfg litequeue.Config) *litequeue.Queue {
	t.Helper()
	q, err := litequeue.Open(context.Background(), path, cfg)
	if err != nil {
		t.Fatalf("Open(%q) error: %v", path, err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close error: %v", err)
		}
	})
	return q
}

// Two handles on one file stand for two processes: a message sent through
// one is received through the other, by polling the file.
func TestTwoOpenersShareTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	sender := open(t, path, litequeue.Config{})
	receiver := open(t, path, litequeue.Config{PollInterval: 20 * time.Millisecond})
	ctx := context.Background()
	got := make(chan []queue.Message, 1)
	errc := make(chan error, 1)
	go func() {
		msgs, err := receiver.Receive(ctx, 10, 10*time.Second)
		if err != nil {
			errc <- err
			return
		}
		got <- msgs
	}()
	if err := sender.Send(ctx, []queue.Outgoing{{ID: "m1", Body: []byte("across")}}); err != nil {
		t.Fatalf("Send error: %v", err)
	}
	select {
	case msgs := <-got:
		if len(msgs) != 1 || string(msgs[0].Body) != "across" {
			t.Fatalf("received %v, want the one message sent", msgs)
		}
	case err := <-errc:
		t.Fatalf("Receive error: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("Receive did not return")
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		path string
		cfg  litequeue.Config
	}{
		{"no path", "", litequeue.Config{}},
		{"negative max receives", "q.db", litequeue.Config{MaxReceives: -1}},
		{"negative visibility", "q.db", litequeue.Config{VisibilityTimeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path != "" {
				path = filepath.Join(t.TempDir(), path)
			}
			if q, err := litequeue.Open(context.Background(), path, tt.cfg); err == nil {
				q.Close()
				t.Fatalf("Open(%q, %+v) succeeded, want an error", path, tt.cfg)
			}
		})
	}
}

func TestStaleHandleDoesNotExtend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, litequeue.Config{VisibilityTimeout: 200 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	ctx := context.Background()
	if err := q.Send(ctx, []queue.Outgoing{{ID: "a", Body: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	first, err := q.Receive(ctx, 1, time.Second)
	if err != nil || len(first) != 1 {
		t.Fatalf("Receive = %v, %v", first, err)
	}
	second, err := q.Receive(ctx, 1, 5*time.Second)
	if err != nil || len(second) != 1 || second[0].ReceiveCount != 2 {
		t.Fatalf("second Receive = %v, %v; want the message with count 2", second, err)
	}
	// The first receiver's handle is stale: extending with it must not hide
	// the message from the one who holds it now, nor fail.
	if err := q.ExtendVisibility(ctx, []string{first[0].ReceiptHandle}, time.Hour); err != nil {
		t.Fatalf("ExtendVisibility(stale) error: %v", err)
	}
	third, err := q.Receive(ctx, 1, 5*time.Second)
	if err != nil || len(third) != 1 || third[0].ReceiveCount != 3 {
		t.Fatalf("third Receive = %v, %v; want the message with count 3", third, err)
	}
}
