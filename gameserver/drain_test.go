package gameserver

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/room"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestDrainKeepsRegistration: on shutdown the gameserver tells the
// matchmaker at once that it drains, keeps heartbeating while its room
// drains, reports the room's end, and deregisters only then, last.
func TestDrainKeepsRegistration(t *testing.T) {
	keys := newKeys(t)
	reg, addr := startRegistry(t, keys)
	ts := startServerKeys(t, Config{MatchmakerAddr: addr, Rooms: room.Config{DrainTimeout: 500 * time.Millisecond}}, keys)
	select {
	case <-reg.heartbeats:
	case <-time.After(wait):
		t.Fatal("no heartbeat")
	}
	ts.createRoom(t, "m-drain", "duel", "alice", "bob") // nobody joins: it waits through the drain
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}

	calls := reg.log()
	draining := slices.Index(calls, "heartbeat draining")
	ended := slices.Index(calls, skirmishv1.RoomEvent_ROOM_EVENT_ENDED.String())
	dereg := slices.Index(calls, "deregister")
	switch {
	case ended < 0 || dereg < 0:
		t.Errorf("calls = %q, want the room's ENDED report and a Deregister", calls)
	case draining < 0 || draining > ended:
		t.Errorf("calls = %q, want a heartbeat marked draining before the room's ENDED report", calls)
	case dereg != len(calls)-1 || dereg < ended:
		t.Errorf("calls = %q, want Deregister last, after the room's ENDED report", calls)
	}
}

// TestDrainStopsBackfill: a room that asked for backfill reports
// BACKFILL_DONE as the drain begins, and AddSeats is refused with
// Unavailable: a newcomer would join a match about to end.
func TestDrainStopsBackfill(t *testing.T) {
	keys := newKeys(t)
	reg, addr := startRegistry(t, keys)
	cfg := Config{MatchmakerAddr: addr, Rooms: room.Config{DrainTimeout: wait},
		Modes: arena.Modes(arena.Config{MatchDuration: time.Minute, BackfillMinTimeLeft: time.Second})}
	ts := startServerKeys(t, cfg, keys)
	rooms := skirmishv1.NewRoomServiceClient(ts.grpcConn(t))
	roomID := ts.createRoom(t, "m-drain-bf", "ffa", "p0", "p1", "p2")
	var cs []*client
	for _, p := range []string{"p0", "p1", "p2"} {
		c := ts.dial(t)
		c.join(ts.joinToken(t, roomID, "m-drain-bf", p))
		cs = append(cs, c)
	}
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_STARTED)
	leave := &skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}}
	cs[0].send(leave)
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED)

	stopped := make(chan error, 1)
	go func() { stopped <- ts.stop() }()
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE)
	_, err := rooms.AddSeats(ts.serviceCtx(t), &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: "late"}}})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("AddSeats while draining = %v, want Unavailable", err)
	}

	for _, c := range cs[1:] { // the match ends when everyone has left
		c.send(leave)
	}
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_ENDED)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after the room ended")
	}
}
