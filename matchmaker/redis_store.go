package matchmaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// redisStore keeps the matchmaker's state in Redis, so that any number of
// replicas serve any ticket and the state outlives every process.
//
// No ticket is ever in two matches, by construction: formation runs on the
// replica that holds the lease (a key with a TTL and an epoch that grows
// with every new holder), and a formed match commits only through
// scriptClaim, which checks in one atomic step that the lease is still
// the former's (same epoch) and that every ticket is still searching,
// unclaimed, at the version the former read. A former that paused past
// its lease finds the lease gone or another's and commits nothing. The
// claimed tickets then wait for their room; scriptAssign matches those
// still claimed by the match, and a claim that outlives its deadline (its
// replica died) lapses back to the queue.
//
// Every change publishes the ticket id on the changes channel; run
// subscribes to it and wakes the watchers of this replica.
type redisStore struct {
	cfg     Config
	c       redis.UniversalClient
	p       string // key prefix
	replica string
	met     *metrics
	log     *slog.Logger
	hooks   storeHooks

	passMu  sync.Mutex // one pass at a time; scratch is the pass's
	scratch former

	mu       sync.Mutex
	watchers map[string]chan struct{} // by ticket id, closed at its next change
	byMode   map[string]*modeMetrics
	estimate map[string]time.Duration // by mode, see updateEstimate
	lastFeed time.Time                // last message, pong or subscription on the feed
	feedUp   bool
}

// storeHooks let tests stop a replica at chosen points.
type storeHooks struct {
	// beforeClaim runs in a pass after formation, before any claim;
	// afterClaim after the claims, with how many matches won.
	beforeClaim func()
	afterClaim  func(won int)
}

// withHooks sets the Redis store's test hooks.
func withHooks(h storeHooks) Option { return func(o *options) { o.hooks = &h } }

var _ store = (*redisStore)(nil)

func newRedisStore(cfg Config, c redis.UniversalClient, prefix, replica string, met *metrics, log *slog.Logger) (*redisStore, error) {
	switch {
	case prefix == "":
		return nil, errors.New("matchmaker: the Redis store needs a key prefix")
	case replica == "" || strings.Contains(replica, "|"):
		return nil, fmt.Errorf("matchmaker: replica id %q: want a non-empty id without |", replica)
	}
	return &redisStore{
		cfg: cfg, c: c, p: prefix, replica: replica, met: met, log: log,
		watchers: make(map[string]chan struct{}),
		byMode:   make(map[string]*modeMetrics),
		estimate: make(map[string]time.Duration),
	}, nil
}

// ticketData is what never changes of a ticket, stored as JSON in its d
// field.
type ticketData struct {
	Mode      string            `json:"mode"`
	Region    string            `json:"region,omitempty"`
	Members   []memberData      `json:"members"`
	Latencies map[string]uint32 `json:"latencies,omitempty"`
	Created   int64             `json:"created"` // unix ns
}

type memberData struct {
	ID     string  `json:"id"`
	Name   string  `json:"name,omitempty"`
	Rating float64 `json:"rating"`
}

// sep separates player ids in a ticket's p field and mode from region in
// a bucket name.
const sep = "\x1f"

func bucketName(mode, region string) string { return mode + sep + region }

func splitBucket(b string) (mode, region string) {
	mode, region, _ = strings.Cut(b, sep)
	return mode, region
}

func (s *redisStore) modeMetrics(mode string) *modeMetrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm := s.byMode[mode]
	if mm == nil {
		mm = s.met.forMode(mode)
		s.byMode[mode] = mm
	}
	return mm
}

func (s *redisStore) retentionMs() int64 { return max(s.cfg.TicketRetention.Milliseconds(), 1) }

func (s *redisStore) addTicket(ctx context.Context, t *ticket) error {
	d := ticketData{Mode: t.mode, Region: t.region, Latencies: t.latencies, Created: t.created.UnixNano()}
	ids := make([]string, len(t.members))
	for i, m := range t.members {
		d.Members = append(d.Members, memberData{ID: m.id, Name: m.name, Rating: m.rating})
		ids[i] = m.id
	}
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode ticket: %w", err)
	}
	args := []any{s.p, t.id, body, strings.Join(ids, sep), bucketName(t.mode, t.region),
		strconv.FormatFloat(t.rating, 'g', -1, 64), t.created.UnixNano(), t.queued.UnixNano(), t.size()}
	for _, id := range ids {
		args = append(args, id)
	}
	player, err := scriptCreate.Run(ctx, s.c, nil, args...).Text()
	if err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	if player != "" {
		return &activeError{player: player}
	}
	s.modeMetrics(t.mode).ticketState(skirmishv1.TicketState_TICKET_STATE_SEARCHING)
	return nil
}

func (s *redisStore) hasActive(ctx context.Context, ids ...string) (string, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.p + "a:" + id
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return "", fmt.Errorf("active tickets: %w", err)
	}
	for i, v := range vals {
		if v != nil {
			return ids[i], nil
		}
	}
	return "", nil
}

// storedTicket is a ticket as read from its hash.
type storedTicket struct {
	id          string
	data        ticketData
	state       skirmishv1.TicketState
	version     string
	claim       string
	failure     string
	assignments map[string]json.RawMessage
}

var ticketFields = []string{"d", "st", "v", "c", "f", "a"}

func parseTicket(id string, vals []any) (*storedTicket, error) {
	if vals[0] == nil {
		return nil, errTicketNotFound
	}
	str := func(i int) string { s, _ := vals[i].(string); return s }
	t := &storedTicket{id: id, version: str(2), claim: str(3), failure: str(4)}
	if err := json.Unmarshal([]byte(str(0)), &t.data); err != nil {
		return nil, fmt.Errorf("decode ticket %s: %w", id, err)
	}
	st, _ := strconv.Atoi(str(1))
	t.state = skirmishv1.TicketState(st)
	if a := str(5); a != "" {
		if err := json.Unmarshal([]byte(a), &t.assignments); err != nil {
			return nil, fmt.Errorf("decode assignments of ticket %s: %w", id, err)
		}
	}
	return t, nil
}

func (t *storedTicket) has(player string) bool {
	for _, m := range t.data.Members {
		if m.ID == player {
			return true
		}
	}
	return false
}

func (t *storedTicket) ticket() *ticket {
	members := make([]member, len(t.data.Members))
	for i, m := range t.data.Members {
		members[i] = member{id: m.ID, name: m.Name, rating: m.Rating}
	}
	tk := newTicket(t.id, t.data.Mode, t.data.Region, members, t.data.Latencies, time.Unix(0, t.data.Created))
	tk.state = t.state
	return tk
}

func (s *redisStore) load(ctx context.Context, id string) (*storedTicket, error) {
	vals, err := s.c.HMGet(ctx, s.p+"t:"+id, ticketFields...).Result()
	if err != nil {
		return nil, fmt.Errorf("read ticket: %w", err)
	}
	return parseTicket(id, vals)
}

// proto renders a stored ticket as the member sees it.
func (s *redisStore) proto(ctx context.Context, t *storedTicket, viewer string, now time.Time) (*skirmishv1.Ticket, error) {
	ids := make([]string, len(t.data.Members))
	for i, m := range t.data.Members {
		ids[i] = m.ID
	}
	created := time.Unix(0, t.data.Created)
	pb := &skirmishv1.Ticket{
		Id: t.id, Mode: t.data.Mode, State: t.state, PlayerIds: ids,
		CreatedAt: timestamppb.New(created), FailureReason: t.failure,
	}
	if raw := t.assignments[viewer]; raw != nil {
		a := &skirmishv1.Assignment{}
		if err := protojson.Unmarshal(raw, a); err != nil {
			return nil, fmt.Errorf("decode assignment of ticket %s: %w", t.id, err)
		}
		pb.Assignment = a
	}
	if t.state == skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		est := s.cfg.Modes[t.data.Mode].MaxWait / 4
		if ms, err := s.c.HGet(ctx, s.p+"estimate", t.data.Mode).Int64(); err == nil {
			est = time.Duration(ms) * time.Millisecond
		}
		pb.EstimatedWait = durationpb.New(max(est-now.Sub(created), 0))
	}
	return pb, nil
}

func (s *redisStore) view(ctx context.Context, id, player string, now time.Time) (*skirmishv1.Ticket, <-chan struct{}, error) {
	ch := s.watch(id) // before the read: a change after it closes ch
	t, err := s.load(ctx, id)
	if err == nil && !t.has(player) {
		err = errTicketNotFound
	}
	if err != nil {
		s.unwatch(id, ch)
		return nil, nil, err
	}
	pb, err := s.proto(ctx, t, player, now)
	if err != nil {
		s.unwatch(id, ch)
		return nil, nil, err
	}
	if t.state != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		s.unwatch(id, ch) // a final ticket changes no more
	}
	return pb, ch, nil
}

func (s *redisStore) cancel(ctx context.Context, id, player string, now time.Time) (*skirmishv1.Ticket, error) {
	res, err := scriptCancel.Run(ctx, s.c, nil, s.p, id, player, now.UnixNano(), s.retentionMs()).Text()
	if err != nil {
		return nil, fmt.Errorf("cancel ticket: %w", err)
	}
	switch {
	case res == "notfound":
		return nil, errTicketNotFound
	case strings.HasPrefix(res, "ended:"):
		st, _ := strconv.Atoi(strings.TrimPrefix(res, "ended:"))
		return nil, fmt.Errorf("%w: %s", errTicketEnded, skirmishv1.TicketState(st))
	}
	t, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	s.modeMetrics(t.data.Mode).ticketState(skirmishv1.TicketState_TICKET_STATE_CANCELLED)
	pb, err := s.proto(ctx, t, player, now)
	if err != nil {
		return nil, err
	}
	pb.EstimatedWait = nil
	return pb, nil
}

// lease takes or renews the formation lease and returns its value, or ""
// when another replica holds it.
func (s *redisStore) lease(ctx context.Context) (string, error) {
	v, err := scriptLease.Run(ctx, s.c, nil, s.p, s.replica, s.cfg.LeaseTTL.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("formation lease: %w", err)
	}
	return v, nil
}

// releaseLease gives the formation lease up at shutdown, if this replica
// holds it, so that another takes over at once rather than after LeaseTTL.
func (s *redisStore) releaseLease() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := scriptUnlease.Run(ctx, s.c, nil, s.p, s.replica).Err(); err != nil {
		s.log.Warn("release formation lease (another replica takes it when it expires)", "err", err)
	}
}

// claimTTL is how long a match's claim on its tickets lasts: long enough
// for its CreateRoom call and commit, after which the tickets lapse back to
// the queue.
func (s *redisStore) claimTTL() time.Duration {
	return 2*s.cfg.CreateRoomTimeout + s.cfg.LeaseTTL
}

// queued is an entry of a bucket's queue as a pass reads it.
type queued struct {
	id      string
	version string
	rating  float64
	created int64 // unix ns
	queued  int64 // unix ns
	size    int
}

func parseQueued(id, v string) (queued, bool) {
	f := strings.Split(v, "|")
	if len(f) != 5 {
		return queued{}, false
	}
	q := queued{id: id, version: f[0]}
	var err1, err2, err3, err4 error
	q.rating, err1 = strconv.ParseFloat(f[1], 64)
	q.created, err2 = strconv.ParseInt(f[2], 10, 64)
	q.queued, err3 = strconv.ParseInt(f[3], 10, 64)
	q.size, err4 = strconv.Atoi(f[4])
	return q, errors.Join(err1, err2, err3, err4) == nil
}

// proposal is a group of queued tickets a pass wants to claim.
type proposal struct {
	mode, region string
	entries      []queued
	teams        []uint32
	room         *roomRef // set for a backfill
}

func (s *redisStore) pass(ctx context.Context, now time.Time) ([]*match, error) {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	lease, err := s.lease(ctx)
	if err != nil || lease == "" {
		return nil, err
	}
	if _, err := scriptLapse.Run(ctx, s.c, nil, s.p, "the matchmaker allocating the match stopped").Result(); err != nil {
		return nil, fmt.Errorf("lapse claims: %w", err)
	}
	buckets, err := s.c.SMembers(ctx, s.p+"buckets").Result()
	if err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	pipe := s.c.Pipeline()
	reads := make([]*redis.MapStringStringCmd, len(buckets))
	for i, b := range buckets {
		reads[i] = pipe.HGetAll(ctx, s.p+"q:"+b)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read queues: %w", err)
	}
	queues := make(map[bucket][]queued, len(buckets))
	for i, b := range buckets {
		mode, region := splitBucket(b)
		if _, ok := s.cfg.Modes[mode]; !ok {
			continue // a mode this replica's config lacks: another deployment's
		}
		cutoff := now.Add(-s.cfg.Modes[mode].MaxWait - s.cfg.ExpiryGrace).UnixNano()
		var live []queued
		expire := []any{s.p, now.UnixNano(), s.retentionMs(), b}
		for id, v := range reads[i].Val() {
			q, ok := parseQueued(id, v)
			if ok && q.queued > cutoff {
				live = append(live, q)
				continue
			}
			expire = append(expire, id, q.version)
		}
		if len(expire) > 4 || len(live) == 0 {
			states, err := scriptExpire.Run(ctx, s.c, nil, expire...).Int64Slice()
			if err != nil {
				return nil, fmt.Errorf("expire tickets: %w", err)
			}
			for _, st := range states {
				if st != 0 {
					s.modeMetrics(mode).ticketState(skirmishv1.TicketState(st))
				}
			}
		}
		queues[bucket{mode, region}] = live
	}

	props, err := s.backfills(ctx, queues, now)
	if err != nil {
		return nil, err
	}
	for b, qs := range queues {
		cands := make([]candidate, len(qs))
		for i, q := range qs {
			cands[i] = candidate{rating: q.rating, waited: now.Sub(time.Unix(0, q.created)).Seconds(), size: q.size}
		}
		s.scratch.members = s.scratch.members[:0]
		for _, g := range s.scratch.form(s.cfg.Modes[b.mode], cands) {
			p := proposal{mode: b.mode, region: b.region, teams: g.teams}
			for _, idx := range g.members {
				p.entries = append(p.entries, qs[idx])
			}
			props = append(props, p)
		}
	}
	s.updateSearching(queues)
	if len(props) == 0 {
		return nil, nil
	}
	if s.hooks.beforeClaim != nil {
		s.hooks.beforeClaim()
	}
	matches, err := s.claim(ctx, lease, props)
	if s.hooks.afterClaim != nil {
		s.hooks.afterClaim(len(matches))
	}
	return matches, err
}

// updateSearching sets the searching gauge of every mode from the queues a
// pass read (tickets in allocation are not counted).
func (s *redisStore) updateSearching(queues map[bucket][]queued) {
	n := make(map[string]int, len(s.cfg.Modes))
	for mode := range s.cfg.Modes {
		n[mode] = 0
	}
	for b, qs := range queues {
		n[b.mode] += len(qs)
	}
	for mode, c := range n {
		s.modeMetrics(mode).searching.Set(float64(c))
	}
}

// claim commits the proposals with scriptClaim, all in one round trip, and
// returns the matches that won their tickets.
func (s *redisStore) claim(ctx context.Context, lease string, props []proposal) ([]*match, error) {
	ids := make([]string, len(props))
	cmds := make([]*redis.Cmd, len(props))
	ttl := s.claimTTL().Milliseconds()
	if err := scriptClaim.Load(ctx, s.c).Err(); err != nil {
		return nil, fmt.Errorf("load claim script: %w", err)
	}
	pipe := s.c.Pipeline()
	for i, p := range props {
		ids[i] = uuid.NewString()
		args := []any{s.p, lease, ids[i], ttl}
		for _, e := range p.entries {
			args = append(args, e.id, e.version)
		}
		cmds[i] = scriptClaim.EvalSha(ctx, pipe, nil, args...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("claim matches: %w", err)
	}
	var won []int
	for i, cmd := range cmds {
		res, err := cmd.Text()
		if err != nil {
			return nil, fmt.Errorf("claim match: %w", err)
		}
		switch res {
		case "ok":
			won = append(won, i)
		case "fenced":
			s.log.Info("formation lease lost during a pass; its matches are dropped", "replica", s.replica)
			return s.claimed(ctx, props, ids, won)
		}
	}
	return s.claimed(ctx, props, ids, won)
}

// claimed builds the matches of the won proposals, reading their tickets.
func (s *redisStore) claimed(ctx context.Context, props []proposal, ids []string, won []int) ([]*match, error) {
	pipe := s.c.Pipeline()
	reads := make(map[string]*redis.SliceCmd)
	for _, i := range won {
		for _, e := range props[i].entries {
			reads[e.id] = pipe.HMGet(ctx, s.p+"t:"+e.id, ticketFields...)
		}
	}
	if len(reads) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read claimed tickets: %w", err)
		}
	}
	var out []*match
	for _, i := range won {
		p := props[i]
		m := &match{mode: p.mode, region: p.region, teams: p.teams, claim: ids[i]}
		if p.room != nil {
			m.backfill, m.gameserverID, m.roomID, m.matchID = true, p.room.gameserver, p.room.room, p.room.matchID
			if err := s.fillClaimed(ctx, p, time.Now()); err != nil {
				return nil, err
			}
		}
		for _, e := range p.entries {
			st, err := parseTicket(e.id, reads[e.id].Val())
			if err != nil {
				return nil, err
			}
			m.tickets = append(m.tickets, st.ticket())
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *redisStore) matched(ctx context.Context, m *match, assignments map[string]*skirmishv1.Assignment, now time.Time) error {
	args := []any{s.p, m.claim, now.UnixNano(), s.retentionMs(), m.roomID, m.gameserverID}
	for _, t := range m.tickets {
		raw := make(map[string]json.RawMessage, t.size())
		for _, mem := range t.members {
			b, err := protojson.Marshal(assignments[mem.id])
			if err != nil {
				return fmt.Errorf("encode assignment: %w", err)
			}
			raw[mem.id] = b
		}
		body, err := json.Marshal(raw)
		if err != nil {
			return fmt.Errorf("encode assignments: %w", err)
		}
		args = append(args, t.id, body)
	}
	// The room is recorded with the commit or before it, so that a report
	// of it (a player may join and leave at once) never finds it missing;
	// tickets that do not commit are taken out again below.
	ids, err := s.commit(ctx, m, assignments, now, args)
	if err != nil {
		return err
	}
	done := make(map[string]bool, len(ids))
	for _, id := range ids {
		done[id] = true
	}
	mm := s.modeMetrics(m.mode)
	var left []*ticket
	var waits time.Duration
	for _, t := range m.tickets {
		if !done[t.id] {
			left = append(left, t)
			continue
		}
		t.state = skirmishv1.TicketState_TICKET_STATE_MATCHED
		waited := now.Sub(t.created)
		waits += waited
		mm.timeToMatch.Observe(waited.Seconds())
		mm.ticketState(skirmishv1.TicketState_TICKET_STATE_MATCHED)
	}
	if len(ids) > 0 {
		s.updateEstimate(ctx, m.mode, waits/time.Duration(len(ids)))
	}
	if m.backfill {
		mm.backfills.Inc()
	} else {
		mm.matches.Inc()
	}
	if len(left) > 0 {
		return s.roomLeft(ctx, m, left)
	}
	return nil
}

// commit runs scriptAssign and records the room: a new room in the same
// round trip (its key is new: room ids are unique on their gameserver), a
// backfilled one by its transaction first.
func (s *redisStore) commit(ctx context.Context, m *match, assignments map[string]*skirmishv1.Assignment, now time.Time, args []any) ([]string, error) {
	if m.backfill {
		if err := s.roomMatched(ctx, m, m.tickets, assignments, now); err != nil {
			return nil, err
		}
		ids, err := scriptAssign.Run(ctx, s.c, nil, args...).StringSlice()
		if err != nil {
			return nil, fmt.Errorf("commit match: %w", err)
		}
		return ids, nil
	}
	rec := newRoomRec(m, m.tickets, assignments, now)
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode room: %w", err)
	}
	for attempt := 0; ; attempt++ {
		pipe := s.c.TxPipeline()
		pipe.Set(ctx, s.roomKey(m.gameserverID, m.roomID), body, roomTTL)
		pipe.SAdd(ctx, s.p+"gsrooms:"+m.gameserverID, m.roomID)
		assign := scriptAssign.EvalSha(ctx, pipe, nil, args...)
		_, err := pipe.Exec(ctx)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if err := scriptAssign.Load(ctx, s.c).Err(); err != nil {
				return nil, fmt.Errorf("load commit script: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("commit match: %w", err)
		}
		return assign.StringSlice()
	}
}

// updateEstimate folds one wait into the mode's wait estimate, kept by
// this replica (the lease holder commits nearly every match, so its
// estimate is everyone's) and written for the others to read; best effort.
func (s *redisStore) updateEstimate(ctx context.Context, mode string, waited time.Duration) {
	s.mu.Lock()
	est, ok := s.estimate[mode]
	if ok {
		est = (est*7 + waited) / 8
	} else {
		est = waited
	}
	s.estimate[mode] = est
	s.mu.Unlock()
	s.c.HSet(ctx, s.p+"estimate", mode, est.Milliseconds())
}

func (s *redisStore) requeue(ctx context.Context, m *match, reason string) error {
	args := []any{s.p, m.claim, reason}
	for _, t := range m.tickets {
		args = append(args, t.id)
	}
	if err := scriptRelease.Run(ctx, s.c, nil, args...).Err(); err != nil {
		return fmt.Errorf("requeue tickets: %w", err)
	}
	if m.backfill {
		return s.backfillFailed(ctx, m)
	}
	return nil
}
