package stats_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
)

// memQueue is a small real queue.Queue in memory with SQS semantics:
// received messages hide for a visibility timeout, receives count, and
// only Delete removes a message. Deletes are reported on the deleted
// channel so tests can wait for them.
type memQueue struct {
	mu         sync.Mutex
	msgs       []*memMsg
	seq        int
	visibility time.Duration
	arrived    chan struct{} // closed and replaced on every send
	deleted    chan string   // message ids, as they are deleted
}

type memMsg struct {
	queue.Message
	hiddenUntil time.Time
}

func newMemQueue() *memQueue {
	return &memQueue{visibility: time.Hour, arrived: make(chan struct{}), deleted: make(chan string, 100)}
}

func (q *memQueue) Send(ctx context.Context, msgs []queue.Outgoing) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range msgs {
		q.seq++
		q.msgs = append(q.msgs, &memMsg{Message: queue.Message{ID: m.ID, Body: m.Body, SentAt: time.Now()}})
	}
	close(q.arrived)
	q.arrived = make(chan struct{})
	return nil
}

func (q *memQueue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		q.mu.Lock()
		var out []queue.Message
		now := time.Now()
		for _, m := range q.msgs {
			if len(out) == max {
				break
			}
			if m.hiddenUntil.After(now) {
				continue
			}
			m.ReceiveCount++
			q.seq++
			m.ReceiptHandle = fmt.Sprintf("%s#%d", m.ID, q.seq)
			m.hiddenUntil = now.Add(q.visibility)
			out = append(out, m.Message)
		}
		arrived := q.arrived
		q.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, nil
		case <-arrived:
		}
	}
}

func (q *memQueue) Delete(ctx context.Context, handles []string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range handles {
		for i, m := range q.msgs {
			if m.ReceiptHandle == h {
				q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
				q.deleted <- m.ID
				break
			}
		}
	}
	return nil
}

func (q *memQueue) ExtendVisibility(ctx context.Context, handles []string, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.msgs {
		for _, h := range handles {
			if m.ReceiptHandle == h {
				m.hiddenUntil = time.Now().Add(d)
			}
		}
	}
	return nil
}

// left returns the ids of the messages still in the queue.
func (q *memQueue) left() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []string
	for _, m := range q.msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

var _ queue.Queue = (*memQueue)(nil)
