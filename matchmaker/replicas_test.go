package matchmaker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func startReplica(t testing.TB, cfg Config, base *env, c *redis.Client, prefix, id string, opts ...Option) *env {
	t.Helper()
	opts = append([]Option{WithRedis(c, prefix), WithReplicaID(id)}, opts...)
	if base == nil {
		return startMatchmakerKeys(t, cfg, testKeys(t), nil, opts...)
	}
	return startMatchmakerKeys(t, cfg, base.keys, nil, opts...)
}

// TestReplicasNeverDoubleMatch: players try to create a ticket on each of
// two replicas at once, while no gameserver is there; each gets exactly
// one, and once a gameserver comes, tickets made on different replicas
// match each other and no player is seated in two rooms.
func TestReplicasNeverDoubleMatch(t *testing.T) {
	c, prefix := redisFor(t)
	cfg := Config{FormationInterval: 10 * time.Millisecond}
	a := startReplica(t, cfg, nil, c, prefix, "a")
	b := startReplica(t, cfg, a, c, prefix, "b")
	const players = 40
	var wg sync.WaitGroup
	created := make(chan struct {
		player string
		e      *env
		id     string
	}, 2*players)
	for i := range players {
		player := fmt.Sprintf("p%02d", i)
		for _, e := range []*env{a, b} {
			wg.Go(func() {
				resp, err := e.mm.CreateTicket(e.as(t, player), &skirmishv1.CreateTicketRequest{Mode: "duel"})
				switch status.Code(err) {
				case codes.OK:
					created <- struct {
						player string
						e      *env
						id     string
					}{player, e, resp.GetTicket().GetId()}
				case codes.AlreadyExists:
				default:
					t.Errorf("CreateTicket(%s) = %v", player, err)
				}
			})
		}
	}
	wg.Wait()
	close(created)
	// Matches form only now that every ticket exists: a player whose first
	// ticket was already matched may rightly start a second search.
	rs := a.startGameserver(t, "gs1", 0)
	a.heartbeatUntil(t, rs) // the test may outlast the gameserver TTL
	got := map[string]int{}
	for cr := range created {
		got[cr.player]++
		// Watch on the other replica than the one that made the ticket.
		other := b
		if cr.e == b {
			other = a
		}
		final := waitFinal(t, other.watch(t, other.as(t, cr.player), cr.id))
		if final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
			t.Errorf("%s's ticket ended %v (%s), want MATCHED", cr.player, final.GetState(), final.GetFailureReason())
		}
	}
	for i := range players {
		if p := fmt.Sprintf("p%02d", i); got[p] != 1 {
			t.Errorf("%s has %d tickets, want 1", p, got[p])
		}
	}
	seated := map[string]string{}
	for range players / 2 {
		select {
		case req := <-rs.calls:
			for _, s := range req.GetSeats() {
				if m, ok := seated[s.GetPlayerId()]; ok {
					t.Errorf("%s seated in match %s and %s", s.GetPlayerId(), m, req.GetMatchId())
				}
				seated[s.GetPlayerId()] = req.GetMatchId()
			}
		case <-time.After(waitTimeout):
			t.Fatalf("%d players seated, want %d", len(seated), players)
		}
	}
	select {
	case req := <-rs.calls:
		t.Errorf("extra CreateRoom %v", req)
	default:
	}
}

// TestTicketOnAnyReplica: a ticket made on one replica is read, watched
// and cancelled on the other, and its watcher on the first sees the cancel.
func TestTicketOnAnyReplica(t *testing.T) {
	c, prefix := redisFor(t)
	a := startReplica(t, Config{}, nil, c, prefix, "a")
	b := startReplica(t, Config{}, a, c, prefix, "b")
	alice := a.as(t, "alice")
	tk := a.create(t, alice, "duel")
	got, err := b.mm.GetTicket(alice, &skirmishv1.GetTicketRequest{TicketId: tk.GetId()})
	if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		t.Fatalf("GetTicket on the other replica = %v, %v; want SEARCHING", got, err)
	}
	if _, err := b.mm.GetTicket(b.as(t, "bob"), &skirmishv1.GetTicketRequest{TicketId: tk.GetId()}); status.Code(err) != codes.NotFound {
		t.Errorf("bob's GetTicket of alice's ticket = %v, want NotFound", err)
	}
	wa, wb := a.watch(t, alice, tk.GetId()), b.watch(t, alice, tk.GetId())
	for _, w := range []<-chan *skirmishv1.Ticket{wa, wb} {
		if first := <-w; first.GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
			t.Fatalf("first watch update = %v, want SEARCHING", first)
		}
	}
	if _, err := b.mm.CreateTicket(alice, &skirmishv1.CreateTicketRequest{Mode: "ffa"}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("second ticket on the other replica = %v, want AlreadyExists", err)
	}
	resp, err := b.mm.CancelTicket(alice, &skirmishv1.CancelTicketRequest{TicketId: tk.GetId()})
	if err != nil || resp.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
		t.Fatalf("CancelTicket on the other replica = %v, %v", resp, err)
	}
	for name, w := range map[string]<-chan *skirmishv1.Ticket{"a": wa, "b": wb} {
		if final := waitFinal(t, w); final.GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
			t.Errorf("watcher on replica %s ended with %v, want CANCELLED", name, final.GetState())
		}
	}
	a.create(t, alice, "ffa") // free again, on either replica
}

// TestRestartKeepsTickets: every matchmaker process stops and new ones
// start on the same Redis; searching tickets and the assignments of
// matched ones are still there, and the searching ones still match.
func TestRestartKeepsTickets(t *testing.T) {
	c, prefix := redisFor(t)
	cfg := Config{FormationInterval: 10 * time.Millisecond}
	first := startReplica(t, cfg, nil, c, prefix, "a")
	rs := first.startGameserver(t, "gs1", 0)
	first.heartbeatUntil(t, rs) // the test may outlast the gameserver TTL
	matched := first.duel(t, "bob", "carol")
	alice := first.as(t, "alice")
	searching := first.create(t, alice, "duel")
	if err := first.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	second := startReplica(t, cfg, first, c, prefix, "a2")
	got, err := second.mm.GetTicket(second.as(t, "bob"), &skirmishv1.GetTicketRequest{TicketId: matched.GetId()})
	if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED ||
		got.GetTicket().GetAssignment().GetRoomId() != matched.GetAssignment().GetRoomId() ||
		got.GetTicket().GetAssignment().GetJoinToken() != matched.GetAssignment().GetJoinToken() {
		t.Errorf("matched ticket after the restart = %v, %v; want MATCHED with its assignment %v", got, err, matched.GetAssignment())
	}
	got, err = second.mm.GetTicket(alice, &skirmishv1.GetTicketRequest{TicketId: searching.GetId()})
	if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		t.Fatalf("searching ticket after the restart = %v, %v; want SEARCHING", got, err)
	}
	second.heartbeat(t, rs)
	w := second.watch(t, alice, searching.GetId())
	second.create(t, second.as(t, "dave"), "duel")
	if final := waitFinal(t, w); final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
		t.Errorf("alice's ticket from before the restart ended %v (%s), want MATCHED", final.GetState(), final.GetFailureReason())
	}
}

// TestFencedFormerCannotCommit holds a replica's pass between formation
// and commit until its lease has passed to another replica, which matches
// the same tickets; the paused replica's commit must fail.
func TestFencedFormerCannotCommit(t *testing.T) {
	c, prefix := redisFor(t)
	cfg := Config{FormationInterval: 10 * time.Millisecond, LeaseTTL: 200 * time.Millisecond}
	paused, resume := make(chan struct{}), make(chan struct{})
	won := make(chan int, 1)
	var once sync.Once
	first := true
	hooks := storeHooks{
		beforeClaim: func() {
			if first {
				close(paused)
				<-resume
			}
		},
		afterClaim: func(n int) {
			if first {
				first = false
				won <- n
			}
		},
	}
	a := startReplica(t, cfg, nil, c, prefix, "a", withHooks(hooks))
	t.Cleanup(func() { once.Do(func() { close(resume) }) })
	waitLease(t, c, prefix, "a")
	b := startReplica(t, cfg, a, c, prefix, "b")
	rs := a.startGameserver(t, "gs1", 0)
	a.heartbeatUntil(t, rs) // the test may outlast the gameserver TTL
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	ta, tb := a.create(t, alice, "duel"), b.create(t, bob, "duel")
	select {
	case <-paused:
	case <-time.After(waitTimeout):
		t.Fatal("replica a formed no match")
	}
	// a is stuck between its read and its commit; its lease lapses, b
	// takes it and matches the same two tickets.
	fa := waitFinal(t, b.watch(t, alice, ta.GetId()))
	fb := waitFinal(t, b.watch(t, bob, tb.GetId()))
	if fa.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || fb.GetAssignment().GetMatchId() != fa.GetAssignment().GetMatchId() {
		t.Fatalf("tickets ended %v and %v, want one match", fa, fb)
	}
	once.Do(func() { close(resume) })
	select {
	case n := <-won:
		if n != 0 {
			t.Errorf("the fenced replica committed %d matches, want 0", n)
		}
	case <-time.After(waitTimeout):
		t.Fatal("replica a never finished its pass")
	}
	<-rs.calls
	select {
	case req := <-rs.calls:
		t.Errorf("second CreateRoom %v after the fenced commit", req)
	default:
	}
}

// TestLeaseEpochFences: a former whose lease passed to another holder
// commits nothing even though its tickets are untouched, at the version it
// read; once it holds the lease again it matches them.
func TestLeaseEpochFences(t *testing.T) {
	c, prefix := redisFor(t)
	cfg := Config{FormationInterval: 10 * time.Millisecond, LeaseTTL: time.Minute}
	paused, resume := make(chan struct{}), make(chan struct{})
	won := make(chan int, 1)
	var once sync.Once
	first := true
	a := startReplica(t, cfg, nil, c, prefix, "a", withHooks(storeHooks{
		beforeClaim: func() {
			if first {
				close(paused)
				<-resume
			}
		},
		afterClaim: func(n int) {
			if first {
				first = false
				won <- n
			}
		},
	}))
	t.Cleanup(func() { once.Do(func() { close(resume) }) })
	rs := a.startGameserver(t, "gs1", 0)
	a.heartbeatUntil(t, rs) // the test may outlast the gameserver TTL
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	ta, tb := a.create(t, alice, "duel"), a.create(t, bob, "duel")
	<-paused
	// Another holder takes the lease (as after a's lease expired).
	ctx := context.Background()
	if err := c.Set(ctx, prefix+"lease", "99|other", 0).Err(); err != nil {
		t.Fatal(err)
	}
	once.Do(func() { close(resume) })
	if n := <-won; n != 0 {
		t.Fatalf("the fenced former committed %d matches, want 0", n)
	}
	for _, tk := range []*skirmishv1.Ticket{ta, tb} {
		got, err := a.mm.GetTicket(a.as(t, tk.GetPlayerIds()[0]), &skirmishv1.GetTicketRequest{TicketId: tk.GetId()})
		if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
			t.Errorf("ticket after the fenced commit = %v, %v; want still SEARCHING", got, err)
		}
	}
	select {
	case req := <-rs.calls:
		t.Fatalf("CreateRoom %v from a fenced former", req)
	default:
	}
	if err := c.Del(ctx, prefix+"lease").Err(); err != nil { // the other holder's lease ends
		t.Fatal(err)
	}
	if final := waitFinal(t, a.watch(t, alice, ta.GetId())); final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
		t.Errorf("ticket ended %v once a held the lease again, want MATCHED", final.GetState())
	}
}

// waitLease waits until the replica holds the formation lease.
func waitLease(t testing.TB, c *redis.Client, prefix, replica string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(waitTimeout)
	for {
		v, _ := c.Get(context.Background(), prefix+"lease").Result()
		if strings.HasSuffix(v, "|"+replica) {
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("replica %s never held the lease (it is %q)", replica, v)
		}
	}
}
