package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// serviceName is the subject of the matchmaker's service tokens.
const serviceName = "matchmaker"

var (
	errNoGameserver       = errors.New("no gameserver has room")
	errGameserverGone     = errors.New("gameserver left")
	errGameserverDraining = errors.New("gameserver is draining")
)

// allocator gets a room for a formed match: it reserves a gameserver, calls
// its RoomService.CreateRoom, and signs each player's join token.
type allocator struct {
	cfg  Config
	keys *auth.Keys
	reg  store

	mu      sync.Mutex
	conns   map[string]*grpc.ClientConn // by control address
	token   string
	tokenAt time.Time

	// reserveMu makes choosing a gameserver and starting a probe of it one
	// step; probing holds the gameservers with a CreateRoom in flight over
	// a connection not known to work (new, or broken since), which get no
	// second one until it answers: a dead gameserver fails one allocation,
	// not every allocation of a pass.
	reserveMu sync.Mutex
	probed    *sync.Cond // on reserveMu: a probe ended
	probing   map[string]bool
}

func newAllocator(cfg Config, keys *auth.Keys, reg store) *allocator {
	a := &allocator{cfg: cfg, keys: keys, reg: reg, conns: make(map[string]*grpc.ClientConn), probing: make(map[string]bool)}
	a.probed = sync.NewCond(&a.reserveMu)
	return a
}

// allocate gets a room for a formed match, or seats in a running room for
// a backfill, and returns each player's assignment by player id. It sets
// the match's gameserver, match and room ids.
func (a *allocator) allocate(ctx context.Context, m *match) (map[string]*skirmishv1.Assignment, error) {
	if m.backfill {
		gs, err := a.reg.gameserver(ctx, m.gameserverID, time.Now())
		if err != nil {
			return nil, err
		}
		if gs == nil {
			return nil, fmt.Errorf("gameserver %s: %w", m.gameserverID, errGameserverGone)
		}
		if gs.GetDraining() { // its rooms end soon: newcomers go elsewhere
			return nil, fmt.Errorf("gameserver %s: %w", m.gameserverID, errGameserverDraining)
		}
		assignments, err := a.addSeats(ctx, gs, m)
		if err != nil {
			return nil, &roomError{gameserver: gs.GetId(), err: err}
		}
		if err := a.reg.addSeats(ctx, gs.GetId(), m.players()); err != nil {
			return nil, err
		}
		return assignments, nil
	}
	gs, probe, err := a.reserve(ctx, m)
	if err != nil {
		return nil, err
	}
	if gs == nil {
		return nil, errNoGameserver
	}
	if probe {
		defer func() {
			a.reserveMu.Lock()
			delete(a.probing, gs.GetId())
			a.probed.Broadcast()
			a.reserveMu.Unlock()
		}()
	}
	assignments, err := a.createRoom(ctx, gs, m)
	if err != nil {
		// The seats go back; a failure to give them back leaves them
		// counted until the next heartbeat.
		_ = a.reg.release(context.WithoutCancel(ctx), gs.GetId(), m.players())
		return nil, &roomError{gameserver: gs.GetId(), err: err}
	}
	return assignments, nil
}

// reserve picks a gameserver for a new room and holds its seats. probe
// reports that the connection to it is not known to work, so this call
// is the only one in flight to it until it ends. When the only
// gameservers with room are being probed, it waits for a probe to end
// (each ends within CreateRoomTimeout). The store is read without
// reserveMu held: allocations reserve in parallel.
func (a *allocator) reserve(ctx context.Context, m *match) (gs *skirmishv1.Gameserver, probe bool, err error) {
	skip := func(id string) bool {
		a.reserveMu.Lock()
		defer a.reserveMu.Unlock()
		return a.probing[id]
	}
	for ctx.Err() == nil {
		gs, err = a.reg.reserve(ctx, m.region, m.players(), time.Now(), skip)
		if err != nil {
			return nil, false, err
		}
		if gs == nil {
			a.reserveMu.Lock()
			if len(a.probing) == 0 {
				a.reserveMu.Unlock()
				return nil, false, nil
			}
			a.probed.Wait()
			a.reserveMu.Unlock()
			continue
		}
		conn, err := a.conn(gs.GetControlAddress())
		if err != nil {
			_ = a.reg.release(context.WithoutCancel(ctx), gs.GetId(), m.players())
			return nil, false, &roomError{gameserver: gs.GetId(), err: err}
		}
		if conn.GetState() == connectivity.Ready {
			return gs, false, nil
		}
		a.reserveMu.Lock()
		if !a.probing[gs.GetId()] {
			a.probing[gs.GetId()] = true
			a.reserveMu.Unlock()
			return gs, true, nil
		}
		a.reserveMu.Unlock()
		// Another allocation probes it: give the seats back, choose again.
		_ = a.reg.release(context.WithoutCancel(ctx), gs.GetId(), m.players())
	}
	return nil, false, ctx.Err()
}

// roomError is a failed CreateRoom or AddSeats call to a gameserver.
type roomError struct {
	gameserver string
	err        error
}

func (e *roomError) Error() string { return "gameserver " + e.gameserver + ": " + e.err.Error() }
func (e *roomError) Unwrap() error { return e.err }

// seats lists the match's players with their teams.
func seats(m *match) []*skirmishv1.Seat {
	out := make([]*skirmishv1.Seat, 0, m.players())
	for i, t := range m.tickets {
		for _, mem := range t.members {
			out = append(out, &skirmishv1.Seat{PlayerId: mem.id, Name: mem.name, Team: m.teams[i]})
		}
	}
	return out
}

func (a *allocator) createRoom(ctx context.Context, gs *skirmishv1.Gameserver, m *match) (map[string]*skirmishv1.Assignment, error) {
	client, token, err := a.client(gs)
	if err != nil {
		return nil, err
	}
	matchID := uuid.NewString()
	req := &skirmishv1.CreateRoomRequest{MatchId: matchID, Mode: m.mode, Seats: seats(m)}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CreateRoomTimeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	resp, err := client.CreateRoom(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("create room: %w", err)
	}
	if resp.GetRoomId() == "" {
		return nil, errors.New("create room: empty room id")
	}
	m.gameserverID, m.matchID, m.roomID = gs.GetId(), matchID, resp.GetRoomId()
	return a.assignments(gs, m, req.GetSeats())
}

// addSeats asks a running room for the backfill's seats.
func (a *allocator) addSeats(ctx context.Context, gs *skirmishv1.Gameserver, m *match) (map[string]*skirmishv1.Assignment, error) {
	client, token, err := a.client(gs)
	if err != nil {
		return nil, err
	}
	req := &skirmishv1.AddSeatsRequest{RoomId: m.roomID, Seats: seats(m)}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CreateRoomTimeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	if _, err := client.AddSeats(ctx, req); err != nil {
		return nil, fmt.Errorf("add seats: %w", err)
	}
	return a.assignments(gs, m, req.GetSeats())
}

// assignments signs a join token for every seat.
func (a *allocator) assignments(gs *skirmishv1.Gameserver, m *match, seats []*skirmishv1.Seat) (map[string]*skirmishv1.Assignment, error) {
	out := make(map[string]*skirmishv1.Assignment, len(seats))
	for _, s := range seats {
		join, err := a.keys.IssueJoin(auth.Join{
			PlayerID: s.GetPlayerId(), Name: s.GetName(), MatchID: m.matchID, RoomID: m.roomID, Team: s.GetTeam(),
			GameserverID: gs.GetId(),
		}, a.cfg.JoinTokenTTL)
		if err != nil {
			return nil, err
		}
		out[s.GetPlayerId()] = &skirmishv1.Assignment{
			MatchId:                m.matchID,
			RoomId:                 m.roomID,
			WebsocketUrl:           gs.GetWebsocketUrl(),
			WebtransportUrl:        gs.GetWebtransportUrl(),
			WebtransportCertHashes: gs.GetWebtransportCertHashes(),
			JoinToken:              join,
			Team:                   s.GetTeam(),
			Backfill:               m.backfill,
		}
	}
	return out, nil
}

// client returns a RoomService client for the gameserver and a service
// token to call it with.
func (a *allocator) client(gs *skirmishv1.Gameserver) (skirmishv1.RoomServiceClient, string, error) {
	conn, err := a.conn(gs.GetControlAddress())
	if err != nil {
		return nil, "", err
	}
	token, err := a.serviceToken()
	if err != nil {
		return nil, "", err
	}
	return skirmishv1.NewRoomServiceClient(conn), token, nil
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
	tok, err := a.keys.IssueService(auth.KindControl, serviceName, ttl)
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
