package matchmaker

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// duel matches alice and bob and returns alice's final ticket.
func (e *env) duel(t testing.TB, a, b string) *skirmishv1.Ticket {
	t.Helper()
	ca, cb := e.as(t, a), e.as(t, b)
	wa, wb := e.watch(t, ca, e.create(t, ca, "duel").GetId()), e.watch(t, cb, e.create(t, cb, "duel").GetId())
	fa, fb := waitFinal(t, wa), waitFinal(t, wb)
	for _, f := range []*skirmishv1.Ticket{fa, fb} {
		if f.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
			t.Fatalf("duel ticket ended %v (%s), want MATCHED", f.GetState(), f.GetFailureReason())
		}
	}
	return fa
}

func (e *env) report(t testing.TB, req *skirmishv1.ReportRoomRequest) {
	t.Helper()
	if _, err := e.gsreg.ReportRoom(e.asService(t), req); err != nil {
		t.Fatalf("ReportRoom(%v): %v", req.GetEvent(), err)
	}
}

// TestBackfill: a running duel that lost a player asks for backfill; the
// next searching player gets the seat through AddSeats, with an assignment
// marked backfill.
func TestBackfill(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond}, nil)
		rs := e.startGameserver(t, "gs1", 0)
		as := e.duel(t, "alice", "bob").GetAssignment()
		e.report(t, &skirmishv1.ReportRoomRequest{
			GameserverId: "gs1", RoomId: as.GetRoomId(), MatchId: as.GetMatchId(), Mode: "duel",
			Event: skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED, OpenSeats: []*skirmishv1.Seat{{Team: 1}},
		})
		carol := e.as(t, "carol")
		final := waitFinal(t, e.watch(t, carol, e.create(t, carol, "duel").GetId()))
		got := final.GetAssignment()
		if final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || !got.GetBackfill() || got.GetRoomId() != as.GetRoomId() || got.GetTeam() != 1 {
			t.Fatalf("carol's ticket = %v, want MATCHED into room %s, team 1, as backfill", final, as.GetRoomId())
		}
		join, err := e.keys.VerifyJoin(got.GetJoinToken())
		if err != nil || join.PlayerID != "carol" || join.RoomID != as.GetRoomId() || join.MatchID != as.GetMatchId() {
			t.Errorf("carol's join token = %+v, %v", join, err)
		}
		select {
		case add := <-rs.adds:
			if add.GetRoomId() != as.GetRoomId() || len(add.GetSeats()) != 1 || add.GetSeats()[0].GetPlayerId() != "carol" || add.GetSeats()[0].GetTeam() != 1 {
				t.Errorf("AddSeats(%v), want carol on team 1 of room %s", add, as.GetRoomId())
			}
		case <-time.After(waitTimeout):
			t.Fatal("no AddSeats call")
		}
		// The seat is filled: the next player waits for a match of their own.
		dave := e.as(t, "dave")
		tk := e.create(t, dave, "duel")
		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: as.GetRoomId(), Event: skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE})
		if _, err := e.mm.CancelTicket(dave, &skirmishv1.CancelTicketRequest{TicketId: tk.GetId()}); err != nil {
			t.Errorf("dave's ticket left the queue: %v", err)
		}
	})
}

// TestRoomEndedFreesSeats: a gameserver with room for one duel takes the
// next one only after the first room ends.
func TestRoomEndedFreesSeats(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond}, nil)
		e.startGameserverCap(t, "gs1", 0, 2)
		as := e.duel(t, "alice", "bob").GetAssignment()
		carol, dave := e.as(t, "carol"), e.as(t, "dave")
		wc := e.watch(t, carol, e.create(t, carol, "duel").GetId())
		wd := e.watch(t, dave, e.create(t, dave, "duel").GetId())
		// Wait until the second pair found no room at least once.
		waitCounter(t, e, "skirmish_matchmaker_allocation_failures_total", "no_gameserver")
		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: as.GetRoomId(), Event: skirmishv1.RoomEvent_ROOM_EVENT_ENDED})
		for _, w := range []<-chan *skirmishv1.Ticket{wc, wd} {
			if final := waitFinal(t, w); final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
				t.Errorf("ticket ended %v (%s) after the room ended, want MATCHED", final.GetState(), final.GetFailureReason())
			}
		}
	})
}

// TestRoomCancelledRequeues: when a room is cancelled because bob never
// joined, alice's ticket goes back to searching at the front of the queue
// and she is matched again; bob's is not requeued, and bob, who did not
// join, waits out a no-show cooldown before he may search again.
func TestRoomCancelledRequeues(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond}, nil)
		e.startGameserver(t, "gs1", 0)
		first := e.duel(t, "alice", "bob")
		as := first.GetAssignment()
		e.report(t, &skirmishv1.ReportRoomRequest{
			GameserverId: "gs1", RoomId: as.GetRoomId(), MatchId: as.GetMatchId(), Mode: "duel",
			Event: skirmishv1.RoomEvent_ROOM_EVENT_CANCELLED, MissingPlayerIds: []string{"bob"},
		})
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		got, err := e.mm.GetTicket(alice, &skirmishv1.GetTicketRequest{TicketId: first.GetId()})
		if err != nil || got.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING || got.GetTicket().GetAssignment() != nil {
			t.Fatalf("alice's ticket after the cancel = %v, %v; want SEARCHING without assignment", got, err)
		}
		if _, err := e.mm.CreateTicket(bob, &skirmishv1.CreateTicketRequest{Mode: "duel"}); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("bob's CreateTicket right after his no-show = %v, want FailedPrecondition", err)
		}
		e.create(t, e.as(t, "carol"), "duel")
		final := waitFinal(t, e.watch(t, alice, first.GetId()))
		if final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || final.GetAssignment().GetRoomId() == as.GetRoomId() {
			t.Errorf("alice's requeued ticket = %v, want MATCHED into a new room", final)
		}
	})
}

func TestReportRoomBadRequests(t *testing.T) {
	e := startMatchmaker(t, Config{})
	service, player := e.asService(t), e.as(t, "alice")
	ok := func(f func(r *skirmishv1.ReportRoomRequest)) *skirmishv1.ReportRoomRequest {
		r := &skirmishv1.ReportRoomRequest{GameserverId: "gs", RoomId: "r", Mode: "duel",
			Event: skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED, OpenSeats: []*skirmishv1.Seat{{Team: 1}}}
		f(r)
		return r
	}
	tests := []struct {
		name  string
		ctx   bool // with a session token instead of a service token
		req   *skirmishv1.ReportRoomRequest
		code  codes.Code
		field string
	}{
		{"session token", true, ok(func(*skirmishv1.ReportRoomRequest) {}), codes.Unauthenticated, ""},
		{"no gameserver", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.GameserverId = "" }), codes.InvalidArgument, "gameserver_id"},
		{"no room", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.RoomId = "" }), codes.InvalidArgument, "room_id"},
		{"no event", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.Event = 0 }), codes.InvalidArgument, "event"},
		{"unknown mode", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.Mode = "chess" }), codes.InvalidArgument, "mode"},
		{"no open seats", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.OpenSeats = nil }), codes.InvalidArgument, "open_seats"},
		{"seat on no team", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.OpenSeats[0].Team = 2 }), codes.InvalidArgument, "open_seats[0].team"},
		{"unknown room ends", false, ok(func(r *skirmishv1.ReportRoomRequest) { r.Event = skirmishv1.RoomEvent_ROOM_EVENT_ENDED }), codes.OK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := service
			if tt.ctx {
				ctx = player
			}
			_, err := e.gsreg.ReportRoom(ctx, tt.req)
			if status.Code(err) != tt.code {
				t.Fatalf("code = %v (%v), want %v", status.Code(err), err, tt.code)
			}
			if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, tt.field) {
				t.Errorf("message %q does not start with the field %q", msg, tt.field)
			}
		})
	}
}

// waitCounter waits until a counter with the label value is above zero.
func waitCounter(t testing.TB, e *env, name, label string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(waitTimeout)
	for {
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
					if l.GetValue() == label && m.GetCounter().GetValue() > 0 {
						return
					}
				}
			}
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%s{%s} still zero after %v", name, label, waitTimeout)
		}
	}
}
