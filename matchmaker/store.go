package matchmaker

import (
	"context"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Store names, as --matchmaker-store takes them.
const (
	// StoreMemory keeps every ticket, queue, room and gameserver in the
	// process: one matchmaker, state lost on restart. The default.
	StoreMemory = "memory"
	// StoreRedis keeps them in Redis, shared by any number of matchmaker
	// replicas and kept across restarts (see redis_store.go).
	StoreRedis = "redis"
)

// store is the matchmaker's state: tickets and their states, the one
// active ticket of each player, the searching queues, the rooms of formed
// matches, and the gameserver registry. memoryStore keeps it in the
// process; redisStore in Redis, shared by replicas. Every method is safe
// for concurrent use.
//
// Errors: errTicketNotFound, errTicketEnded and *activeError as the pool
// defines them; anything else is the backend failing.
type store interface {
	// addTicket queues a new searching ticket unless one of its players
	// already has an active one (*activeError), atomically for every member.
	addTicket(ctx context.Context, t *ticket) error
	// hasActive returns the first of the players with an active ticket, or "".
	hasActive(ctx context.Context, playerIDs ...string) (string, error)
	// view returns the ticket as the member sees it and a channel that is
	// closed at (or soon after) its next change. Callers re-read on their
	// own too: the channel of a shared store may miss a change.
	view(ctx context.Context, id, playerID string, now time.Time) (*skirmishv1.Ticket, <-chan struct{}, error)
	// cancel ends a searching ticket for any of its members.
	cancel(ctx context.Context, id, playerID string, now time.Time) (*skirmishv1.Ticket, error)

	// pass expires overdue tickets, forms matches and backfills, and takes
	// their tickets out of the queue for allocation. A shared store forms
	// only where its lease says, and commits each match with a
	// compare-and-set; it returns nothing elsewhere.
	pass(ctx context.Context, now time.Time) ([]*match, error)
	// matched ends the match's tickets as matched with the assignments and
	// records the room; a ticket that left the match (cancelled, or its
	// claim lapsed) is left alone.
	matched(ctx context.Context, m *match, assignments map[string]*skirmishv1.Assignment, now time.Time) error
	// requeue puts the match's tickets back in the queue after a failed
	// allocation.
	requeue(ctx context.Context, m *match, reason string) error

	// cooldown returns the first of the players in a no-show cooldown
	// (noshow.go) and when it ends, or "".
	cooldown(ctx context.Context, playerIDs []string, now time.Time) (player string, until time.Time, err error)
	// useInvites marks party invites (by id) used until their expiry,
	// atomically: it returns the index of the first one already used, and
	// then marks none, or -1.
	useInvites(ctx context.Context, ids []string, expires []time.Time, now time.Time) (int, error)
	// roomLive reports whether the room is allocated and not reported
	// ended or cancelled (nor lost with its gameserver).
	roomLive(ctx context.Context, gameserverID, roomID string) (bool, error)

	// Room reports from gameservers (any replica receives them). A
	// cancelled room's missing players who were matched into it each get
	// a no-show, and their searching tickets end.
	roomCancelled(ctx context.Context, gameserverID, roomID string, missing []string, now time.Time) (seats, requeued int, err error)
	roomEnded(ctx context.Context, gameserverID, roomID string) (seats int, err error)
	roomStarted(ctx context.Context, gameserverID, roomID string) error
	wantBackfill(ctx context.Context, gameserverID, roomID, matchID, mode, region string, open map[uint32]int) error
	backfillDone(ctx context.Context, gameserverID, roomID string) error

	// The gameserver registry.
	heartbeat(ctx context.Context, info *skirmishv1.Gameserver, now time.Time) error
	// deregister takes a gameserver out of the registry; its rooms stay
	// until they are reported ended or cancelled, or roomTTL after their
	// last change.
	deregister(ctx context.Context, id string) error
	gameserver(ctx context.Context, id string, now time.Time) (*skirmishv1.Gameserver, error)
	// reserve picks a gameserver for seats players (see pickGameserver),
	// skipping those skip names, and holds the seats.
	reserve(ctx context.Context, region string, seats int, now time.Time, skip func(id string) bool) (*skirmishv1.Gameserver, error)
	release(ctx context.Context, id string, seats int) error
	addSeats(ctx context.Context, id string, seats int) error
	free(ctx context.Context, id string, seats int) error
	// suspect takes a gameserver whose CreateRoom failed out of allocation
	// until its next heartbeat.
	suspect(ctx context.Context, id string) error
	// sweep forgets gameservers that stopped heartbeating, and (memory
	// store; Redis expires them itself) the rooms past roomTTL. The rooms
	// of a gameserver that stopped (lost) are settled: those that had not
	// started put their tickets back in the queue, running ones become
	// server-lost outcomes, kept until outcomesSent. It returns the states
	// of the remaining gameservers and their control addresses.
	sweep(ctx context.Context, now time.Time) (sweepResult, error)
	// pendingOutcomes returns up to max server-lost outcomes not yet sent.
	pendingOutcomes(ctx context.Context, max int) ([]*skirmishv1.MatchOutcome, error)
	// outcomesSent forgets outcomes the queue accepted, by match id.
	outcomesSent(ctx context.Context, matchIDs []string) error

	// run serves the store's own work (a shared store's change feed) until
	// ctx ends.
	run(ctx context.Context) error
	// feedStalled reports whether the change feed has been silent for too
	// long (never for the memory store).
	feedStalled(now time.Time) bool
}

// sweepResult is what sweep saw of the registry.
type sweepResult struct {
	states map[string]int  // by gameserverStates
	addrs  map[string]bool // control addresses of the remaining gameservers
	lost   []string        // gameservers found lost by this sweep
	// requeued counts tickets of unstarted rooms of lost gameservers put
	// back in the queue; recorded counts running matches recorded lost.
	requeued, recorded int
}
