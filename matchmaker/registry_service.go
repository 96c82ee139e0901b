package matchmaker

import (
	"context"
	"net"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// registryService serves GameserverRegistryService to gameservers, which
// the auth interceptor has checked hold a service token.
type registryService struct {
	skirmishv1.UnimplementedGameserverRegistryServiceServer
	m *Matchmaker
}

func (s *registryService) Heartbeat(ctx context.Context, req *skirmishv1.HeartbeatRequest) (*skirmishv1.HeartbeatResponse, error) {
	gs := req.GetGameserver()
	switch {
	case gs == nil:
		return nil, status.Error(codes.InvalidArgument, "gameserver: required")
	case gs.GetId() == "" || len(gs.GetId()) > 128:
		return nil, status.Error(codes.InvalidArgument, "gameserver.id: required, at most 128 bytes")
	case gs.GetControlAddress() == "":
		return nil, status.Error(codes.InvalidArgument, "gameserver.control_address: required")
	case gs.GetWebsocketUrl() == "":
		return nil, status.Error(codes.InvalidArgument, "gameserver.websocket_url: required")
	case gs.GetCapacity() == 0:
		return nil, status.Error(codes.InvalidArgument, "gameserver.capacity: must be positive")
	}
	if _, _, err := net.SplitHostPort(gs.GetControlAddress()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "gameserver.control_address: want host:port, got %q", gs.GetControlAddress())
	}
	if err := s.m.store.heartbeat(ctx, gs, time.Now()); err != nil {
		return nil, s.m.storeError(ctx, "heartbeat", err)
	}
	return &skirmishv1.HeartbeatResponse{Interval: durationpb.New(s.m.cfg.HeartbeatInterval)}, nil
}

func (s *registryService) Deregister(ctx context.Context, req *skirmishv1.DeregisterRequest) (*skirmishv1.DeregisterResponse, error) {
	if req.GetGameserverId() == "" {
		return nil, status.Error(codes.InvalidArgument, "gameserver_id: required")
	}
	if err := s.m.store.deregister(ctx, req.GetGameserverId()); err != nil { // idempotent: a gameserver may retry
		return nil, s.m.storeError(ctx, "deregister", err)
	}
	return &skirmishv1.DeregisterResponse{}, nil
}

// ReportRoom applies what a gameserver reports of a room the matchmaker
// allocated. CANCELLED frees the room's seats and puts the tickets whose
// players all joined back at the front of the queue (the players in
// missing_player_ids walked away and are not requeued). ENDED frees the
// seats. STARTED marks the match running (see Config.RoomStartTimeout).
// BACKFILL_WANTED lets searching tickets fill open_seats with
// RoomService.AddSeats; BACKFILL_DONE stops it. Reports of rooms the
// matchmaker does not know are accepted and change nothing, except that a
// backfill request is honoured from the report alone.
func (s *registryService) ReportRoom(ctx context.Context, req *skirmishv1.ReportRoomRequest) (*skirmishv1.ReportRoomResponse, error) {
	switch {
	case req.GetGameserverId() == "" || len(req.GetGameserverId()) > 128:
		return nil, status.Error(codes.InvalidArgument, "gameserver_id: required, at most 128 bytes")
	case req.GetRoomId() == "" || len(req.GetRoomId()) > 128:
		return nil, status.Error(codes.InvalidArgument, "room_id: required, at most 128 bytes")
	case len(req.GetMissingPlayerIds()) > maxMatchPlayers:
		return nil, status.Errorf(codes.InvalidArgument, "missing_player_ids: more than %d", maxMatchPlayers)
	}
	gsID, roomID := req.GetGameserverId(), req.GetRoomId()
	switch req.GetEvent() {
	case skirmishv1.RoomEvent_ROOM_EVENT_CANCELLED:
		seats, requeued, err := s.m.store.roomCancelled(ctx, gsID, roomID, req.GetMissingPlayerIds(), time.Now())
		if err == nil {
			err = s.m.store.free(ctx, gsID, seats)
		}
		if err != nil {
			return nil, s.m.storeError(ctx, "room cancelled", err)
		}
		s.m.log.InfoContext(ctx, "room cancelled", "gameserver", gsID, "room", roomID, "missing", len(req.GetMissingPlayerIds()), "requeued_tickets", requeued)
	case skirmishv1.RoomEvent_ROOM_EVENT_ENDED:
		seats, err := s.m.store.roomEnded(ctx, gsID, roomID)
		if err == nil {
			err = s.m.store.free(ctx, gsID, seats)
		}
		if err != nil {
			return nil, s.m.storeError(ctx, "room ended", err)
		}
	case skirmishv1.RoomEvent_ROOM_EVENT_STARTED:
		if err := s.m.store.roomStarted(ctx, gsID, roomID); err != nil {
			return nil, s.m.storeError(ctx, "room started", err)
		}
	case skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_WANTED:
		mode, ok := s.m.cfg.Modes[req.GetMode()]
		if !ok {
			return nil, status.Errorf(codes.InvalidArgument, "mode: unknown mode %q", req.GetMode())
		}
		if len(req.GetOpenSeats()) == 0 || len(req.GetOpenSeats()) > mode.Players() {
			return nil, status.Errorf(codes.InvalidArgument, "open_seats: want 1 to %d seats, got %d", mode.Players(), len(req.GetOpenSeats()))
		}
		open := make(map[uint32]int)
		for i, seat := range req.GetOpenSeats() {
			if seat.GetTeam() >= uint32(mode.Teams) {
				return nil, status.Errorf(codes.InvalidArgument, "open_seats[%d].team: %d is not below the mode's %d teams", i, seat.GetTeam(), mode.Teams)
			}
			open[seat.GetTeam()]++
		}
		region := ""
		gs, err := s.m.store.gameserver(ctx, gsID, time.Now())
		if err != nil {
			return nil, s.m.storeError(ctx, "backfill wanted", err)
		}
		if gs != nil {
			region = gs.GetRegion()
		}
		if err := s.m.store.wantBackfill(ctx, gsID, roomID, req.GetMatchId(), req.GetMode(), region, open); err != nil {
			return nil, s.m.storeError(ctx, "backfill wanted", err)
		}
	case skirmishv1.RoomEvent_ROOM_EVENT_BACKFILL_DONE:
		if err := s.m.store.backfillDone(ctx, gsID, roomID); err != nil {
			return nil, s.m.storeError(ctx, "backfill done", err)
		}
	default:
		return nil, status.Errorf(codes.InvalidArgument, "event: want STARTED, CANCELLED, ENDED, BACKFILL_WANTED or BACKFILL_DONE, got %v", req.GetEvent())
	}
	return &skirmishv1.ReportRoomResponse{}, nil
}
