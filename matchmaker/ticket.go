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
	errActiveTicket   = errors.New("player already has an active ticket")
	errTicketEnded    = errors.New("ticket has already ended")
)

// ticket is one player's search. The fields above the line never change
// after creation and may be read without the pool's lock; the rest are
// guarded by it.
type ticket struct {
	id        string
	mode      string
	region    string // lowest-latency region, "" when the player sent none
	playerID  string
	name      string
	rating    float64
	latencies map[string]uint32
	created   time.Time

	state       skirmishv1.TicketState
	allocating  bool // picked by a pass, waiting for CreateRoom
	qpos        int  // index in its queue while searching and free; -1 otherwise
	lastFailure string
	assignment  *skirmishv1.Assignment
	failure     string
	changed     chan struct{} // closed and replaced on every state change
}

func (t *ticket) ended() bool { return t.state != skirmishv1.TicketState_TICKET_STATE_SEARCHING }

// proto renders the ticket. The caller holds the pool's lock.
func (t *ticket) proto(estimate time.Duration) *skirmishv1.Ticket {
	pb := &skirmishv1.Ticket{
		Id:            t.id,
		Mode:          t.mode,
		State:         t.state,
		PlayerIds:     []string{t.playerID},
		CreatedAt:     timestamppb.New(t.created),
		Assignment:    t.assignment,
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
