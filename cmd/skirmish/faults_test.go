package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
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

// runMainEnv, when set, makes the test binary run `skirmish` with these
// arguments (separated by newlines) instead of the tests: the fault tests
// start real worker processes this way and SIGKILL them.
const runMainEnv = "SKIRMISH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if args := os.Getenv(runMainEnv); args != "" {
		os.Args = append([]string{"skirmish"}, strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pipeline is one queue backend and one store, shared by the test and the
// worker processes it starts.
type pipeline struct {
	args  []string // skirmish flags that name the queue and the store
	qargs []string // the queue's alone
	queue queue.Queue
	store leaderboard.Store
}

// pipelines are the two deployments: the embedded defaults (SQLite queue and
// store) and PostgreSQL through the SQS server.
func pipelines(t *testing.T, maxReceives int) map[string]func(t *testing.T) pipeline {
	common := []string{"--queue-visibility-timeout", "1s", "--queue-max-receives", fmt.Sprint(maxReceives)}
	return map[string]func(t *testing.T) pipeline{
		"embedded": func(t *testing.T) pipeline {
			dir := t.TempDir()
			qpath, dbpath := filepath.Join(dir, "queue.db"), filepath.Join(dir, "leaderboard.db")
			q, err := litequeue.Open(context.Background(), qpath, litequeue.Config{
				VisibilityTimeout: time.Second, MaxReceives: maxReceives, PollInterval: 20 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { q.Close() })
			st, err := sqlite.Open(context.Background(), dbpath)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			qargs := append([]string{"--data-dir", dir, "--queue", "sqlite", "--queue-path", qpath}, common...)
			return pipeline{args: append([]string{"--database", dbpath}, qargs...), qargs: qargs, queue: q, store: st}
		},
		"postgres+sqs": func(t *testing.T) pipeline {
			db := testenv.Postgres(t)
			endpoint := testenv.SQS(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			name := fmt.Sprintf("faults-%d", time.Now().UnixNano())
			q, err := sqsqueue.New(context.Background(), sqsqueue.Config{
				QueueName: name, Endpoint: endpoint, Create: true,
				VisibilityTimeout: time.Second, MaxReceives: maxReceives,
			})
			if err != nil {
				t.Fatal(err)
			}
			st, err := postgres.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			qargs := append([]string{"--data-dir", t.TempDir(), "--queue", "sqs", "--sqs-endpoint", endpoint,
				"--sqs-queue", name}, common...)
			return pipeline{args: append([]string{"--database", db}, qargs...), qargs: qargs, queue: q, store: st}
		},
	}
}

// players are the pool the test matches draw from, so that matches share
// players and their stats add up.
var players = []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"}

func faultOutcome(i int) *skirmishv1.MatchOutcome {
	winner, loser := players[i%len(players)], players[(i+1+i/len(players))%len(players)]
	if winner == loser {
		loser = players[(i+2)%len(players)]
	}
	now := time.Now()
	return &skirmishv1.MatchOutcome{
		SchemaVersion: 1, MatchId: fmt.Sprintf("fault-%04d", i), RoomId: fmt.Sprint("r", i), Mode: "duel",
		StartedAt: timestamppb.New(now.Add(-time.Minute)), EndedAt: timestamppb.New(now),
		EndReason: skirmishv1.EndReason_END_REASON_SCORE_LIMIT,
		Players: []*skirmishv1.PlayerResult{
			{PlayerId: winner, Name: winner, Team: 1, Placement: 1, Eliminations: 10},
			{PlayerId: loser, Name: loser, Team: 2, Placement: 2, Eliminations: 3},
		},
	}
}

func sendOutcomes(t *testing.T, q queue.Queue, from, to int) {
	t.Helper()
	var batch []queue.Outgoing
	for i := from; i < to; i++ {
		o := faultOutcome(i)
		body, err := protojson.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, queue.Outgoing{ID: queue.OutcomeID(o.MatchId), Body: body})
		if len(batch) == queue.MaxBatch || i == to-1 {
			if err := q.Send(context.Background(), batch); err != nil {
				t.Fatalf("Send error: %v", err)
			}
			batch = batch[:0]
		}
	}
}

// wantMatches is how many matches each player has once outcomes 0..n-1
// are each applied exactly once.
func wantMatches(n int) map[string]int64 {
	want := map[string]int64{}
	for i := range n {
		for _, p := range faultOutcome(i).Players {
			want[p.PlayerId]++
		}
	}
	return want
}

// applied sums the players' recorded matches (2 per applied duel).
func applied(t *testing.T, st leaderboard.Store) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	for _, id := range players {
		p, err := st.GetPlayer(context.Background(), id)
		if err == nil {
			got[id] = p.Matches
		}
	}
	return got
}

// waitApplied polls the store until outcomes 0..n-1 are all applied, and
// fails when they are not within limit or when any was applied twice.
func waitApplied(t *testing.T, st leaderboard.Store, n int, limit time.Duration) {
	t.Helper()
	want := wantMatches(n)
	deadline := time.After(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got := applied(t, st)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		for id, w := range want {
			if got[id] > w {
				t.Fatalf("player %s has %d matches, want %d: an outcome was applied twice", id, got[id], w)
			}
		}
		select {
		case <-deadline:
			t.Fatalf("after %v, matches per player = %v, want %v", limit, got, want)
		case <-tick.C:
		}
	}
}

// worker is a `skirmish stats-worker` process.
type worker struct {
	cmd     *exec.Cmd
	applied chan struct{} // a token per outcome it applied
	exited  chan error
}

func startWorker(t *testing.T, args []string) *worker {
	t.Helper()
	all := append([]string{"stats-worker", "--addr", "127.0.0.1:0", "--log-level", "debug", "--pollers", "2"}, args...)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runMainEnv+"="+strings.Join(all, "\n"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, applied: make(chan struct{}, 10000), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "match outcome applied") {
				w.applied <- struct{}{}
			}
			if testing.Verbose() && strings.Contains(sc.Text(), "level=ERROR") {
				fmt.Fprintln(os.Stderr, sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		w.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return w
}

// waitFor waits for n applied outcomes; it reports false when the worker
// exited first or limit passed.
func (w *worker) waitFor(n int, limit time.Duration) bool {
	timeout := time.After(limit)
	for range n {
		select {
		case <-w.applied:
		case <-timeout:
			return false
		}
	}
	return true
}

func (w *worker) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL worker: %v", err)
	}
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("killed worker did not exit")
	}
}

func (w *worker) stop(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.exited:
		if err != nil {
			t.Errorf("worker stopped with %v, want a clean exit", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not stop within 20s of SIGTERM")
	}
}

// Worker processes are SIGKILLed mid-batch, again and again; every outcome
// is still applied exactly once.
func TestFaultWorkerKilledMidBatch(t *testing.T) {
	const outcomes, kills = 120, 4
	for name, open := range pipelines(t, 100) {
		t.Run(name, func(t *testing.T) {
			p := open(t)
			sendOutcomes(t, p.queue, 0, outcomes)
			for k := range kills {
				w := startWorker(t, p.args)
				// Mid-way through a batch of ten of one of its pollers.
				if !w.waitFor(5+k, 30*time.Second) {
					t.Fatalf("worker %d applied nothing within 30s", k)
				}
				w.kill(t)
			}
			w := startWorker(t, p.args)
			waitApplied(t, p.store, outcomes, 40*time.Second)
			w.stop(t)
		})
	}
}

// A message that does not decode moves to the dead-letter queue after
// MaxReceives receives, while the outcomes around it are applied; `skirmish
// dlq list` shows it and `skirmish dlq redrive` puts it back.
func TestFaultMalformedMessageDeadLettered(t *testing.T) {
	for name, open := range pipelines(t, 2) {
		t.Run(name, func(t *testing.T) {
			p := open(t)
			sendOutcomes(t, p.queue, 0, 15)
			if err := p.queue.Send(context.Background(), []queue.Outgoing{{ID: "junk", Body: []byte("{not json")}}); err != nil {
				t.Fatal(err)
			}
			sendOutcomes(t, p.queue, 15, 30)
			w, err := stats.New(stats.Config{Pollers: 2, Wait: time.Second, VisibilityTimeout: time.Second},
				p.queue, p.store, prometheus.NewRegistry(), nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			stopWorker := sync.OnceFunc(func() { cancel(); <-done })
			defer stopWorker()
			waitApplied(t, p.store, 30, 30*time.Second)

			admin := p.queue.(queue.Admin)
			deadline := time.Now().Add(20 * time.Second)
			for {
				d, err := admin.Depth(context.Background())
				if err == nil && d.Dead == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Depth = %+v, %v, want 1 dead letter within 20s", d, err)
				}
				time.Sleep(100 * time.Millisecond) // polling the queue, not waiting for a goroutine
			}
			stopWorker()

			var out bytes.Buffer
			if err := run(context.Background(), append([]string{"dlq", "list"}, p.qargs...), &out, &out); err != nil {
				t.Fatalf("dlq list: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "1 dead letters") || !strings.Contains(out.String(), "undecodable") {
				t.Errorf("dlq list printed\n%s\nwant the undecodable message", out.String())
			}
			out.Reset()
			if err := run(context.Background(), append([]string{"dlq", "redrive"}, p.qargs...), &out, &out); err != nil {
				t.Fatalf("dlq redrive: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "moved 1 dead letters") {
				t.Errorf("dlq redrive printed %q, want 1 moved", out.String())
			}
			msgs, err := p.queue.Receive(context.Background(), 10, 5*time.Second)
			if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "{not json" {
				t.Fatalf("after redrive, Receive = %d messages, %v, want the malformed one", len(msgs), err)
			}
		})
	}
}

// The SQS server is down while matches end: outcomes wait in the outbox and
// all arrive, once, after it returns. SKIRMISH_FAULT_OUTAGE sets how long
// it is down (default 10s; the 30s with SKIRMISH_FAULT_OUTAGE=30s).
func TestFaultSQSOutage(t *testing.T) {
	outage := 10 * time.Second
	if v := os.Getenv("SKIRMISH_FAULT_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SKIRMISH_FAULT_OUTAGE=%q: %v", v, err)
		}
		outage = d
	}
	srv := testenv.StartSQS(t)
	name := fmt.Sprintf("outage-%d", time.Now().UnixNano())
	openQ := func() *sqsqueue.Queue {
		q, err := sqsqueue.New(context.Background(), sqsqueue.Config{
			QueueName: name, Endpoint: srv.Endpoint, Create: true, AccessKeyID: "test", SecretAccessKey: "test",
			VisibilityTimeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	q := openQ()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "lb.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ob, err := outbox.Open(context.Background(), filepath.Join(dir, "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	pub, err := outbox.NewPublisher(outbox.PublisherConfig{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}, ob, q, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := stats.New(stats.Config{Pollers: 2, Wait: time.Second, RetryDelay: 200 * time.Millisecond, VisibilityTimeout: 5 * time.Second},
		q, st, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running atomic.Int32
	done := make(chan error, 2)
	for _, run := range []func(context.Context) error{pub.Run, w.Run} {
		running.Add(1)
		go func() { done <- run(ctx) }()
	}
	defer func() {
		cancel()
		for range running.Load() {
			<-done
		}
	}()
	add := func(from, to int) {
		for i := from; i < to; i++ {
			if err := ob.Add(context.Background(), faultOutcome(i)); err != nil {
				t.Fatalf("outbox Add: %v", err)
			}
		}
	}
	add(0, 10)
	waitApplied(t, st, 10, 20*time.Second)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	add(10, 40)        // matches end while the queue is down
	time.Sleep(outage) // the outage itself
	if n, err := ob.Pending(context.Background()); err != nil || n != 30 {
		t.Fatalf("outbox holds %d outcomes (%v) during the outage, want 30", n, err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	// fauxqs keeps queues in memory: make them again, at the same URL.
	_ = openQ()
	waitApplied(t, st, 40, 40*time.Second)
	if n, err := ob.Pending(context.Background()); err != nil || n != 0 {
		t.Errorf("outbox holds %d outcomes (%v) after they were applied, want 0", n, err)
	}
}
