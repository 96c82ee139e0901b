package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// serviceName is the subject of the matchmaker's service tokens.
const serviceName = "matchmaker"

var errNoGameserver = errors.New("no gameserver has room")

// allocator gets a room for a formed match: it reserves a gameserver, calls
// its RoomService.CreateRoom, and signs each player's join token.
type allocator struct {
	cfg  Config
	keys *auth.Keys
	reg  *registry

	mu      sync.Mutex
	conns   map[string]*grpc.ClientConn // by control address
	token   string
	tokenAt time.Time
}

func newAllocator(cfg Config, keys *auth.Keys, reg *registry) *allocator {
	return &allocator{cfg: cfg, keys: keys, reg: reg, conns: make(map[string]*grpc.ClientConn)}
}

// allocate returns one assignment per ticket of the match, in order.
func (a *allocator) allocate(ctx context.Context, m *match) ([]*skirmishv1.Assignment, error) {
	gs := a.reg.reserve(m.region, len(m.tickets), time.Now())
	if gs == nil {
		return nil, errNoGameserver
	}
	assignments, err := a.createRoom(ctx, gs, m)
	if err != nil {
		a.reg.release(gs.GetId(), len(m.tickets))
		return nil, fmt.Errorf("gameserver %s: %w", gs.GetId(), err)
	}
	return assignments, nil
}

func (a *allocator) createRoom(ctx context.Context, gs *skirmishv1.Gameserver, m *match) ([]*skirmishv1.Assignment, error) {
	conn, err := a.conn(gs.GetControlAddress())
	if err != nil {
		return nil, err
	}
	token, err := a.serviceToken()
	if err != nil {
		return nil, err
	}
	matchID := uuid.NewString()
	req := &skirmishv1.CreateRoomRequest{MatchId: matchID, Mode: m.mode, Seats: make([]*skirmishv1.Seat, len(m.tickets))}
	for i, t := range m.tickets {
		req.Seats[i] = &skirmishv1.Seat{PlayerId: t.playerID, Name: t.name, Team: m.teams[i]}
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CreateRoomTimeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	resp, err := skirmishv1.NewRoomServiceClient(conn).CreateRoom(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("create room: %w", err)
	}
	if resp.GetRoomId() == "" {
		return nil, errors.New("create room: empty room id")
	}
	out := make([]*skirmishv1.Assignment, len(m.tickets))
	for i, t := range m.tickets {
		join, err := a.keys.IssueJoin(auth.Join{
			PlayerID: t.playerID, Name: t.name, MatchID: matchID, RoomID: resp.GetRoomId(), Team: m.teams[i],
		}, a.cfg.JoinTokenTTL)
		if err != nil {
			return nil, err
		}
		out[i] = &skirmishv1.Assignment{
			MatchId:         matchID,
			RoomId:          resp.GetRoomId(),
			WebsocketUrl:    gs.GetWebsocketUrl(),
			WebtransportUrl: gs.GetWebtransportUrl(),
			JoinToken:       join,
			Team:            m.teams[i],
		}
	}
	return out, nil
}

// conn returns the cached client connection to a gameserver's control
// address. Control traffic is plaintext: gameservers and the matchmaker
// share a trusted network (loopback in development).
func (a *allocator) conn(addr string) (*grpc.ClientConn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.conns[addr]; c != nil {
		return c, nil
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	a.conns[addr] = c
	return c, nil
}

// serviceToken returns a service token, signing a new one when the cached
// one has used half its life.
func (a *allocator) serviceToken() (string, error) {
	const ttl = 10 * time.Minute
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && time.Since(a.tokenAt) < ttl/2 {
		return a.token, nil
	}
	tok, err := a.keys.IssueService(serviceName, ttl)
	if err != nil {
		return "", err
	}
	a.token, a.tokenAt = tok, time.Now()
	return tok, nil
}

// closeExcept closes the connections to addresses not in keep: those of
// gameservers that left. A call in flight on one fails and its match is
// requeued.
func (a *allocator) closeExcept(keep map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for addr, c := range a.conns {
		if !keep[addr] {
			c.Close()
			delete(a.conns, addr)
		}
	}
}

// close closes every cached connection.
func (a *allocator) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for addr, c := range a.conns {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", addr, err))
		}
		delete(a.conns, addr)
	}
	return errors.Join(errs...)
}
