// Package queuetest is the conformance suite that every queue.Queue backend
// passes, so that the embedded queue and SQS behave alike.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
)

// Settings is what the suite asks of a queue it opens.
type Settings struct {
	// Name is unique to the subtest. The suite opens DeadLetterName(Name)
	// to read the dead-letter queue of Name.
	Name string
	// VisibilityTimeout is short (a second or two).
	VisibilityTimeout time.Duration
	// MaxReceives before a message moves to the dead-letter queue.
	MaxReceives int
}

// DeadLetterName is the name the suite expects for the dead-letter queue of
// the queue name: "<name>-dlq".
func DeadLetterName(name string) string { return name + "-dlq" }

// Opener opens the queue named in cfg; it creates it (with its dead-letter
// queue) when missing, and closes it when t ends. Queues opened with the same
// name in one Run share their messages.
type Opener func(t *testing.T, cfg Settings) queue.Queue

// Run runs the suite. Subtests run in parallel.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func(Settings) queue.Queue, s Settings)
	}{
		{"RoundTrip", testRoundTrip},
		{"BatchOfTen", testBatchOfTen},
		{"EmptyReceiveWaits", testEmptyReceive},
		{"VisibilityTimeoutRedelivers", testRedeliver},
		{"ExtendVisibilityKeepsHidden", testExtend},
		{"DeadLetterAfterMaxReceives", testDeadLetter},
		{"CancelStopsLongPoll", testCancel},
		{"RejectsOversizedBatch", testOversized},
		{"AdminListsAndRedrivesDeadLetters", testAdmin},
	}
	suffix := time.Now().UnixNano() % 1_000_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Settings{
				Name:              fmt.Sprintf("qt-%s-%d", kebab(tt.name), suffix),
				VisibilityTimeout: time.Second,
				MaxReceives:       5,
			}
			tt.run(t, func(s Settings) queue.Queue { return open(t, s) }, s)
		})
	}
}

var upper = regexp.MustCompile(`([a-z])([A-Z])`)

func kebab(s string) string {
	return strings.ToLower(upper.ReplaceAllString(s, "$1-$2"))
}

// receive waits up to wait for up to max messages, failing the test on error.
func receive(t *testing.T, q queue.Queue, max int, wait time.Duration) []queue.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait+10*time.Second)
	defer cancel()
	msgs, err := q.Receive(ctx, max, wait)
	if err != nil {
		t.Fatalf("Receive(%d, %v) error: %v", max, wait, err)
	}
	if len(msgs) > max {
		t.Fatalf("Receive(%d, %v) returned %d messages", max, wait, len(msgs))
	}
	return msgs
}

func send(t *testing.T, q queue.Queue, bodies ...string) {
	t.Helper()
	msgs := make([]queue.Outgoing, len(bodies))
	for i, b := range bodies {
		msgs[i] = queue.Outgoing{ID: fmt.Sprintf("id-%d-%s", i, b), Body: []byte(b)}
	}
	if err := q.Send(context.Background(), msgs); err != nil {
		t.Fatalf("Send(%d messages) error: %v", len(msgs), err)
	}
}

func del(t *testing.T, q queue.Queue, msgs ...queue.Message) {
	t.Helper()
	handles := make([]string, len(msgs))
	for i, m := range msgs {
		handles[i] = m.ReceiptHandle
	}
	if err := q.Delete(context.Background(), handles); err != nil {
		t.Fatalf("Delete(%d handles) error: %v", len(handles), err)
	}
}

func one(t *testing.T, msgs []queue.Message, wantBody string, wantCount int) queue.Message {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1 (%q)", len(msgs), wantBody)
	}
	m := msgs[0]
	if string(m.Body) != wantBody || m.ReceiveCount != wantCount {
		t.Fatalf("received body %q count %d, want %q count %d", m.Body, m.ReceiveCount, wantBody, wantCount)
	}
	if m.ReceiptHandle == "" || m.ID == "" {
		t.Fatalf("received message with id %q receipt handle %q, want both set", m.ID, m.ReceiptHandle)
	}
	return m
}

func testRoundTrip(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	q := open(s)
	before := time.Now().Add(-time.Minute)
	send(t, q, "hello")
	m := one(t, receive(t, q, 10, 5*time.Second), "hello", 1)
	if m.SentAt.Before(before) || m.SentAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("SentAt = %v, want about now", m.SentAt)
	}
	del(t, q, m)
	// Past the visibility timeout: a deleted message never comes back.
	if got := receive(t, q, 10, 2*s.VisibilityTimeout); len(got) != 0 {
		t.Fatalf("after Delete, received %d messages, want 0", len(got))
	}
}

func testBatchOfTen(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	s.VisibilityTimeout = 30 * time.Second
	q := open(s)
	var want []string
	for i := range queue.MaxBatch {
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	send(t, q, want...)
	var got []string
	for tries := 0; len(got) < len(want) && tries < 20; tries++ {
		msgs := receive(t, q, queue.MaxBatch, time.Second)
		for _, m := range msgs {
			if m.ReceiveCount != 1 {
				t.Errorf("message %q ReceiveCount = %d, want 1", m.Body, m.ReceiveCount)
			}
			got = append(got, string(m.Body))
		}
		del(t, q, msgs...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q", got, want)
	}
}

func testEmptyReceive(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	q := open(s)
	if got := receive(t, q, 10, time.Second); len(got) != 0 {
		t.Fatalf("Receive on an empty queue returned %d messages", len(got))
	}
}

func testRedeliver(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	q := open(s)
	send(t, q, "again")
	one(t, receive(t, q, 1, 5*time.Second), "again", 1)
	// Not deleted: it comes back after the visibility timeout, counted twice.
	m := one(t, receive(t, q, 1, 5*time.Second), "again", 2)
	del(t, q, m)
}

func testExtend(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	q := open(s)
	send(t, q, "held")
	m := one(t, receive(t, q, 1, 5*time.Second), "held", 1)
	if err := q.ExtendVisibility(context.Background(), []string{m.ReceiptHandle}, 10*time.Second); err != nil {
		t.Fatalf("ExtendVisibility error: %v", err)
	}
	// Twice the visibility timeout: still hidden.
	if got := receive(t, q, 1, 2*s.VisibilityTimeout); len(got) != 0 {
		t.Fatalf("after ExtendVisibility, received %d messages, want 0", len(got))
	}
	del(t, q, m)
}

func testDeadLetter(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	s.MaxReceives = 2
	q := open(s)
	send(t, q, "poison")
	one(t, receive(t, q, 1, 5*time.Second), "poison", 1)
	one(t, receive(t, q, 1, 5*time.Second), "poison", 2)
	if got := receive(t, q, 1, 3*s.VisibilityTimeout); len(got) != 0 {
		t.Fatalf("after %d receives, received %q again, want it dead-lettered", s.MaxReceives, got[0].Body)
	}
	dlq := open(Settings{Name: DeadLetterName(s.Name), VisibilityTimeout: 30 * time.Second, MaxReceives: 5})
	m := receive(t, dlq, 1, 5*time.Second)
	if len(m) != 1 || string(m[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %d messages, want the poison one", len(m))
	}
	del(t, dlq, m...)
}

func testCancel(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	q := open(s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := q.Receive(ctx, 1, 20*time.Second)
		done <- err
	}()
	stop := time.AfterFunc(200*time.Millisecond, cancel)
	defer stop.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Receive after cancel error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive did not return after its context was canceled")
	}
}

func testOversized(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	q := open(s)
	msgs := make([]queue.Outgoing, queue.MaxBatch+1)
	for i := range msgs {
		msgs[i] = queue.Outgoing{ID: fmt.Sprint(i), Body: []byte("x")}
	}
	if err := q.Send(context.Background(), msgs); err == nil {
		t.Fatalf("Send(%d messages) succeeded, want an error", len(msgs))
	}
	if _, err := q.Receive(context.Background(), queue.MaxBatch+1, 0); err == nil {
		t.Fatalf("Receive(%d) succeeded, want an error", queue.MaxBatch+1)
	}
}

// testAdmin runs on queues that implement queue.Admin.
func testAdmin(t *testing.T, open func(Settings) queue.Queue, s Settings) {
	s.MaxReceives = 1
	q := open(s)
	admin, ok := q.(queue.Admin)
	if !ok {
		t.Skipf("%T does not implement queue.Admin", q)
	}
	ctx := context.Background()
	send(t, q, "poison")
	d, err := admin.Depth(ctx)
	if err != nil || d.Visible != 1 || d.Dead != 0 {
		t.Fatalf("Depth after Send = %+v, %v, want 1 visible, 0 dead", d, err)
	}
	one(t, receive(t, q, 1, 5*time.Second), "poison", 1)
	// Not deleted: after its visibility timeout it is dead.
	if got := receive(t, q, 1, 2*s.VisibilityTimeout); len(got) != 0 {
		t.Fatalf("after %d receive, received %q again, want it dead-lettered", s.MaxReceives, got[0].Body)
	}
	var dead []queue.Message
	for tries := 0; len(dead) == 0 && tries < 20; tries++ {
		if dead, err = admin.DeadLetters(ctx, 10); err != nil {
			t.Fatalf("DeadLetters error: %v", err)
		}
	}
	if len(dead) != 1 || string(dead[0].Body) != "poison" {
		t.Fatalf("DeadLetters = %d messages, want the poison one", len(dead))
	}
	// Listing leaves it there.
	if again, err := admin.DeadLetters(ctx, 10); err != nil || len(again) != 1 {
		t.Fatalf("DeadLetters again = %d messages, %v, want 1", len(again), err)
	}
	if d, err := admin.Depth(ctx); err != nil || d.Dead != 1 {
		t.Fatalf("Depth with one dead letter = %+v, %v, want 1 dead", d, err)
	}
	n, err := admin.Redrive(ctx, 10)
	if err != nil || n != 1 {
		t.Fatalf("Redrive = %d, %v, want 1, nil", n, err)
	}
	m := one(t, receive(t, q, 1, 5*time.Second), "poison", 1)
	del(t, q, m)
	if d, err := admin.Depth(ctx); err != nil || d.Dead != 0 {
		t.Fatalf("Depth after Redrive = %+v, %v, want 0 dead", d, err)
	}
}
