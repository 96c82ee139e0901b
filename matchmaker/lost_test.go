package matchmaker

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/skirmishgg/skirmish/internal/auth"
	outcomequeue "github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
	"github.com/skirmishgg/skirmish/internal/testenv"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// counterValue returns the value of a counter with the label value, or 0.
func counterValue(t testing.TB, e *env, name, label string) float64 {
	t.Helper()
	families, err := e.prom.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestDeadGameserverCostsOneAllocation: a gameserver that died while its
// registration is still fresh fails one CreateRoom; every later match goes
// to the live one.
func TestDeadGameserverCostsOneAllocation(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond, GameserverTTL: time.Minute}, nil)
		dead := e.startGameserver(t, "gs1", 0) // ties on load go to gs1
		e.startGameserver(t, "gs2", 0)
		dead.stop() // its registration stays fresh for a minute

		first := e.duel(t, "p0", "p1")
		if first.GetAssignment().GetWebsocketUrl() != "ws://gs2/ws" {
			t.Errorf("first match went to %s, want gs2", first.GetAssignment().GetWebsocketUrl())
		}
		var wg sync.WaitGroup
		for i := range 4 {
			a, b := "a"+string(rune('0'+i)), "b"+string(rune('0'+i))
			wg.Go(func() {
				ctxA, ctxB := e.as(t, a), e.as(t, b)
				ta, tb := e.create(t, ctxA, "duel"), e.create(t, ctxB, "duel")
				for _, f := range []*skirmishv1.Ticket{waitFinal(t, e.watch(t, ctxA, ta.GetId())), waitFinal(t, e.watch(t, ctxB, tb.GetId()))} {
					if f.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || f.GetAssignment().GetWebsocketUrl() != "ws://gs2/ws" {
						t.Errorf("ticket ended %v on %q, want MATCHED on gs2", f.GetState(), f.GetAssignment().GetWebsocketUrl())
					}
				}
			})
		}
		wg.Wait()
		if n := counterValue(t, e, "skirmish_matchmaker_allocation_failures_total", "create_room"); n != 1 {
			t.Errorf("failed CreateRoom calls = %v, want 1", n)
		}
	})
}

// heartbeatUntil heartbeats the room server every 20ms until the returned
// function is called (the gameserver dies); then it waits for the loop.
func (e *env) heartbeatUntil(t testing.TB, rs *roomServer) (kill func()) {
	t.Helper()
	tok, err := e.keys.IssueService(auth.KindRegistry, "gameserver", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Not e.asService: its context ends after waitTimeout, and a benchmark
	// heartbeats for longer.
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			e.gsreg.Heartbeat(ctx, &skirmishv1.HeartbeatRequest{Gameserver: rs.info})
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	var once sync.Once
	kill = func() {
		once.Do(func() {
			cancel()
			<-done
			rs.stop()
		})
	}
	t.Cleanup(kill)
	return kill
}

// TestLostGameserver: when a gameserver stops heartbeating, its running
// match is recorded on the outcome queue as lost with the server (players
// and teams, no results), and the tickets of its room that had not started
// go back to the queue and match on another gameserver.
func TestLostGameserver(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		q, err := litequeue.Open(context.Background(), filepath.Join(t.TempDir(), "outcomes.db"), litequeue.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		cfg := Config{FormationInterval: 10 * time.Millisecond, GameserverTTL: 300 * time.Millisecond}
		e := startWithQueue(t, start, cfg, q)
		rs := e.startGameserver(t, "gs1", 0)
		kill := e.heartbeatUntil(t, rs)

		running := e.duel(t, "alice", "bob")
		e.report(t, &skirmishv1.ReportRoomRequest{
			GameserverId: "gs1", RoomId: running.GetAssignment().GetRoomId(), MatchId: running.GetAssignment().GetMatchId(),
			Mode: "duel", Event: skirmishv1.RoomEvent_ROOM_EVENT_STARTED,
		})
		waiting := e.duel(t, "carol", "dave")
		kill()

		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		var msgs []litequeueMessage
		for len(msgs) == 0 && ctx.Err() == nil {
			got, err := q.Receive(ctx, 10, 200*time.Millisecond)
			if err != nil && ctx.Err() == nil {
				t.Fatalf("Receive: %v", err)
			}
			for _, m := range got {
				msgs = append(msgs, litequeueMessage{m.Body})
			}
		}
		if len(msgs) != 1 {
			t.Fatalf("outcomes on the queue = %d, want 1", len(msgs))
		}
		var o skirmishv1.MatchOutcome
		if err := protojson.Unmarshal(msgs[0].body, &o); err != nil {
			t.Fatalf("decode outcome: %v", err)
		}
		if o.GetEndReason() != skirmishv1.EndReason_END_REASON_SERVER_LOST || o.GetMatchId() != running.GetAssignment().GetMatchId() ||
			o.GetGameserverId() != "gs1" || o.GetSchemaVersion() != 1 || len(o.GetPlayers()) != 2 {
			t.Errorf("outcome = %v, want SERVER_LOST of match %s with 2 players", &o, running.GetAssignment().GetMatchId())
		}
		teams := map[uint32]bool{}
		for _, p := range o.GetPlayers() {
			teams[p.GetTeam()] = true
			if p.GetEliminations() != 0 || p.GetPlacement() != 0 {
				t.Errorf("player %v carries results", p)
			}
		}
		if len(teams) != 2 {
			t.Errorf("teams of the lost duel = %v, want two", teams)
		}

		// carol's room never started: her ticket searches again, and
		// matches once a gameserver is there.
		carol := e.as(t, "carol")
		waitState(t, e, carol, waiting.GetId(), skirmishv1.TicketState_TICKET_STATE_SEARCHING)
		e.startGameserver(t, "gs2", 0)
		final := waitFinal(t, e.watch(t, carol, waiting.GetId()))
		if final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || final.GetAssignment().GetWebsocketUrl() != "ws://gs2/ws" {
			t.Errorf("carol's requeued ticket = %v, want MATCHED on gs2", final)
		}
		got, err := e.mm.GetTicket(e.as(t, "alice"), &skirmishv1.GetTicketRequest{TicketId: running.GetId()})
		if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
			t.Errorf("alice's ticket of the lost running match = %v, %v; want it left MATCHED", got, err)
		}
	})
}

type litequeueMessage struct{ body []byte }

// TestServerLostThenRealOutcomeOnFIFOQueue: on a FIFO SQS queue, which
// accepts and then drops a message whose deduplication id it saw in the
// last five minutes, the matchmaker's server_lost record of a match does
// not stand in the way of the gameserver's own outcome of it. The
// gameserver was only cut off; after the record was received and deleted,
// its outbox sends the real outcome (twice: a retry), which arrives once.
func TestServerLostThenRealOutcomeOnFIFOQueue(t *testing.T) {
	endpoint := testenv.SQS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
	defer cancel()
	q, err := sqsqueue.New(ctx, sqsqueue.Config{
		QueueName: "lost-outcomes.fifo", Endpoint: endpoint, Create: true, VisibilityTimeout: 30 * time.Second,
		AccessKeyID: "test", SecretAccessKey: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := startMatchmakerWith(t, Config{FormationInterval: 10 * time.Millisecond, GameserverTTL: 300 * time.Millisecond}, nil,
		WithOutcomeQueue(q))
	rs := e.startGameserver(t, "gs1", 0)
	kill := e.heartbeatUntil(t, rs)
	running := e.duel(t, "alice", "bob")
	matchID := running.GetAssignment().GetMatchId()
	e.report(t, &skirmishv1.ReportRoomRequest{
		GameserverId: "gs1", RoomId: running.GetAssignment().GetRoomId(), MatchId: matchID,
		Mode: "duel", Event: skirmishv1.RoomEvent_ROOM_EVENT_STARTED,
	})
	kill()

	lost := receiveOutcomes(t, ctx, q, 1)
	if lost[0].GetEndReason() != skirmishv1.EndReason_END_REASON_SERVER_LOST || lost[0].GetMatchId() != matchID {
		t.Fatalf("first outcome = %v, want SERVER_LOST of match %s", lost[0], matchID)
	}
	real := &skirmishv1.MatchOutcome{
		SchemaVersion: 1, MatchId: matchID, RoomId: running.GetAssignment().GetRoomId(), Mode: "duel", GameserverId: "gs1",
		EndReason: skirmishv1.EndReason_END_REASON_SCORE_LIMIT,
	}
	body, err := protojson.Marshal(real)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := q.Send(ctx, []outcomequeue.Outgoing{{ID: outcomequeue.OutcomeID(matchID), Body: body}}); err != nil {
			t.Fatalf("Send(the real outcome) error: %v", err)
		}
	}
	got := receiveOutcomes(t, ctx, q, 1)
	if got[0].GetEndReason() != skirmishv1.EndReason_END_REASON_SCORE_LIMIT || got[0].GetMatchId() != matchID {
		t.Fatalf("outcome after the server_lost record = %v, want the real one of match %s", got[0], matchID)
	}
	if more, err := q.Receive(ctx, 10, time.Second); err != nil || len(more) != 0 {
		t.Fatalf("Receive after both outcomes = %d messages, %v; want none (the retry deduplicated)", len(more), err)
	}
}

// receiveOutcomes receives n outcomes from q, deleting each, and fails the
// test when they do not arrive before ctx ends.
func receiveOutcomes(t *testing.T, ctx context.Context, q outcomequeue.Queue, n int) []*skirmishv1.MatchOutcome {
	t.Helper()
	var out []*skirmishv1.MatchOutcome
	for len(out) < n {
		msgs, err := q.Receive(ctx, n-len(out), time.Second)
		if err != nil {
			t.Fatalf("Receive error after %d of %d outcomes: %v", len(out), n, err)
		}
		for _, m := range msgs {
			o := &skirmishv1.MatchOutcome{}
			if err := protojson.Unmarshal(m.Body, o); err != nil {
				t.Fatalf("decode outcome: %v", err)
			}
			out = append(out, o)
			if err := q.Delete(ctx, []string{m.ReceiptHandle}); err != nil {
				t.Fatalf("Delete error: %v", err)
			}
		}
	}
	return out
}

// waitState waits until GetTicket shows the state.
func waitState(t testing.TB, e *env, ctx context.Context, id string, want skirmishv1.TicketState) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(waitTimeout)
	for {
		got, err := e.mm.GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: id})
		if err == nil && got.GetTicket().GetState() == want {
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("ticket %s = %v, %v; want %v within %v", id, got, err, want, waitTimeout)
		}
	}
}
