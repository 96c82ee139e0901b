package skirmish

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Matchmaker is a player's connection to the matchmaker.
type Matchmaker struct {
	conn    *grpc.ClientConn
	client  skirmishv1.MatchmakerServiceClient
	backoff Backoff
}

// MatchmakerOptions tune a matchmaker connection. The zero value dials
// without TLS, which suits `skirmish dev` on loopback; anything reached over
// a network wants TLS.
type MatchmakerOptions struct {
	// TLS, when set, dials with TLS under this configuration (e.g.
	// &tls.Config{} for the system roots, or RootCAs for a private CA).
	TLS *tls.Config
	// Credentials, when set, are the transport credentials to dial with;
	// they take precedence over TLS.
	Credentials credentials.TransportCredentials
	// PerRPC, when set, authenticates each call instead of the session's
	// token as "authorization: Bearer <token>".
	PerRPC credentials.PerRPCCredentials
	// Backoff says how CreateTicket calls refused with RESOURCE_EXHAUSTED
	// or UNAVAILABLE are retried. Attempts 1 turns retrying off.
	Backoff Backoff
	// DialOptions are added last, for anything else grpc offers.
	DialOptions []grpc.DialOption
}

// bearer attaches the session token to every call.
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is true over TLS, so grpc refuses to send the
// token in the clear should the connection ever lose it.
func (b bearer) RequireTransportSecurity() bool { return b.secure }

// DialMatchmaker connects to the matchmaker's gRPC address (host:port) as
// the session's player, without TLS (see DialMatchmakerOptions). The
// connection is lazy; errors show on first call.
func DialMatchmaker(ctx context.Context, addr string, s Session) (*Matchmaker, error) {
	return DialMatchmakerOptions(ctx, addr, s, MatchmakerOptions{})
}

// DialMatchmakerOptions connects to the matchmaker's gRPC address
// (host:port) as the session's player, as opts say.
func DialMatchmakerOptions(ctx context.Context, addr string, s Session, opts MatchmakerOptions) (*Matchmaker, error) {
	creds := opts.Credentials
	if creds == nil && opts.TLS != nil {
		creds = credentials.NewTLS(opts.TLS)
	}
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	secure := creds.Info().SecurityProtocol != "insecure"
	var perRPC credentials.PerRPCCredentials = bearer{token: s.Token, secure: secure}
	if opts.PerRPC != nil {
		perRPC = opts.PerRPC
	}
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(perRPC),
	}, opts.DialOptions...)
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, fmt.Errorf("dial matchmaker %s: %w", addr, err)
	}
	return &Matchmaker{conn: conn, client: skirmishv1.NewMatchmakerServiceClient(conn), backoff: opts.Backoff}, nil
}

// Close closes the connection.
func (m *Matchmaker) Close() error { return m.conn.Close() }

// Client exposes the generated gRPC client for calls the SDK does not wrap.
func (m *Matchmaker) Client() skirmishv1.MatchmakerServiceClient { return m.client }

// ErrTicketEnded is returned by FindMatch when the ticket ended without a
// match: expired, cancelled or failed.
var ErrTicketEnded = errors.New("ticket ended without a match")

// FindMatch creates a ticket for mode and waits on WatchTicket until it is
// matched, returning the assignment. update, when not nil, sees every
// state the ticket passes through. Cancelling ctx cancels the ticket.
func (m *Matchmaker) FindMatch(ctx context.Context, mode string, update func(*skirmishv1.Ticket)) (*skirmishv1.Assignment, error) {
	return m.FindMatchOptions(ctx, mode, FindOptions{OnUpdate: update})
}

// FindOptions tune a search.
type FindOptions struct {
	// PartyInvites are the party invites of the other members of the
	// caller's party (at most the mode's team size with the caller), who
	// play on the caller's team: each member mints one with
	// CreatePartyInvite for the caller's player id and this mode, and
	// hands it to the caller (never their session). Each invite is used
	// up by the ticket. Each member waits for its own assignment with
	// AwaitMatch on the ticket's id, which the caller must give them:
	// OnTicket sees it first.
	PartyInvites []string
	// LatenciesMS maps region names to the player's measured round trip.
	LatenciesMS map[string]uint32
	// OnTicket, when set, is called once with the created ticket.
	OnTicket func(*skirmishv1.Ticket)
	// OnUpdate, when set, sees every state the ticket passes through.
	OnUpdate func(*skirmishv1.Ticket)
}

// FindMatchOptions is FindMatch with options: parties and latencies.
func (m *Matchmaker) FindMatchOptions(ctx context.Context, mode string, opts FindOptions) (*skirmishv1.Assignment, error) {
	t, err := m.CreateTicket(ctx, mode, opts)
	if err != nil {
		return nil, err
	}
	if opts.OnTicket != nil {
		opts.OnTicket(t)
	}
	a, err := m.watch(ctx, t.GetId(), opts.OnUpdate)
	if err != nil && ctx.Err() != nil {
		// Best effort: the caller gave up, so free the players' ticket slot.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultCallTimeout)
		defer cancel()
		_, _ = m.client.CancelTicket(cctx, &skirmishv1.CancelTicketRequest{TicketId: t.GetId()})
	}
	return a, err
}

// CreateTicket starts a search for mode (and the party of opts) and
// returns the ticket; a call refused as too many is retried as the
// connection's Backoff says. A player already searching gets a gRPC
// ALREADY_EXISTS error.
func (m *Matchmaker) CreateTicket(ctx context.Context, mode string, opts FindOptions) (*skirmishv1.Ticket, error) {
	req := &skirmishv1.CreateTicketRequest{Mode: mode, LatenciesMs: opts.LatenciesMS}
	req.PartyInvites = opts.PartyInvites
	var created *skirmishv1.CreateTicketResponse
	err := Retry(ctx, m.backoff, func(ctx context.Context) error {
		var err error
		created, err = m.client.CreateTicket(ctx, req)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	return created.GetTicket(), nil
}

// CreatePartyInvite mints a party invite for this player: a short-lived
// token (5 minutes by default) that lets the party leader leaderID put
// this player on one ticket of mode, once. Hand it to the leader, who
// passes it in FindOptions.PartyInvites; the session token stays with
// this player.
func (m *Matchmaker) CreatePartyInvite(ctx context.Context, leaderID, mode string) (string, error) {
	var resp *skirmishv1.CreatePartyInviteResponse
	err := Retry(ctx, m.backoff, func(ctx context.Context) error {
		var err error
		resp, err = m.client.CreatePartyInvite(ctx, &skirmishv1.CreatePartyInviteRequest{LeaderId: leaderID, Mode: mode})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create party invite: %w", err)
	}
	return resp.GetInvite(), nil
}

// RefreshJoinToken returns a copy of the assignment with a new join token
// for the same seat, as long as its room still runs: for a player who
// reconnects after the join token expired (Rejoin calls it through
// JoinOptions.Refresh). The matchmaker answers FAILED_PRECONDITION once
// the match has ended.
func (m *Matchmaker) RefreshJoinToken(ctx context.Context, a *skirmishv1.Assignment) (*skirmishv1.Assignment, error) {
	var resp *skirmishv1.RefreshJoinTokenResponse
	err := Retry(ctx, m.backoff, func(ctx context.Context) error {
		var err error
		resp, err = m.client.RefreshJoinToken(ctx, &skirmishv1.RefreshJoinTokenRequest{JoinToken: a.GetJoinToken()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("refresh join token: %w", err)
	}
	out := proto.CloneOf(a)
	out.JoinToken = resp.GetJoinToken()
	return out, nil
}

// AwaitMatch waits on the ticket until it is matched and returns this
// player's assignment: what a party member calls with the id of the
// ticket the party's leader created. update is as in FindMatch.
func (m *Matchmaker) AwaitMatch(ctx context.Context, ticketID string, update func(*skirmishv1.Ticket)) (*skirmishv1.Assignment, error) {
	return m.watch(ctx, ticketID, update)
}

// CancelTicket ends a search; any member of a party may.
func (m *Matchmaker) CancelTicket(ctx context.Context, ticketID string) error {
	if _, err := m.client.CancelTicket(ctx, &skirmishv1.CancelTicketRequest{TicketId: ticketID}); err != nil {
		return fmt.Errorf("cancel ticket %s: %w", ticketID, err)
	}
	return nil
}

// watch follows the ticket until it ends. A stream refused or broken with
// RESOURCE_EXHAUSTED or UNAVAILABLE is opened again as m.backoff says;
// the server sends the ticket's current state first, so nothing is missed.
func (m *Matchmaker) watch(ctx context.Context, id string, update func(*skirmishv1.Ticket)) (*skirmishv1.Assignment, error) {
	var a *skirmishv1.Assignment
	err := Retry(ctx, m.backoff, func(ctx context.Context) error {
		var err error
		a, err = m.watchOnce(ctx, id, update)
		return err
	})
	return a, err
}

func (m *Matchmaker) watchOnce(ctx context.Context, id string, update func(*skirmishv1.Ticket)) (*skirmishv1.Assignment, error) {
	stream, err := m.client.WatchTicket(ctx, &skirmishv1.WatchTicketRequest{TicketId: id})
	if err != nil {
		return nil, fmt.Errorf("watch ticket %s: %w", id, err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("watch ticket %s: stream ended before a match: %w", id, ErrTicketEnded)
		}
		if err != nil {
			return nil, fmt.Errorf("watch ticket %s: %w", id, err)
		}
		t := resp.GetTicket()
		if update != nil {
			update(t)
		}
		switch t.GetState() {
		case skirmishv1.TicketState_TICKET_STATE_MATCHED:
			if t.GetAssignment() == nil {
				return nil, fmt.Errorf("watch ticket %s: matched without an assignment", id)
			}
			return t.GetAssignment(), nil
		case skirmishv1.TicketState_TICKET_STATE_EXPIRED, skirmishv1.TicketState_TICKET_STATE_CANCELLED, skirmishv1.TicketState_TICKET_STATE_FAILED:
			return nil, fmt.Errorf("ticket %s %s %s: %w", id, t.GetState(), t.GetFailureReason(), ErrTicketEnded)
		}
	}
}
