package matchmaker

import (
	"context"
	"sync"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// memoryStore is the store of one matchmaker process: the pool and the
// registry in memory. Nothing survives a restart.
type memoryStore struct {
	cfg  Config
	pool *pool
	reg  *registry

	mu       sync.Mutex
	outcomes []*skirmishv1.MatchOutcome // server-lost, not yet sent
}

var _ store = (*memoryStore)(nil)

func newMemoryStore(cfg Config, met *metrics) *memoryStore {
	return &memoryStore{cfg: cfg, pool: newPool(cfg, met), reg: newRegistry(cfg.GameserverTTL, cfg.Allocation == AllocateFillFirst)}
}

func (s *memoryStore) addTicket(_ context.Context, t *ticket) error { return s.pool.add(t) }

func (s *memoryStore) hasActive(_ context.Context, ids ...string) (string, error) {
	return s.pool.hasActive(ids...), nil
}

func (s *memoryStore) view(_ context.Context, id, player string, now time.Time) (*skirmishv1.Ticket, <-chan struct{}, error) {
	return s.pool.view(id, player, now)
}

func (s *memoryStore) cancel(_ context.Context, id, player string, now time.Time) (*skirmishv1.Ticket, error) {
	return s.pool.cancel(id, player, now)
}

func (s *memoryStore) pass(_ context.Context, now time.Time) ([]*match, error) {
	return s.pool.pass(now), nil
}

func (s *memoryStore) matched(_ context.Context, m *match, a map[string]*skirmishv1.Assignment, now time.Time) error {
	s.pool.matched(m, a, now)
	return nil
}

func (s *memoryStore) requeue(_ context.Context, m *match, reason string) error {
	s.pool.requeue(m, reason)
	return nil
}

func (s *memoryStore) cooldown(_ context.Context, players []string, now time.Time) (string, time.Time, error) {
	player, until := s.pool.cooldown(players, now)
	return player, until, nil
}

func (s *memoryStore) useInvites(_ context.Context, ids []string, expires []time.Time, now time.Time) (int, error) {
	return s.pool.useInvites(ids, expires, now), nil
}

func (s *memoryStore) roomLive(_ context.Context, gs, room string) (bool, error) {
	return s.pool.roomLive(gs, room), nil
}

func (s *memoryStore) roomCancelled(_ context.Context, gs, room string, missing []string, now time.Time) (int, int, error) {
	seats, requeued := s.pool.roomCancelled(gs, room, missing, now)
	return seats, requeued, nil
}

func (s *memoryStore) roomEnded(_ context.Context, gs, room string) (int, error) {
	return s.pool.roomEnded(gs, room), nil
}

func (s *memoryStore) roomStarted(_ context.Context, gs, room string) error {
	s.pool.roomStarted(gs, room, time.Now())
	return nil
}

func (s *memoryStore) wantBackfill(_ context.Context, gs, room, matchID, mode, region string, open map[uint32]int) error {
	s.pool.wantBackfill(gs, room, matchID, mode, region, open, time.Now())
	return nil
}

func (s *memoryStore) backfillDone(_ context.Context, gs, room string) error {
	s.pool.backfillDone(gs, room, time.Now())
	return nil
}

func (s *memoryStore) heartbeat(_ context.Context, info *skirmishv1.Gameserver, now time.Time) error {
	s.reg.heartbeat(info, now)
	return nil
}

func (s *memoryStore) deregister(_ context.Context, id string) error {
	s.reg.deregister(id)
	return nil
}

func (s *memoryStore) gameserver(_ context.Context, id string, now time.Time) (*skirmishv1.Gameserver, error) {
	return s.reg.get(id, now), nil
}

func (s *memoryStore) reserve(_ context.Context, region string, seats int, now time.Time, skip func(string) bool) (*skirmishv1.Gameserver, error) {
	return s.reg.reserve(region, seats, now, skip), nil
}

func (s *memoryStore) release(_ context.Context, id string, seats int) error {
	s.reg.release(id, seats)
	return nil
}

func (s *memoryStore) addSeats(_ context.Context, id string, seats int) error {
	s.reg.add(id, seats)
	return nil
}

func (s *memoryStore) free(_ context.Context, id string, seats int) error {
	s.reg.free(id, seats)
	return nil
}

func (s *memoryStore) suspect(_ context.Context, id string) error {
	s.reg.markSuspect(id)
	return nil
}

func (s *memoryStore) sweep(_ context.Context, now time.Time) (sweepResult, error) {
	states, addrs, lost := s.reg.sweep(now)
	res := sweepResult{states: states, addrs: addrs, lost: lost}
	for _, id := range lost {
		outcomes, requeued := s.pool.serverLost(id, s.cfg.RoomStartTimeout, now)
		res.requeued += requeued
		res.recorded += len(outcomes)
		s.mu.Lock()
		s.outcomes = append(s.outcomes, outcomes...)
		s.mu.Unlock()
	}
	s.pool.expireRooms(now)
	return res, nil
}

func (s *memoryStore) pendingOutcomes(_ context.Context, max int) ([]*skirmishv1.MatchOutcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*skirmishv1.MatchOutcome(nil), s.outcomes[:min(max, len(s.outcomes))]...), nil
}

func (s *memoryStore) outcomesSent(_ context.Context, matchIDs []string) error {
	sent := make(map[string]bool, len(matchIDs))
	for _, id := range matchIDs {
		sent[id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.outcomes[:0]
	for _, o := range s.outcomes {
		if !sent[o.GetMatchId()] {
			kept = append(kept, o)
		}
	}
	clear(s.outcomes[len(kept):])
	s.outcomes = kept
	return nil
}

func (s *memoryStore) run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (s *memoryStore) feedStalled(time.Time) bool { return false }
