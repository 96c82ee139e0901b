package matchmaker

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// gaugeValue returns the value of a gauge with the label value, or 0.
func gaugeValue(t testing.TB, e *env, name, label string) float64 {
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
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// waitGauge waits until the gauge with the label value reads want.
func waitGauge(t testing.TB, e *env, name, label string, want float64) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(waitTimeout)
	for gaugeValue(t, e, name, label) != want {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%s{%s} = %v, want %v within %v", name, label, gaugeValue(t, e, name, label), want, waitTimeout)
		}
	}
}

// TestDeregisterKeepsRooms: a gameserver that deregisters while rooms it
// hosts are still known (it drained them, or it is of an older version
// that deregistered as its drain began) leaves them to their reports, on
// either store: after the matchmaker has swept its registry, a player of
// a running match still refreshes a join token, a cancelled room still
// requeues the players who came and gives the no-show a cooldown, and an
// ended room is gone.
func TestDeregisterKeepsRooms(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond}, nil)
		rs := e.startGameserver(t, "gs1", 0)
		waiting := e.duel(t, "alice", "bob") // bob never joins
		running := e.duel(t, "carol", "dave")
		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: running.GetAssignment().GetRoomId(),
			MatchId: running.GetAssignment().GetMatchId(), Mode: "duel", Event: skirmishv1.RoomEvent_ROOM_EVENT_STARTED})

		// The gameserver drains, then deregisters; a sweep of the
		// registry follows (it counts no gameserver in any state).
		rs.info.Draining = true
		e.heartbeat(t, rs)
		waitGauge(t, e, "skirmish_matchmaker_gameservers", "draining", 1)
		if _, err := e.gsreg.Deregister(e.asService(t), &skirmishv1.DeregisterRequest{GameserverId: "gs1"}); err != nil {
			t.Fatalf("Deregister: %v", err)
		}
		waitGauge(t, e, "skirmish_matchmaker_gameservers", "draining", 0)

		refresh := func(player string, tk *skirmishv1.Ticket) error {
			t.Helper()
			join, err := e.keys.VerifyJoin(tk.GetAssignment().GetJoinToken())
			if err != nil {
				t.Fatal(err)
			}
			expired, err := e.keys.IssueJoin(join, -time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.mm.RefreshJoinToken(e.as(t, player), &skirmishv1.RefreshJoinTokenRequest{JoinToken: expired})
			return err
		}
		if err := refresh("carol", running); err != nil {
			t.Errorf("RefreshJoinToken(carol) after Deregister = %v, want a token: her match still runs", err)
		}

		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: waiting.GetAssignment().GetRoomId(),
			Event: skirmishv1.RoomEvent_ROOM_EVENT_CANCELLED, MissingPlayerIds: []string{"bob"}})
		got, err := e.mm.GetTicket(e.as(t, "alice"), &skirmishv1.GetTicketRequest{TicketId: waiting.GetId()})
		if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
			t.Errorf("alice's ticket after her room was cancelled = %v, %v; want SEARCHING", got.GetTicket().GetState(), err)
		}
		_, err = e.mm.CreateTicket(e.as(t, "bob"), &skirmishv1.CreateTicketRequest{Mode: "duel"})
		if status.Code(err) != codes.FailedPrecondition {
			t.Errorf("CreateTicket(bob) after his no-show = %v, want FailedPrecondition (cooldown)", err)
		}

		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: running.GetAssignment().GetRoomId(),
			Event: skirmishv1.RoomEvent_ROOM_EVENT_ENDED})
		if err := refresh("carol", running); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("RefreshJoinToken(carol) after her match ended = %v, want FailedPrecondition", err)
		}
	})
}

// TestDrainingGameserverGetsNoAllocations: a gameserver whose heartbeat
// says it drains gets neither a new room nor backfill for a room it asked
// to fill before: the players go to another gameserver.
func TestDrainingGameserverGetsNoAllocations(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, fastConfig(), nil)
		rs := e.startGameserver(t, "gs1", 0)
		as := e.duel(t, "alice", "bob").GetAssignment()
		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: as.GetRoomId(), MatchId: as.GetMatchId(),
			Mode: "duel", Event: skirmishv1.RoomEvent_ROOM_EVENT_STARTED})
		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: as.GetRoomId(), MatchId: as.GetMatchId(),
			Mode: "duel", Event: skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED, OpenSeats: []*skirmishv1.Seat{{Team: 1}}})
		rs.info.Draining = true
		e.heartbeat(t, rs)
		e.startGameserver(t, "gs2", 0)

		carol, dave := e.as(t, "carol"), e.as(t, "dave")
		wc := e.watch(t, carol, e.create(t, carol, "duel").GetId())
		wd := e.watch(t, dave, e.create(t, dave, "duel").GetId())
		for name, ch := range map[string]<-chan *skirmishv1.Ticket{"carol": wc, "dave": wd} {
			f := waitFinal(t, ch)
			if f.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || f.GetAssignment().GetWebsocketUrl() != "ws://gs2/ws" || f.GetAssignment().GetBackfill() {
				t.Errorf("%s's ticket = %v on %q (backfill %v), want MATCHED in a new room on gs2", name,
					f.GetState(), f.GetAssignment().GetWebsocketUrl(), f.GetAssignment().GetBackfill())
			}
		}
		select {
		case add := <-rs.adds:
			t.Errorf("the draining gameserver got AddSeats(%v)", add)
		default:
		}
		if n := len(rs.calls); n != 1 {
			t.Errorf("the draining gameserver got %d CreateRoom calls, want 1 (alice and bob's, before it drained)", n)
		}
	})
}

// TestRoomsOfDeregisteredGameserverExpire: a room whose end is never
// reported is not kept for ever once its gameserver deregistered: the
// memory store forgets it roomTTL after its last change, and the Redis
// store's record and the gameserver's index of rooms carry that TTL (a
// heartbeat takes the index's away again).
func TestRoomsOfDeregisteredGameserverExpire(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	gs := &skirmishv1.Gameserver{Id: "gs1", ControlAddress: "127.0.0.1:1", WebsocketUrl: "ws://gs1/ws", Capacity: 10}
	open := map[uint32]int{1: 1}
	plant := func(t *testing.T, st store) time.Time {
		t.Helper()
		start := time.Now()
		if err := st.heartbeat(t.Context(), gs, start); err != nil {
			t.Fatal(err)
		}
		if err := st.wantBackfill(t.Context(), "gs1", "room-1", "m-1", "duel", "", open); err != nil {
			t.Fatal(err)
		}
		if err := st.deregister(t.Context(), "gs1"); err != nil {
			t.Fatal(err)
		}
		return start
	}
	live := func(t *testing.T, st store) bool {
		t.Helper()
		ok, err := st.roomLive(t.Context(), "gs1", "room-1")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	t.Run("memory", func(t *testing.T) {
		st := storeBackends(cfg)["memory"](t).st
		start := plant(t, st)
		for _, tt := range []struct {
			after time.Duration
			want  bool
		}{{0, true}, {roomTTL - time.Minute, true}, {roomTTL + time.Minute, false}} {
			if _, err := st.sweep(t.Context(), start.Add(tt.after)); err != nil {
				t.Fatal(err)
			}
			if got := live(t, st); got != tt.want {
				t.Errorf("room live after a sweep %v on = %v, want %v", tt.after, got, tt.want)
			}
		}
	})
	t.Run("redis", func(t *testing.T) {
		st := storeBackends(cfg)["redis"](t).st.(*redisStore)
		plant(t, st)
		if _, err := st.sweep(t.Context(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if !live(t, st) {
			t.Fatal("room gone after Deregister and a sweep, want it kept")
		}
		for _, key := range []string{st.roomKey("gs1", "room-1"), st.p + "gsrooms:gs1"} {
			if ttl := st.c.TTL(t.Context(), key).Val(); ttl <= 0 || ttl > roomTTL {
				t.Errorf("TTL(%s) = %v, want up to %v", key, ttl, roomTTL)
			}
		}
		if err := st.heartbeat(t.Context(), gs, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ttl := st.c.TTL(t.Context(), st.p+"gsrooms:gs1").Val(); ttl != -1 {
			t.Errorf("TTL(gsrooms:gs1) after a heartbeat = %v, want none (-1)", ttl)
		}
	})
}
