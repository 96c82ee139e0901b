package skirmish

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Matchmaker is a player's connection to the matchmaker.
type Matchmaker struct {
	conn   *grpc.ClientConn
	client skirmishv1.MatchmakerServiceClient
}

// bearer attaches the session token to every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false so the SDK works against `skirmish dev`
// on loopback; production deployments put TLS in front.
func (bearer) RequireTransportSecurity() bool { return false }

// DialMatchmaker connects to the matchmaker's gRPC address (host:port) as
// the session's player. The connection is lazy; errors show on first call.
func DialMatchmaker(ctx context.Context, addr string, s Session) (*Matchmaker, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(s.Token)),
	)
	if err != nil {
		return nil, fmt.Errorf("dial matchmaker %s: %w", addr, err)
	}
	return &Matchmaker{conn: conn, client: skirmishv1.NewMatchmakerServiceClient(conn)}, nil
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
	created, err := m.client.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: mode})
	if err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	id := created.GetTicket().GetId()
	a, err := m.watch(ctx, id, update)
	if err != nil && ctx.Err() != nil {
		// Best effort: the caller gave up, so free the player's ticket slot.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultCallTimeout)
		defer cancel()
		_, _ = m.client.CancelTicket(cctx, &skirmishv1.CancelTicketRequest{TicketId: id})
	}
	return a, err
}

func (m *Matchmaker) watch(ctx context.Context, id string, update func(*skirmishv1.Ticket)) (*skirmishv1.Assignment, error) {
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
