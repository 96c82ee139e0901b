package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// RatingSource gives the current skill rating of players in the rating
// pool of a mode, e.g. from the stats store (leaderboard.Store.Ratings).
// Players it does not know in that pool are left out of the map and get
// DefaultRating.
type RatingSource interface {
	Ratings(ctx context.Context, mode string, playerIDs []string) (map[string]float64, error)
}

// Limits on what a client may send.
const (
	maxRegions    = 32
	maxRegionName = 64
	maxLatencyMs  = 60_000
	maxTicketID   = 64
)

// ticketService serves MatchmakerService. The auth interceptor has put the
// caller's session in every call's context.
type ticketService struct {
	skirmishv1.UnimplementedMatchmakerServiceServer
	m *Matchmaker
}

func (s *ticketService) CreateTicket(ctx context.Context, req *skirmishv1.CreateTicketRequest) (*skirmishv1.CreateTicketResponse, error) {
	sess := sessionFrom(ctx)
	if req.GetMode() == "" {
		return nil, status.Error(codes.InvalidArgument, "mode: required; accepted: "+strings.Join(s.m.cfg.modeNames(), ", "))
	}
	mode, ok := s.m.cfg.Modes[req.GetMode()]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "mode: unknown mode %q; accepted: %s", req.GetMode(), strings.Join(s.m.cfg.modeNames(), ", "))
	}
	if err := validateLatencies(req.GetLatenciesMs()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	members, err := s.party(sess, mode, req)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.id
	}
	if id, err := s.m.store.hasActive(ctx, ids...); err != nil {
		return nil, ticketError(err)
	} else if id != "" { // skip the rating lookup for a doomed call
		return nil, alreadyExists(members, id)
	}
	for i, r := range s.m.ratingsOf(ctx, req.GetMode(), ids) {
		members[i].rating = r
	}
	now := time.Now()
	t := newTicket(uuid.NewString(), req.GetMode(), bestRegion(req.GetLatenciesMs()), members, req.GetLatenciesMs(), now)
	if err := s.m.store.addTicket(ctx, t); err != nil {
		var active *activeError
		if errors.As(err, &active) {
			return nil, alreadyExists(members, active.player)
		}
		return nil, ticketError(err)
	}
	pb, _, err := s.m.store.view(ctx, t.id, sess.PlayerID, now)
	if err != nil { // pruned already: only with a zero retention
		return nil, ticketError(err)
	}
	return &skirmishv1.CreateTicketResponse{Ticket: pb}, nil
}

// party returns the ticket's players: the caller, then the party members
// whose session tokens the request carries.
func (s *ticketService) party(caller auth.Session, mode Mode, req *skirmishv1.CreateTicketRequest) ([]member, error) {
	tokens := req.GetPartyTokens()
	if n := len(tokens) + 1; n > mode.TeamSize {
		return nil, status.Errorf(codes.InvalidArgument, "party_tokens: a party of %d is larger than the team size %d of mode %q", n, mode.TeamSize, req.GetMode())
	}
	members := make([]member, 0, len(tokens)+1)
	members = append(members, member{id: caller.PlayerID, name: caller.Name})
	for i, tok := range tokens {
		if tok == "" {
			return nil, status.Errorf(codes.InvalidArgument, "party_tokens[%d]: empty token", i)
		}
		sess, err := s.m.keys.VerifySession(tok)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "party_tokens[%d]: invalid session token", i)
		}
		for _, m := range members {
			if m.id == sess.PlayerID {
				return nil, status.Errorf(codes.InvalidArgument, "party_tokens[%d]: player %s is already in the party", i, sess.PlayerID)
			}
		}
		members = append(members, member{id: sess.PlayerID, name: sess.Name})
	}
	return members, nil
}

// alreadyExists is the ALREADY_EXISTS status for a member with an active
// ticket, naming the party token that carried them.
func alreadyExists(members []member, playerID string) error {
	for i, m := range members {
		if m.id == playerID && i > 0 {
			return status.Errorf(codes.AlreadyExists, "party_tokens[%d]: player %s already has an active ticket", i-1, playerID)
		}
	}
	return status.Error(codes.AlreadyExists, "player already has an active ticket")
}

func (s *ticketService) GetTicket(ctx context.Context, req *skirmishv1.GetTicketRequest) (*skirmishv1.GetTicketResponse, error) {
	if err := validateTicketID(req.GetTicketId()); err != nil {
		return nil, err
	}
	pb, _, err := s.m.store.view(ctx, req.GetTicketId(), sessionFrom(ctx).PlayerID, time.Now())
	if err != nil {
		return nil, ticketError(err)
	}
	return &skirmishv1.GetTicketResponse{Ticket: pb}, nil
}

func (s *ticketService) CancelTicket(ctx context.Context, req *skirmishv1.CancelTicketRequest) (*skirmishv1.CancelTicketResponse, error) {
	if err := validateTicketID(req.GetTicketId()); err != nil {
		return nil, err
	}
	pb, err := s.m.store.cancel(ctx, req.GetTicketId(), sessionFrom(ctx).PlayerID, time.Now())
	if err != nil {
		return nil, ticketError(err)
	}
	return &skirmishv1.CancelTicketResponse{Ticket: pb}, nil
}

// WatchTicket sends the ticket now and after every change, and returns once
// it has sent a final state. It learns of changes from the store's change
// notices (on any replica: the Redis store's feed) and also re-reads the
// ticket every WatchRefresh, since a notice may be lost; it sends a
// ticket only when it differs from the last one sent.
func (s *ticketService) WatchTicket(req *skirmishv1.WatchTicketRequest, stream grpc.ServerStreamingServer[skirmishv1.WatchTicketResponse]) error {
	if err := validateTicketID(req.GetTicketId()); err != nil {
		return err
	}
	ctx := stream.Context()
	player := sessionFrom(ctx).PlayerID
	refresh := time.NewTicker(s.m.cfg.WatchRefresh)
	defer refresh.Stop()
	var last *skirmishv1.Ticket
	for {
		// view takes the change notice before it reads, so no change
		// between the read and the wait is missed.
		pb, changed, err := s.m.store.view(ctx, req.GetTicketId(), player, time.Now())
		if err != nil {
			return ticketError(err)
		}
		if last == nil || !sameTicket(last, pb) {
			if err := stream.Send(&skirmishv1.WatchTicketResponse{Ticket: pb}); err != nil {
				return err
			}
			last = pb
		}
		if pb.GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
			return nil
		}
		select {
		case <-changed:
		case <-refresh.C:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.m.stopping:
			return status.Error(codes.Unavailable, "matchmaker is shutting down")
		}
	}
}

// sameTicket reports whether a watcher already saw b as a: the same state,
// assignment and failure (the wait estimate alone changes all the time).
func sameTicket(a, b *skirmishv1.Ticket) bool {
	return a.GetState() == b.GetState() && a.GetFailureReason() == b.GetFailureReason() &&
		proto.Equal(a.GetAssignment(), b.GetAssignment())
}

func validateTicketID(id string) error {
	switch {
	case id == "":
		return status.Error(codes.InvalidArgument, "ticket_id: required")
	case len(id) > maxTicketID:
		return status.Errorf(codes.InvalidArgument, "ticket_id: longer than %d bytes", maxTicketID)
	}
	return nil
}

func validateLatencies(l map[string]uint32) error {
	if len(l) > maxRegions {
		return fmt.Errorf("latencies_ms: more than %d regions", maxRegions)
	}
	for region, ms := range l {
		if region == "" || len(region) > maxRegionName {
			return fmt.Errorf("latencies_ms: region names must be 1 to %d bytes, got %q", maxRegionName, region)
		}
		if ms > maxLatencyMs {
			return fmt.Errorf("latencies_ms[%s]: %d ms is more than %d", region, ms, maxLatencyMs)
		}
	}
	return nil
}

// ticketError maps the pool's errors to gRPC statuses. Another player's
// ticket is NotFound, so ticket ids cannot be probed.
func ticketError(err error) error {
	switch {
	case errors.Is(err, errTicketNotFound):
		return status.Error(codes.NotFound, "ticket_id: no such ticket")
	case errors.Is(err, errTicketEnded):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Internal, "internal error")
}
