package gameserver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// heartbeats registers with the matchmaker and keeps doing so every
// interval until ctx ends; then it deregisters. When draining is closed
// (shutdown began) it marks the server not serving and heartbeats at once,
// and from then on, with Draining set: the matchmaker sends no more rooms
// or backfill, and keeps the rooms that drain, which still report to it.
// ctx ends once they have ended and their last reports are sent. While
// the matchmaker is unreachable it retries quietly.
func (s *Server) heartbeats(ctx context.Context, draining <-chan struct{}) {
	defer s.health.Shutdown()
	if s.cfg.MatchmakerAddr == "" {
		select {
		case <-draining:
		case <-ctx.Done():
		}
		return
	}
	conn, err := dialMatchmaker(s.cfg.MatchmakerAddr)
	if err != nil {
		s.log.Error("matchmaker address", "addr", s.cfg.MatchmakerAddr, "err", err)
		select {
		case <-draining:
		case <-ctx.Done():
		}
		return
	}
	defer conn.Close()
	client := skirmishv1.NewGameserverRegistryServiceClient(conn)

	interval := s.cfg.HeartbeatInterval
	timer := time.NewTimer(0)
	defer timer.Stop()
	failing, drainBegun := false, false
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if _, err := client.Deregister(s.withToken(dctx), &skirmishv1.DeregisterRequest{GameserverId: s.cfg.ID}); err != nil {
				s.log.Debug("deregister from matchmaker", "err", err)
			}
			cancel()
			return
		case <-draining:
			draining, drainBegun = nil, true
			s.health.Shutdown() // and heartbeat now: Reset below drops the pending tick
		case <-timer.C:
		}
		cctx, cancel := context.WithTimeout(ctx, interval)
		resp, err := client.Heartbeat(s.withToken(cctx), &skirmishv1.HeartbeatRequest{Gameserver: s.describe(drainBegun)})
		cancel()
		switch {
		case err != nil && !failing:
			s.log.Info("matchmaker not reachable yet; retrying", "addr", s.cfg.MatchmakerAddr, "err", err)
			failing = true
		case err != nil:
			s.log.Debug("heartbeat", "err", err)
		case failing || resp == nil:
			s.log.Info("registered with matchmaker", "addr", s.cfg.MatchmakerAddr)
			failing = false
		}
		if err == nil && resp.GetInterval().AsDuration() > 0 {
			interval = resp.GetInterval().AsDuration()
		}
		timer.Reset(interval)
	}
}

// dialMatchmaker connects to the matchmaker's replicas, any of which
// answers the registry: addr is one gRPC target (host:port, or
// dns:///name:port for a name that resolves to every replica, such as a
// Kubernetes headless Service) or a comma-separated list of host:port. The
// calls are spread over every address round robin and skip one that is
// down.
func dialMatchmaker(addr string) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	}
	if !strings.Contains(addr, ",") {
		return grpc.NewClient(addr, opts...)
	}
	var state resolver.State
	for _, a := range strings.Split(addr, ",") {
		a = strings.TrimSpace(a)
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("matchmaker address %q: %w", a, err)
		}
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	r := manual.NewBuilderWithScheme("skirmish-matchmakers")
	r.InitialState(state)
	return grpc.NewClient(r.Scheme()+":///matchmaker", append(opts, grpc.WithResolvers(r))...)
}

func (s *Server) withToken(ctx context.Context) context.Context {
	token, err := s.keys.IssueService(auth.KindRegistry, "gameserver", 5*time.Minute)
	if err != nil {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// describe is the gameserver as a heartbeat tells it; draining says that
// shutdown began (the room manager may not know yet).
func (s *Server) describe(draining bool) *skirmishv1.Gameserver {
	rooms, seats, managerDraining := s.rooms.Load()
	return &skirmishv1.Gameserver{
		Id:                     s.cfg.ID,
		Region:                 s.cfg.Region,
		ControlAddress:         s.cfg.ControlAddress,
		WebsocketUrl:           s.cfg.WebSocketURL,
		WebtransportUrl:        s.cfg.WebTransportURL,
		WebtransportCertHashes: s.cfg.WebTransportCertHashes,
		Capacity:               uint32(s.cfg.Capacity),
		Players:                uint32(seats),
		Rooms:                  uint32(rooms),
		Draining:               draining || managerDraining,
	}
}
