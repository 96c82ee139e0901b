package stats_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestServerLostThenRealOutcomeOnFIFOQueue: through a FIFO SQS queue, the
// matchmaker's server_lost record of a match is applied, then the
// gameserver's own outcome of it, sent a moment later with its own message
// id, replaces it and counts once; a resend of either (same id) is
// dropped by the queue, and would change nothing if it came.
func TestServerLostThenRealOutcomeOnFIFOQueue(t *testing.T) {
	endpoint := testenv.SQS(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q, err := sqsqueue.New(ctx, sqsqueue.Config{
		QueueName: "stats-lost.fifo", Endpoint: endpoint, Create: true, VisibilityTimeout: 30 * time.Second,
		AccessKeyID: "test", SecretAccessKey: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w, err := stats.New(stats.Config{Wait: time.Second}, q, store, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, w)
	defer stop()

	real := outcome("m1", "alice", "bob")
	lost := &skirmishv1.MatchOutcome{
		SchemaVersion: 1, MatchId: "m1", RoomId: "r-m1", Mode: "duel", GameserverId: "gs1",
		StartedAt: real.GetStartedAt(), EndedAt: real.GetEndedAt(),
		EndReason: skirmishv1.EndReason_END_REASON_SERVER_LOST,
		Players: []*skirmishv1.PlayerResult{
			{PlayerId: "alice", Name: "alice", Team: 1}, {PlayerId: "bob", Name: "bob", Team: 2},
		},
	}
	send := func(id string, o *skirmishv1.MatchOutcome) {
		for range 2 { // the publisher's retry
			if err := q.Send(ctx, []queue.Outgoing{{ID: id, Body: encode(t, o)}}); err != nil {
				t.Fatalf("Send(%s) error: %v", id, err)
			}
		}
	}
	send(queue.ServerLostID("m1"), lost)
	waitRecorded(t, ctx, store, "m1", leaderboard.EndServerLost)
	send(queue.OutcomeID("m1"), real)
	waitRecorded(t, ctx, store, "m1", leaderboard.EndScoreLimit)
	waitDrained(t, ctx, q)
	stop()

	for id, wins := range map[string]int64{"alice": 1, "bob": 0} {
		p, err := store.GetPlayer(ctx, id)
		if err != nil || p.Matches != 1 || p.Wins != wins {
			t.Errorf("GetPlayer(%s) = %+v, %v; want 1 match, %d wins: the real outcome, counted once", id, p, err, wins)
		}
	}
}

// waitRecorded waits until the store holds the match with the end reason.
func waitRecorded(t *testing.T, ctx context.Context, store leaderboard.Store, id, reason string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		m, err := store.GetMatch(ctx, id)
		if err == nil && m.EndReason == reason {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GetMatch(%s) = %+v, %v; want end reason %s", id, m, err, reason)
		case <-tick.C:
		}
	}
}

// waitDrained waits until the queue holds no message, visible or in flight.
func waitDrained(t *testing.T, ctx context.Context, q *sqsqueue.Queue) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := q.Depth(ctx)
		if err == nil && d.Visible == 0 && d.InFlight == 0 && d.Dead == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("queue depth = %+v, %v; want empty", d, err)
		case <-tick.C:
		}
	}
}
