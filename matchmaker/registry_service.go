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
	s.m.registry.heartbeat(gs, time.Now())
	return &skirmishv1.HeartbeatResponse{Interval: durationpb.New(s.m.cfg.HeartbeatInterval)}, nil
}

func (s *registryService) Deregister(ctx context.Context, req *skirmishv1.DeregisterRequest) (*skirmishv1.DeregisterResponse, error) {
	if req.GetGameserverId() == "" {
		return nil, status.Error(codes.InvalidArgument, "gameserver_id: required")
	}
	s.m.registry.deregister(req.GetGameserverId()) // idempotent: a gameserver may retry
	return &skirmishv1.DeregisterResponse{}, nil
}
