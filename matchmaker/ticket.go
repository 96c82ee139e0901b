package matchmaker

import (
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

var (
	errTicketNotFound = errors.New("ticket not found")
	errTicketEnded    = errors.New("ticket has already ended")
)

// activeError says which player already has an active ticket.
type activeError struct{ player string }

func (e *activeError) Error() string { return "player " + e.player + " already has an active ticket" }

// member is one player of a ticket.
type member struct {
	id     string
	name   string
	rating float64
}

// ticket is one player's or one party's search. The fields above the line
// never change after creation and may be read without the pool's lock; the
// rest are guarded by it.
type ticket struct {
	id        string
	mode      string
	region    string   // lowest-latency region, "" when the player sent none
	members   []member // members[0] created the ticket; a party plays on one team
	rating    float64  // the members' mean rating
	latencies map[string]uint32
	created   time.Time

	state       skirmishv1.TicketState
	allocating  bool   // picked by a pass, waiting for CreateRoom or AddSeats
	q           *queue // its queue while searching and free
	qpos        int    // index in q.tickets while searching and free; -1 otherwise
	lastFailure string
	assignments map[string]*skirmishv1.Assignment // by player id, once matched
	failure     string
	endedAt     time.Time
	queued      time.Time     // when it entered the queue: created, or when its room was cancelled
	changed     chan struct{} // closed and replaced on every state change
}

func newTicket(id, mode, region string, members []member, latencies map[string]uint32, created time.Time) *ticket {
	sum := 0.0
	for _, m := range members {
		sum += m.rating
	}
	return &ticket{
		id: id, mode: mode, region: region, members: members, rating: sum / float64(len(members)),
		latencies: latencies, created: created, queued: created, qpos: -1,
	}
}

func (t *ticket) ended() bool { return t.state != skirmishv1.TicketState_TICKET_STATE_SEARCHING }

// size is the number of players on the ticket.
func (t *ticket) size() int { return len(t.members) }

// has reports whether the player is on the ticket.
func (t *ticket) has(playerID string) bool {
	for _, m := range t.members {
		if m.id == playerID {
			return true
		}
	}
	return false
}

// proto renders the ticket as the given member sees it: the assignment
// carries that member's own join token. The caller holds the pool's lock.
func (t *ticket) proto(estimate time.Duration, viewer string) *skirmishv1.Ticket {
	ids := make([]string, len(t.members))
	for i, m := range t.members {
		ids[i] = m.id
	}
	pb := &skirmishv1.Ticket{
		Id:            t.id,
		Mode:          t.mode,
		State:         t.state,
		PlayerIds:     ids,
		CreatedAt:     timestamppb.New(t.created),
		Assignment:    t.assignments[viewer],
		FailureReason: t.failure,
	}
	if !t.ended() {
		pb.EstimatedWait = durationpb.New(estimate)
	}
	return pb
}

// bestRegion is the region with the lowest latency, ties broken by name,
// or "" when there are none.
func bestRegion(latencies map[string]uint32) string {
	best, bestMs := "", uint32(0)
	for region, ms := range latencies {
		if best == "" || ms < bestMs || (ms == bestMs && region < best) {
			best, bestMs = region, ms
		}
	}
	return best
}
