package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/skirmishgg/skirmish/gameserver/outbox"
	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	"github.com/skirmishgg/skirmish/internal/testenv"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func openOutbox(t *testing.T, path string) *outbox.Outbox {
	t.Helper()
	ob, err := outbox.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q) error: %v", path, err)
	}
	t.Cleanup(func() { ob.Close() })
	return ob
}

func openQueue(t *testing.T) *litequeue.Queue {
	t.Helper()
	q, err := litequeue.Open(context.Background(), filepath.Join(t.TempDir(), "queue.db"),
		litequeue.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("litequeue.Open error: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func outcome(i int) *skirmishv1.MatchOutcome {
	return &skirmishv1.MatchOutcome{SchemaVersion: 1, MatchId: fmt.Sprintf("match-%03d", i), Mode: "duel"}
}

func add(t *testing.T, ob *outbox.Outbox, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := ob.Add(context.Background(), outcome(i)); err != nil {
			t.Fatalf("Add(match %d) error: %v", i, err)
		}
	}
}

func pending(t *testing.T, ob *outbox.Outbox) int {
	t.Helper()
	n, err := ob.Pending(context.Background())
	if err != nil {
		t.Fatalf("Pending error: %v", err)
	}
	return n
}

// failing is a real queue whose first n sends fail, as when SQS is down.
type failing struct {
	queue.Queue
	left  atomic.Int32
	calls chan struct{}
	mu    sync.Mutex
	ids   [][]string // the message ids of each Send, failed ones too
}

func newFailing(q queue.Queue, n int) *failing {
	f := &failing{Queue: q, calls: make(chan struct{}, 100)}
	f.left.Store(int32(n))
	return f
}

func (f *failing) Send(ctx context.Context, msgs []queue.Outgoing) error {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	f.mu.Lock()
	f.ids = append(f.ids, ids)
	f.mu.Unlock()
	select {
	case f.calls <- struct{}{}:
	default:
	}
	if f.left.Add(-1) >= 0 {
		return errors.New("queue is down")
	}
	return f.Queue.Send(ctx, msgs)
}

// run starts p and returns a stop function that ends it and waits.
func run(t *testing.T, p *outbox.Publisher) (stop func()) {
	t.Helper()
	return testenv.Run(t, p.Run)
}

// collect receives until want distinct match ids arrived.
func collect(t *testing.T, q queue.Queue, want int) map[string]int {
	t.Helper()
	got := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want {
		if time.Now().After(deadline) {
			t.Fatalf("received %d distinct outcomes, want %d", len(got), want)
		}
		msgs, err := q.Receive(context.Background(), queue.MaxBatch, time.Second)
		if err != nil {
			t.Fatalf("Receive error: %v", err)
		}
		var handles []string
		for _, m := range msgs {
			var o skirmishv1.MatchOutcome
			if err := protojson.Unmarshal(m.Body, &o); err != nil {
				t.Fatalf("message body %q is not a MatchOutcome: %v", m.Body, err)
			}
			got[o.GetMatchId()]++
			handles = append(handles, m.ReceiptHandle)
		}
		if err := q.Delete(context.Background(), handles); err != nil {
			t.Fatalf("Delete error: %v", err)
		}
	}
	return got
}

var fast = outbox.PublisherConfig{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, FlushTimeout: 2 * time.Second}

func TestDeliversEverythingAfterQueueRecovers(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	q := openQueue(t)
	down := newFailing(q, 4)
	reg := prometheus.NewRegistry()
	p, err := outbox.NewPublisher(fast, ob, down, reg, nil)
	if err != nil {
		t.Fatalf("NewPublisher error: %v", err)
	}
	add(t, ob, 0, 15)
	stop := run(t, p)
	select { // the publisher is running and failing
	case <-down.calls:
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher never tried to send")
	}
	add(t, ob, 15, 25)

	got := collect(t, q, 25)
	for id, n := range got {
		if n != 1 {
			t.Errorf("match %s received %d times, want 1", id, n)
		}
	}
	stop()
	if n := pending(t, ob); n != 0 {
		t.Errorf("Pending after delivery = %d, want 0", n)
	}
	for name, want := range map[string]float64{
		"skirmish_gameserver_outbox_pending_outcomes":    0,
		"skirmish_gameserver_outbox_oldest_age_seconds":  0,
		"skirmish_gameserver_outbox_send_errors_total":   4,
		"skirmish_gameserver_outbox_sent_outcomes_total": 25,
	} {
		if got := metric(t, reg, name); got != want {
			t.Errorf("metric %s = %v, want %v", name, got, want)
		}
	}
}

// TestSendsWithOutcomeID: the outbox sends an outcome with the message id
// queue.OutcomeID of its match, and sends it again with the same id after
// a failure, so that a FIFO queue keeps one copy; the matchmaker's
// server_lost record of the match has another id.
func TestSendsWithOutcomeID(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	q := openQueue(t)
	down := newFailing(q, 2)
	p, err := outbox.NewPublisher(fast, ob, down, nil, nil)
	if err != nil {
		t.Fatalf("NewPublisher error: %v", err)
	}
	add(t, ob, 0, 1)
	stop := run(t, p)
	collect(t, q, 1)
	stop()
	want := queue.OutcomeID(outcome(0).GetMatchId())
	if want == queue.ServerLostID(outcome(0).GetMatchId()) {
		t.Fatalf("OutcomeID = ServerLostID = %q, want them apart", want)
	}
	down.mu.Lock()
	defer down.mu.Unlock()
	if len(down.ids) < 3 {
		t.Fatalf("Send calls = %v, want two that failed and one that succeeded", down.ids)
	}
	for _, ids := range down.ids {
		if len(ids) != 1 || ids[0] != want {
			t.Errorf("Send with message ids %q, want [%q]", ids, want)
		}
	}
}

func TestRestartLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ctx := context.Background()
	ob, err := outbox.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	add(t, ob, 0, 12)
	add(t, ob, 3, 5) // the same matches again: idempotent
	if n := pending(t, ob); n != 12 {
		t.Fatalf("Pending = %d, want 12", n)
	}
	// The queue never takes anything: stopping leaves everything in the file.
	p, err := outbox.NewPublisher(outbox.PublisherConfig{FlushTimeout: 100 * time.Millisecond}, ob, newFailing(openQueue(t), 1<<30), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)()
	if err := ob.Close(); err != nil {
		t.Fatalf("Close error: %v", err)
	}

	ob = openOutbox(t, path)
	if n := pending(t, ob); n != 12 {
		t.Fatalf("Pending after reopening = %d, want 12", n)
	}
	q := openQueue(t)
	p, err = outbox.NewPublisher(fast, ob, q, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	if got := collect(t, q, 12); len(got) != 12 {
		t.Fatalf("received %d outcomes, want 12", len(got))
	}
	stop()
	if n := pending(t, ob); n != 0 {
		t.Errorf("Pending = %d, want 0", n)
	}
}

func TestStopFlushes(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	q := openQueue(t)
	add(t, ob, 0, 3)
	p, err := outbox.NewPublisher(fast, ob, q, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already ended: Run only makes its last attempt
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run error: %v", err)
	}
	if n := pending(t, ob); n != 0 {
		t.Fatalf("Pending after the last attempt = %d, want 0", n)
	}
	collect(t, q, 3)
}

func TestWakesOnAdd(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	q := openQueue(t)
	p, err := outbox.NewPublisher(fast, ob, q, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	for i := range 3 { // each Add alone, into an idle publisher
		add(t, ob, i, i+1)
		collect(t, q, 1)
	}
}

func TestAddRejectsOutcomeWithoutMatchID(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	for _, o := range []*skirmishv1.MatchOutcome{nil, {Mode: "duel"}} {
		if err := ob.Add(context.Background(), o); err == nil {
			t.Errorf("Add(%v) succeeded, want an error", o)
		}
	}
}

func TestNewPublisherRejectsBadConfig(t *testing.T) {
	ob := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	q := openQueue(t)
	tests := []struct {
		name string
		cfg  outbox.PublisherConfig
	}{
		{"batch too big", outbox.PublisherConfig{BatchSize: 11}},
		{"max below min", outbox.PublisherConfig{MinBackoff: time.Second, MaxBackoff: time.Millisecond}},
		{"negative flush", outbox.PublisherConfig{FlushTimeout: -1}},
		{"negative in flight", outbox.PublisherConfig{InFlight: -1}},
		{"too many in flight", outbox.PublisherConfig{InFlight: 65}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := outbox.NewPublisher(tt.cfg, ob, q, nil, nil); err == nil {
				t.Fatalf("NewPublisher(%+v) succeeded, want an error", tt.cfg)
			}
		})
	}
}

// metric is the value of the unlabelled gauge or counter name in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather error: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name || len(f.GetMetric()) != 1 {
			continue
		}
		m := f.GetMetric()[0]
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not gathered", name)
	return 0
}
