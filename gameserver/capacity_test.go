package gameserver

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestCapacityCountsSeatsTaken: a gameserver whose capacity is one ffa
// room of 3 takes backfill in that room however often its players are
// replaced (a leave gives the seat back, the newcomer takes it), its
// heartbeats report 3 players, and a room more does not fit.
func TestCapacityCountsSeatsTaken(t *testing.T) {
	keys := newKeys(t)
	reg, addr := startRegistry(t, keys)
	cfg := Config{MatchmakerAddr: addr, Capacity: 3,
		Modes: arena.Modes(arena.Config{MatchDuration: time.Minute, BackfillMinTimeLeft: time.Second})}
	ts := startServerKeys(t, cfg, keys)
	rooms := skirmishv1.NewRoomServiceClient(ts.grpcConn(t))
	roomID := ts.createRoom(t, "m-cap", "ffa", "p0", "p1", "p2")
	var cs []*client
	for _, p := range []string{"p0", "p1", "p2"} {
		c := ts.dial(t)
		c.join(ts.joinToken(t, roomID, "m-cap", p))
		cs = append(cs, c)
	}
	reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_STARTED)

	for i := range 3 {
		cs[0].send(&skirmishv1.ClientMessage{Msg: &skirmishv1.ClientMessage_Leave{Leave: &skirmishv1.Leave{}}})
		cs = cs[1:]
		reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED)
		newcomer := fmt.Sprint("new", i)
		req := &skirmishv1.AddSeatsRequest{RoomId: roomID, Seats: []*skirmishv1.Seat{{PlayerId: newcomer}}}
		if _, err := rooms.AddSeats(ts.serviceCtx(t), req); err != nil {
			t.Fatalf("AddSeats(%s) after %d players were replaced, at capacity 3: %v", newcomer, i, err)
		}
		reg.nextReport(t, skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE)
		c := ts.dial(t)
		c.join(ts.joinToken(t, roomID, "m-cap", newcomer))
		cs = append(cs, c)
	}
	if gs := ts.srv.describe(false); gs.Players != 3 || gs.Rooms != 1 {
		t.Errorf("heartbeat = %d players in %d rooms, want 3 in 1", gs.Players, gs.Rooms)
	}
	_, err := rooms.CreateRoom(ts.serviceCtx(t), &skirmishv1.CreateRoomRequest{MatchId: "m-more", Mode: "duel",
		Seats: []*skirmishv1.Seat{{PlayerId: "a", Team: 1}, {PlayerId: "b", Team: 2}}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("CreateRoom of 2 more seats on a full server = %v, want ResourceExhausted", err)
	}
}
