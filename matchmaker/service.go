package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/limits"
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
	maxPlayerID   = 128
	maxJoinToken  = 4096
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
	members, invites, err := s.party(sess, mode, req)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.id
	}
	now := time.Now()
	if player, until, err := s.m.store.cooldown(ctx, ids, now); err != nil {
		return nil, ticketError(err)
	} else if player != "" {
		return nil, cooldownStatus(members, player, until, now)
	}
	if id, err := s.m.store.hasActive(ctx, ids...); err != nil {
		return nil, ticketError(err)
	} else if id != "" { // skip the rating lookup for a doomed call
		return nil, alreadyExists(members, id)
	}
	if len(invites) > 0 {
		invIDs, expires := make([]string, len(invites)), make([]time.Time, len(invites))
		for i, inv := range invites {
			invIDs[i], expires[i] = inv.id, inv.expires
		}
		if used, err := s.m.store.useInvites(ctx, invIDs, expires, now); err != nil {
			return nil, ticketError(err)
		} else if used >= 0 {
			return nil, status.Errorf(codes.InvalidArgument, "party_invites[%d]: the invite was already used; ask %s for a new one", used, members[used+1].id)
		}
	}
	for i, r := range s.m.ratingsOf(ctx, req.GetMode(), ids) {
		members[i].rating = r
	}
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

// partyInvite is a verified party invite.
type partyInvite struct {
	id      string
	expires time.Time
}

// party returns the ticket's players: the caller, then the party members
// whose invites the request carries, with the invites.
func (s *ticketService) party(caller auth.Session, mode Mode, req *skirmishv1.CreateTicketRequest) ([]member, []partyInvite, error) {
	if len(req.GetPartyTokens()) > 0 {
		return nil, nil, status.Error(codes.InvalidArgument, "party_tokens: session tokens are not accepted; each member calls CreatePartyInvite and the leader sends party_invites")
	}
	invites := req.GetPartyInvites()
	if n := len(invites) + 1; n > mode.TeamSize {
		return nil, nil, status.Errorf(codes.InvalidArgument, "party_invites: a party of %d is larger than the team size %d of mode %q", n, mode.TeamSize, req.GetMode())
	}
	members := make([]member, 0, len(invites)+1)
	members = append(members, member{id: caller.PlayerID, name: caller.Name})
	out := make([]partyInvite, 0, len(invites))
	for i, tok := range invites {
		if tok == "" {
			return nil, nil, status.Errorf(codes.InvalidArgument, "party_invites[%d]: empty invite", i)
		}
		inv, expires, err := s.m.keys.VerifyInvite(tok)
		switch {
		case err != nil:
			return nil, nil, status.Errorf(codes.InvalidArgument, "party_invites[%d]: invalid or expired party invite", i)
		case inv.LeaderID != caller.PlayerID:
			return nil, nil, status.Errorf(codes.InvalidArgument, "party_invites[%d]: the invite is for another leader", i)
		case inv.Mode != req.GetMode():
			return nil, nil, status.Errorf(codes.InvalidArgument, "party_invites[%d]: the invite is for mode %q", i, limits.Clip(inv.Mode, maxRegionName))
		}
		for _, m := range members {
			if m.id == inv.PlayerID {
				return nil, nil, status.Errorf(codes.InvalidArgument, "party_invites[%d]: player %s is already in the party", i, inv.PlayerID)
			}
		}
		members = append(members, member{id: inv.PlayerID, name: inv.Name})
		out = append(out, partyInvite{id: inv.ID, expires: expires})
	}
	return members, out, nil
}

// alreadyExists is the ALREADY_EXISTS status for a member with an active
// ticket, naming the party invite that carried them.
func alreadyExists(members []member, playerID string) error {
	if i := memberIndex(members, playerID); i > 0 {
		return status.Errorf(codes.AlreadyExists, "party_invites[%d]: player %s already has an active ticket", i-1, playerID)
	}
	return status.Error(codes.AlreadyExists, "player already has an active ticket")
}

// cooldownStatus is the FAILED_PRECONDITION status for a member in a
// no-show cooldown, with the wait as RetryInfo.
func cooldownStatus(members []member, playerID string, until, now time.Time) error {
	wait := until.Sub(now).Round(time.Second)
	msg := fmt.Sprintf("player did not join their last match; queue again in %v", wait)
	if i := memberIndex(members, playerID); i > 0 {
		msg = fmt.Sprintf("party_invites[%d]: player %s did not join their last match; the party may queue again in %v", i-1, playerID, wait)
	}
	st, err := status.New(codes.FailedPrecondition, msg).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(until.Sub(now))})
	if err != nil {
		return status.Error(codes.FailedPrecondition, msg)
	}
	return st.Err()
}

func memberIndex(members []member, playerID string) int {
	for i, m := range members {
		if m.id == playerID {
			return i
		}
	}
	return -1
}

// CreatePartyInvite mints a party invite for the caller, for the leader
// and mode the request names, valid for PartyInviteTTL and usable once.
func (s *ticketService) CreatePartyInvite(ctx context.Context, req *skirmishv1.CreatePartyInviteRequest) (*skirmishv1.CreatePartyInviteResponse, error) {
	sess := sessionFrom(ctx)
	switch {
	case req.GetLeaderId() == "" || len(req.GetLeaderId()) > maxPlayerID:
		return nil, status.Errorf(codes.InvalidArgument, "leader_id: required, at most %d bytes", maxPlayerID)
	case req.GetLeaderId() == sess.PlayerID:
		return nil, status.Error(codes.InvalidArgument, "leader_id: the leader is the caller; a leader needs no invite")
	}
	if _, ok := s.m.cfg.Modes[req.GetMode()]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "mode: unknown mode %q; accepted: %s", limits.Clip(req.GetMode(), maxRegionName), strings.Join(s.m.cfg.modeNames(), ", "))
	}
	tok, _, err := s.m.keys.IssueInvite(auth.Invite{PlayerID: sess.PlayerID, Name: sess.Name, LeaderID: req.GetLeaderId(), Mode: req.GetMode()}, s.m.cfg.PartyInviteTTL)
	if err != nil {
		s.m.log.ErrorContext(ctx, "sign party invite", "err", err)
		return nil, status.Error(codes.Internal, "internal error")
	}
	return &skirmishv1.CreatePartyInviteResponse{Invite: tok, ExpiresAt: timestamppb.New(time.Now().Add(s.m.cfg.PartyInviteTTL))}, nil
}

// RefreshJoinToken re-issues the caller's join token for the same seat
// while its room still runs (see the proto).
func (s *ticketService) RefreshJoinToken(ctx context.Context, req *skirmishv1.RefreshJoinTokenRequest) (*skirmishv1.RefreshJoinTokenResponse, error) {
	sess := sessionFrom(ctx)
	if req.GetJoinToken() == "" || len(req.GetJoinToken()) > maxJoinToken {
		return nil, status.Errorf(codes.InvalidArgument, "join_token: required, at most %d bytes", maxJoinToken)
	}
	join, err := s.m.keys.VerifyJoinForRefresh(req.GetJoinToken(), s.m.cfg.JoinRefreshMaxAge)
	switch {
	case err != nil:
		return nil, status.Error(codes.InvalidArgument, "join_token: invalid, or its seat was first issued too long ago to refresh")
	case join.PlayerID != sess.PlayerID:
		return nil, status.Error(codes.PermissionDenied, "join_token: the token is another player's")
	case join.GameserverID == "":
		return nil, status.Error(codes.FailedPrecondition, "join_token: made before refresh existed; find a new match")
	}
	live, err := s.m.store.roomLive(ctx, join.GameserverID, join.RoomID)
	if err != nil {
		return nil, ticketError(err)
	}
	if !live {
		return nil, status.Error(codes.FailedPrecondition, "join_token: the match has ended or its room is gone; find a new match")
	}
	tok, err := s.m.keys.IssueJoin(join, s.m.cfg.JoinTokenTTL)
	if err != nil {
		s.m.log.ErrorContext(ctx, "sign join token", "err", err)
		return nil, status.Error(codes.Internal, "internal error")
	}
	return &skirmishv1.RefreshJoinTokenResponse{JoinToken: tok, ExpiresAt: timestamppb.New(time.Now().Add(s.m.cfg.JoinTokenTTL))}, nil
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
