package gameserver

import (
	"context"
	"errors"
	"strings"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	grpcauth "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/serve"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// newGRPC builds the internal gRPC server: RoomService behind
// service-token authentication, health and reflection open.
func newGRPC(s *Server, reg prometheus.Registerer) *grpc.Server {
	m := grpcprom.NewServerMetrics()
	reg.MustRegister(m)
	authn := func(ctx context.Context) (context.Context, error) {
		token, err := grpcauth.AuthFromMD(ctx, "bearer")
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, "a service token is required")
		}
		if _, err := s.keys.VerifyService(auth.KindControl, token); err != nil {
			return nil, status.Error(codes.Unauthenticated, "invalid service token")
		}
		return ctx, nil
	}
	onlyRooms := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return strings.HasPrefix(c.FullMethod(), "/"+skirmishv1.RoomService_ServiceDesc.ServiceName+"/")
	})
	// RoomService is served on the internal listener only, to the
	// matchmaker: messages up to 1 MiB, no per-peer rates.
	lim := serve.GRPCLimits{MaxRecvMsgSize: 1 << 20, StreamsPerPeer: -1, PeerRate: -1}
	g := grpc.NewServer(append(lim.ServerOptions(),
		grpc.ChainUnaryInterceptor(
			m.UnaryServerInterceptor(),
			recovery.UnaryServerInterceptor(),
			selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(authn), onlyRooms),
		),
		grpc.ChainStreamInterceptor(m.StreamServerInterceptor(), recovery.StreamServerInterceptor()),
	)...)
	skirmishv1.RegisterRoomServiceServer(g, &control{s: s})
	healthpb.RegisterHealthServer(g, s.health)
	reflection.Register(g)
	m.InitializeMetrics(g)
	return g
}

// control serves RoomService.
type control struct {
	skirmishv1.UnimplementedRoomServiceServer
	s *Server
}

// Bounds on RoomService requests, in bytes and seats.
const (
	maxControlID   = 128
	maxControlName = 256
	maxSeats       = 64
)

// checkSeats bounds the ids and names of seats.
func checkSeats(seats []*skirmishv1.Seat) error {
	if len(seats) > maxSeats {
		return status.Errorf(codes.InvalidArgument, "seats: %d, at most %d", len(seats), maxSeats)
	}
	for i, st := range seats {
		if len(st.PlayerId) > maxControlID {
			return status.Errorf(codes.InvalidArgument, "seats[%d].player_id: %d bytes, at most %d", i, len(st.PlayerId), maxControlID)
		}
		if len(st.Name) > maxControlName {
			return status.Errorf(codes.InvalidArgument, "seats[%d].name: %d bytes, at most %d", i, len(st.Name), maxControlName)
		}
	}
	return nil
}

func (c *control) CreateRoom(_ context.Context, req *skirmishv1.CreateRoomRequest) (*skirmishv1.CreateRoomResponse, error) {
	if len(req.MatchId) > maxControlID || len(req.Mode) > maxControlID {
		return nil, status.Errorf(codes.InvalidArgument, "match_id and mode: at most %d bytes", maxControlID)
	}
	if err := checkSeats(req.Seats); err != nil {
		return nil, err
	}
	seats := make([]game.Seat, len(req.Seats))
	for i, st := range req.Seats {
		seats[i] = game.Seat{PlayerID: st.PlayerId, Name: st.Name, Team: st.Team}
	}
	if _, used, _ := c.s.rooms.Load(); used+len(seats) > c.s.cfg.Capacity {
		return nil, status.Errorf(codes.ResourceExhausted, "gameserver full: %d of %d seats taken", used, c.s.cfg.Capacity)
	}
	r, err := c.s.rooms.Create(req.MatchId, req.Mode, seats)
	switch {
	case errors.Is(err, game.ErrUnknownMode), errors.Is(err, game.ErrBadSeats):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, room.ErrGameFailed):
		c.s.log.Error("create room: the game failed", "match", req.MatchId, "err", err)
		return nil, status.Error(codes.Internal, "the game failed to start")
	case errors.Is(err, room.ErrDraining):
		return nil, status.Error(codes.Unavailable, "gameserver is draining")
	case err != nil:
		c.s.log.Error("create room", "match", req.MatchId, "err", err)
		return nil, status.Error(codes.Internal, "could not create the room")
	}
	return &skirmishv1.CreateRoomResponse{RoomId: r.ID()}, nil
}

func (c *control) AddSeats(ctx context.Context, req *skirmishv1.AddSeatsRequest) (*skirmishv1.AddSeatsResponse, error) {
	if req.RoomId == "" || len(req.Seats) == 0 || len(req.RoomId) > maxControlID {
		return nil, status.Errorf(codes.InvalidArgument, "room_id (at most %d bytes) and at least one seat are required", maxControlID)
	}
	if err := checkSeats(req.Seats); err != nil {
		return nil, err
	}
	seats := make([]game.Seat, len(req.Seats))
	for i, st := range req.Seats {
		seats[i] = game.Seat{PlayerID: st.PlayerId, Name: st.Name, Team: st.Team}
	}
	if _, used, _ := c.s.rooms.Load(); used+len(seats) > c.s.cfg.Capacity {
		return nil, status.Errorf(codes.ResourceExhausted, "gameserver full: %d of %d seats taken", used, c.s.cfg.Capacity)
	}
	err := c.s.rooms.AddSeats(ctx, req.RoomId, seats)
	switch {
	case errors.Is(err, room.ErrRoomNotFound):
		return nil, status.Error(codes.NotFound, "no such room here, or it has ended")
	case errors.Is(err, room.ErrNoBackfill):
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, room.ErrDraining):
		return nil, status.Error(codes.Unavailable, "gameserver is draining")
	case errors.Is(err, game.ErrBadSeats):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case err != nil:
		return nil, status.FromContextError(err).Err()
	}
	return &skirmishv1.AddSeatsResponse{}, nil
}
