package matchmaker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Rooms, the gameserver registry and lost outcomes in Redis (under the
// store's prefix P):
//
//	room:<gs>\31<room>  string, JSON roomRec, with a TTL of roomTTL
//	gsrooms:<gs>        set of the gameserver's room ids; with a TTL of
//	                    roomTTL once it deregistered
//	bf                  set of "<gs>\31<room>" of rooms that want backfill
//	gs                  set of registered gameserver ids
//	gs:<id>             hash: info (Gameserver protobuf), pend, freed
//	                    (seat counts since the last heartbeat), suspect
//	gsl:<id>            string with a TTL of GameserverTTL, renewed by every
//	                    heartbeat: the gameserver is live while it exists
//	lost                hash, match id -> MatchOutcome JSON not yet sent
//	estimate            hash, mode -> wait estimate (ms)
//
// Room records change by optimistic transactions (WATCH), ticket states
// only through the scripts.

// roomTTL bounds how long a room whose end was never reported is kept.
const roomTTL = 6 * time.Hour

// roomRec is a room the matchmaker allocated (or was asked to backfill).
type roomRec struct {
	MatchID      string         `json:"match"`
	Mode         string         `json:"mode"`
	Region       string         `json:"region,omitempty"`
	Seats        int            `json:"seats"`
	Tickets      []string       `json:"tickets,omitempty"`
	Players      []playerRec    `json:"players,omitempty"`
	Ratings      float64        `json:"ratings"`
	Open         map[uint32]int `json:"open,omitempty"`
	FillingUntil int64          `json:"filling_until,omitempty"` // unix ms: an AddSeats is in flight
	Allocated    int64          `json:"allocated"`               // unix ns
	Started      bool           `json:"started,omitempty"`
}

type playerRec struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Team uint32 `json:"team"`
}

// roomRef names a room a backfill proposal fills.
type roomRef struct {
	gameserver, room, matchID string
}

func (s *redisStore) roomKey(gs, room string) string { return s.p + "room:" + gs + sep + room }

// updateRoom applies fn to the room record (nil when there is none) in an
// optimistic transaction; fn returns the new record, or nil to delete it.
// It returns the record as it was.
func (s *redisStore) updateRoom(ctx context.Context, gs, room string, fn func(r *roomRec) *roomRec) (*roomRec, error) {
	key := s.roomKey(gs, room)
	var old *roomRec
	tx := func(tx *redis.Tx) error {
		old = nil
		b, err := tx.Get(ctx, key).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return err
		default:
			old = &roomRec{}
			if err := json.Unmarshal(b, old); err != nil {
				return fmt.Errorf("decode room %s: %w", room, err)
			}
		}
		var cp *roomRec
		if old != nil {
			c := *old
			c.Tickets = slices.Clone(old.Tickets)
			c.Players = slices.Clone(old.Players)
			if old.Open != nil {
				c.Open = make(map[uint32]int, len(old.Open))
				for k, v := range old.Open {
					c.Open[k] = v
				}
			}
			cp = &c
		}
		next := fn(cp)
		if next == nil && old == nil {
			return nil
		}
		var body []byte
		if next != nil {
			if body, err = json.Marshal(next); err != nil {
				return fmt.Errorf("encode room: %w", err)
			}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if next == nil {
				p.Del(ctx, key)
				p.SRem(ctx, s.p+"gsrooms:"+gs, room)
				p.SRem(ctx, s.p+"bf", gs+sep+room)
				return nil
			}
			p.Set(ctx, key, body, roomTTL)
			p.SAdd(ctx, s.p+"gsrooms:"+gs, room)
			if len(next.Open) > 0 {
				p.SAdd(ctx, s.p+"bf", gs+sep+room)
			} else {
				p.SRem(ctx, s.p+"bf", gs+sep+room)
			}
			return nil
		})
		return err
	}
	for range 20 {
		err := s.c.Watch(ctx, tx, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("update room %s: %w", room, err)
		}
		return old, nil
	}
	return nil, fmt.Errorf("update room %s: too much contention", room)
}

// roomMatched records the room of a committed match or backfill, with the
// tickets that were matched into it.
func (s *redisStore) roomMatched(ctx context.Context, m *match, in []*ticket, assignments map[string]*skirmishv1.Assignment, now time.Time) error {
	_, err := s.updateRoom(ctx, m.gameserverID, m.roomID, func(r *roomRec) *roomRec {
		if r == nil {
			r = &roomRec{MatchID: m.matchID, Mode: m.mode, Region: m.region, Allocated: now.UnixNano()}
		}
		r.add(m, in, assignments)
		return r
	})
	return err
}

// newRoomRec is the record of a new room of the match.
func newRoomRec(m *match, in []*ticket, assignments map[string]*skirmishv1.Assignment, now time.Time) *roomRec {
	r := &roomRec{MatchID: m.matchID, Mode: m.mode, Region: m.region, Allocated: now.UnixNano()}
	r.add(m, in, assignments)
	return r
}

// add seats the match's tickets in the room.
func (r *roomRec) add(m *match, in []*ticket, assignments map[string]*skirmishv1.Assignment) {
	r.FillingUntil = 0
	r.Seats += m.players()
	for _, t := range in {
		r.Tickets = append(r.Tickets, t.id)
		for _, mem := range t.members {
			r.Players = append(r.Players, playerRec{ID: mem.id, Name: mem.name, Team: assignments[mem.id].GetTeam()})
		}
		r.Ratings += t.rating * float64(t.size())
	}
}

// roomLeft takes tickets that did not commit (cancelled during the
// allocation) out of the room's record; their seats stay held, empty.
func (s *redisStore) roomLeft(ctx context.Context, m *match, left []*ticket) error {
	gone := make(map[string]bool)
	for _, t := range left {
		gone[t.id] = true
		for _, mem := range t.members {
			gone["player:"+mem.id] = true
		}
	}
	_, err := s.updateRoom(ctx, m.gameserverID, m.roomID, func(r *roomRec) *roomRec {
		if r == nil {
			return nil
		}
		r.Tickets = slices.DeleteFunc(r.Tickets, func(id string) bool { return gone[id] })
		r.Players = slices.DeleteFunc(r.Players, func(p playerRec) bool { return gone["player:"+p.ID] })
		for _, t := range left {
			r.Ratings -= t.rating * float64(t.size())
		}
		return r
	})
	return err
}

func (s *redisStore) backfillFailed(ctx context.Context, m *match) error {
	_, err := s.updateRoom(ctx, m.gameserverID, m.roomID, func(r *roomRec) *roomRec {
		if r != nil {
			r.FillingUntil, r.Open = 0, nil
		}
		return r
	})
	return err
}

// backfills picks, for every room that wants backfill and is not being
// filled, searching tickets of its mode in its region or with none whose
// skill window holds the room's mean rating, longest-waiting first, each
// party on a team with room for all of it (as pool.backfill does). The
// picked tickets leave queues.
func (s *redisStore) backfills(ctx context.Context, queues map[bucket][]queued, now time.Time) ([]proposal, error) {
	keys, err := s.c.SMembers(ctx, s.p+"bf").Result()
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	var out []proposal
	for _, k := range keys {
		gs, room := splitBucket(k)
		b, err := s.c.Get(ctx, s.roomKey(gs, room)).Bytes()
		if errors.Is(err, redis.Nil) {
			s.c.SRem(ctx, s.p+"bf", k)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read room: %w", err)
		}
		var r roomRec
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("decode room %s: %w", room, err)
		}
		mode, ok := s.cfg.Modes[r.Mode]
		if len(r.Open) == 0 || r.FillingUntil > now.UnixMilli() || !ok {
			continue
		}
		mean := math.NaN()
		if n := len(r.Players); n > 0 {
			mean = r.Ratings / float64(n)
		}
		type fit struct {
			b bucket
			i int
		}
		var fits []fit
		for _, region := range []string{r.Region, ""} {
			bk := bucket{r.Mode, region}
			for i, q := range queues[bk] {
				if math.IsNaN(mean) || math.Abs(q.rating-mean) <= mode.Window.width(now.Sub(time.Unix(0, q.created)).Seconds()) {
					fits = append(fits, fit{bk, i})
				}
			}
			if region == "" {
				break
			}
		}
		slices.SortFunc(fits, func(a, b fit) int { return cmp.Compare(queues[a.b][a.i].created, queues[b.b][b.i].created) })
		open := make(map[uint32]int, len(r.Open))
		for t, n := range r.Open {
			open[t] = n
		}
		p := proposal{mode: r.Mode, region: r.Region, room: &roomRef{gameserver: gs, room: room, matchID: r.MatchID}}
		taken := make(map[bucket][]int)
		for _, f := range fits {
			team, seats := uint32(0), 0
			for tm, n := range open {
				if n > seats || (n == seats && tm < team) {
					team, seats = tm, n
				}
			}
			if seats == 0 {
				break
			}
			q := queues[f.b][f.i]
			if q.size > seats {
				continue
			}
			if open[team] -= q.size; open[team] == 0 {
				delete(open, team)
			}
			p.entries = append(p.entries, q)
			p.teams = append(p.teams, team)
			taken[f.b] = append(taken[f.b], f.i)
		}
		if len(p.entries) == 0 {
			continue
		}
		for bk, idx := range taken {
			slices.Sort(idx)
			qs := queues[bk]
			for j := len(idx) - 1; j >= 0; j-- {
				qs = slices.Delete(qs, idx[j], idx[j]+1)
			}
			queues[bk] = qs
		}
		out = append(out, p)
	}
	return out, nil
}

// fillClaimed marks a room being filled by a claimed backfill: its seats
// are no longer open until the AddSeats ends.
func (s *redisStore) fillClaimed(ctx context.Context, p proposal, now time.Time) error {
	_, err := s.updateRoom(ctx, p.room.gameserver, p.room.room, func(r *roomRec) *roomRec {
		if r == nil {
			return nil
		}
		for i, e := range p.entries {
			if r.Open[p.teams[i]] -= e.size; r.Open[p.teams[i]] <= 0 {
				delete(r.Open, p.teams[i])
			}
		}
		r.FillingUntil = now.Add(s.claimTTL()).UnixMilli()
		return r
	})
	return err
}

func (s *redisStore) roomCancelled(ctx context.Context, gs, room string, missing []string, now time.Time) (int, int, error) {
	old, err := s.updateRoom(ctx, gs, room, func(*roomRec) *roomRec { return nil })
	if err != nil || old == nil {
		return 0, 0, err
	}
	n, err := s.requeueMatched(ctx, room, old.Tickets, missing, now)
	if err != nil {
		return old.Seats, n, err
	}
	// The room record is gone: only the replica that deleted it gets
	// here, so each no-show is counted once.
	return old.Seats, n, s.recordNoShows(ctx, old, missing, now)
}

// requeueMatched puts the tickets matched into the room back in the queue.
func (s *redisStore) requeueMatched(ctx context.Context, room string, tickets, missing []string, now time.Time) (int, error) {
	if len(tickets) == 0 {
		return 0, nil
	}
	args := []any{s.p, room, now.UnixNano(), joinIDs(missing)}
	for _, id := range tickets {
		args = append(args, id)
	}
	n, err := scriptRequeueMatched.Run(ctx, s.c, nil, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("requeue tickets of room %s: %w", room, err)
	}
	return n, nil
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += sep
		}
		out += id
	}
	return out
}

func (s *redisStore) roomEnded(ctx context.Context, gs, room string) (int, error) {
	old, err := s.updateRoom(ctx, gs, room, func(*roomRec) *roomRec { return nil })
	if err != nil || old == nil {
		return 0, err
	}
	return old.Seats, nil
}

func (s *redisStore) roomStarted(ctx context.Context, gs, room string) error {
	_, err := s.updateRoom(ctx, gs, room, func(r *roomRec) *roomRec {
		if r != nil {
			r.Started = true
		}
		return r
	})
	return err
}

func (s *redisStore) wantBackfill(ctx context.Context, gs, room, matchID, mode, region string, open map[uint32]int) error {
	_, err := s.updateRoom(ctx, gs, room, func(r *roomRec) *roomRec {
		if r == nil {
			r = &roomRec{MatchID: matchID, Mode: mode, Region: region, Allocated: time.Now().UnixNano(), Started: true}
		}
		r.Open = open
		return r
	})
	return err
}

func (s *redisStore) backfillDone(ctx context.Context, gs, room string) error {
	_, err := s.updateRoom(ctx, gs, room, func(r *roomRec) *roomRec {
		if r != nil {
			r.Open = nil
		}
		return r
	})
	return err
}

// The registry.

func (s *redisStore) heartbeat(ctx context.Context, info *skirmishv1.Gameserver, now time.Time) error {
	b, err := proto.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode gameserver: %w", err)
	}
	id := info.GetId()
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.p+"gs:"+id, "info", b, "pend", 0, "freed", 0, "suspect", 0)
		p.Set(ctx, s.p+"gsl:"+id, now.UnixMilli(), max(s.cfg.GameserverTTL, time.Millisecond))
		p.SAdd(ctx, s.p+"gs", id)
		p.Persist(ctx, s.p+"gsrooms:"+id) // it expires only while deregistered
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", id, err)
	}
	return nil
}

// deregister forgets the gameserver's registration only. Its rooms stay
// until they are reported ended or cancelled, or their records expire (as
// in the memory store): a gameserver deregisters once it has drained them,
// and one that deregistered early still reports on them. Its index of
// rooms expires roomTTL later, unless it registers again.
func (s *redisStore) deregister(ctx context.Context, id string) error {
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.p+"gs:"+id, s.p+"gsl:"+id)
		p.SRem(ctx, s.p+"gs", id)
		p.Expire(ctx, s.p+"gsrooms:"+id, roomTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("deregister %s: %w", id, err)
	}
	return nil
}

func (s *redisStore) gameserver(ctx context.Context, id string, now time.Time) (*skirmishv1.Gameserver, error) {
	pipe := s.c.Pipeline()
	live := pipe.Exists(ctx, s.p+"gsl:"+id)
	info := pipe.HGet(ctx, s.p+"gs:"+id, "info")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read gameserver %s: %w", id, err)
	}
	if live.Val() == 0 || info.Err() != nil {
		return nil, nil
	}
	gs := &skirmishv1.Gameserver{}
	if err := proto.Unmarshal([]byte(info.Val()), gs); err != nil {
		return nil, fmt.Errorf("decode gameserver %s: %w", id, err)
	}
	return gs, nil
}

// servers reads the registry: the live gameservers, and the ids of those
// whose liveness key expired.
func (s *redisStore) servers(ctx context.Context, now time.Time) (live []*gameserver, lost []string, err error) {
	vals, err := scriptServers.Run(ctx, s.c, nil, s.p).Slice()
	if err != nil {
		return nil, nil, fmt.Errorf("read registry: %w", err)
	}
	str := func(x any) string {
		switch v := x.(type) {
		case string:
			return v
		case int64:
			return strconv.FormatInt(v, 10)
		}
		return ""
	}
	num := func(x any) uint32 {
		n, _ := strconv.ParseInt(str(x), 10, 64)
		return uint32(max(n, 0))
	}
	for i := 0; i+6 <= len(vals); i += 6 {
		id := str(vals[i])
		if str(vals[i+1]) != "1" {
			lost = append(lost, id)
			continue
		}
		info := &skirmishv1.Gameserver{}
		if b := str(vals[i+2]); b == "" || proto.Unmarshal([]byte(b), info) != nil {
			continue
		}
		live = append(live, &gameserver{info: info, lastSeen: now, pending: num(vals[i+3]), freed: num(vals[i+4]), suspect: num(vals[i+5]) != 0})
	}
	return live, lost, nil
}

func (s *redisStore) reserve(ctx context.Context, region string, seats int, now time.Time, skip func(string) bool) (*skirmishv1.Gameserver, error) {
	live, _, err := s.servers(ctx, now)
	if err != nil {
		return nil, err
	}
	best := pickGameserver(slices.Values(live), region, seats, s.cfg.Allocation == AllocateFillFirst, s.cfg.GameserverTTL, now, skip)
	if best == nil {
		return nil, nil
	}
	if err := s.c.HIncrBy(ctx, s.p+"gs:"+best.info.GetId(), "pend", int64(seats)).Err(); err != nil {
		return nil, fmt.Errorf("reserve seats: %w", err)
	}
	return best.info, nil
}

// count adds n to a seat count of a registered gameserver.
func (s *redisStore) count(ctx context.Context, id, field string, n int) error {
	if ok, err := s.c.Exists(ctx, s.p+"gs:"+id).Result(); err != nil || ok == 0 {
		return err
	}
	return s.c.HIncrBy(ctx, s.p+"gs:"+id, field, int64(n)).Err()
}

func (s *redisStore) release(ctx context.Context, id string, seats int) error {
	return s.count(ctx, id, "pend", -seats)
}

func (s *redisStore) addSeats(ctx context.Context, id string, seats int) error {
	return s.count(ctx, id, "pend", seats)
}

func (s *redisStore) free(ctx context.Context, id string, seats int) error {
	return s.count(ctx, id, "freed", seats)
}

func (s *redisStore) suspect(ctx context.Context, id string) error {
	if ok, err := s.c.Exists(ctx, s.p+"gs:"+id).Result(); err != nil || ok == 0 {
		return err
	}
	return s.c.HSet(ctx, s.p+"gs:"+id, "suspect", 1).Err()
}

func (s *redisStore) sweep(ctx context.Context, now time.Time) (sweepResult, error) {
	live, lost, err := s.servers(ctx, now)
	if err != nil {
		return sweepResult{}, err
	}
	res := sweepResult{states: make(map[string]int, len(gameserverStates)), addrs: make(map[string]bool, len(live))}
	for _, gs := range live {
		res.addrs[gs.info.GetControlAddress()] = true
		switch {
		case gs.info.GetDraining():
			res.states["draining"]++
		case gs.used() >= gs.info.GetCapacity():
			res.states["full"]++
		default:
			res.states["available"]++
		}
	}
	if len(lost) == 0 {
		return res, nil
	}
	// Only the lease holder settles lost gameservers (the room updates
	// would make a second settler harmless, but its work wasted).
	if l, err := s.lease(ctx); err != nil || l == "" {
		return res, err
	}
	for _, id := range lost {
		requeued, recorded, err := s.settleLost(ctx, id, now)
		res.requeued += requeued
		res.recorded += recorded
		if err != nil {
			return res, err
		}
		res.lost = append(res.lost, id)
	}
	return res, nil
}

// settleLost settles the rooms of a gameserver whose registration expired
// and forgets it; see store.sweep.
func (s *redisStore) settleLost(ctx context.Context, id string, now time.Time) (requeued, recorded int, err error) {
	rooms, err := s.c.SMembers(ctx, s.p+"gsrooms:"+id).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("rooms of lost gameserver %s: %w", id, err)
	}
	for _, room := range rooms {
		b, err := s.c.Get(ctx, s.roomKey(id, room)).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return requeued, recorded, fmt.Errorf("read room %s: %w", room, err)
		}
		rec := &roomRec{}
		if err := json.Unmarshal(b, rec); err != nil {
			return requeued, recorded, fmt.Errorf("decode room %s: %w", room, err)
		}
		allocated := time.Unix(0, rec.Allocated)
		if rec.Started || now.Sub(allocated) >= s.cfg.RoomStartTimeout {
			if len(rec.Players) > 0 {
				players := make([]lostPlayer, len(rec.Players))
				for i, p := range rec.Players {
					players[i] = lostPlayer{id: p.ID, name: p.Name, team: p.Team}
				}
				o := serverLostOutcome(id, room, rec.MatchID, rec.Mode, rec.Region, allocated, now, players)
				body, err := protojson.Marshal(o)
				if err != nil {
					return requeued, recorded, fmt.Errorf("encode outcome: %w", err)
				}
				// Written before the room is forgotten: a crash between
				// the two writes it again, under the same match id.
				if err := s.c.HSet(ctx, s.p+"lost", rec.MatchID, body).Err(); err != nil {
					return requeued, recorded, fmt.Errorf("record lost match: %w", err)
				}
				recorded++
			}
			if _, err := s.updateRoom(ctx, id, room, func(*roomRec) *roomRec { return nil }); err != nil {
				return requeued, recorded, err
			}
			continue
		}
		old, err := s.updateRoom(ctx, id, room, func(*roomRec) *roomRec { return nil })
		if err != nil {
			return requeued, recorded, err
		}
		if old != nil {
			n, err := s.requeueMatched(ctx, room, old.Tickets, nil, now)
			requeued += n
			if err != nil {
				return requeued, recorded, err
			}
		}
	}
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.p+"gs:"+id, s.p+"gsrooms:"+id)
		p.SRem(ctx, s.p+"gs", id)
		return nil
	})
	if err != nil {
		return requeued, recorded, fmt.Errorf("forget lost gameserver %s: %w", id, err)
	}
	return requeued, recorded, nil
}

func (s *redisStore) pendingOutcomes(ctx context.Context, max int) ([]*skirmishv1.MatchOutcome, error) {
	all, err := s.c.HGetAll(ctx, s.p+"lost").Result()
	if err != nil {
		return nil, fmt.Errorf("read lost matches: %w", err)
	}
	var out []*skirmishv1.MatchOutcome
	for id, body := range all {
		if len(out) == max {
			break
		}
		o := &skirmishv1.MatchOutcome{}
		if err := protojson.Unmarshal([]byte(body), o); err != nil {
			return nil, fmt.Errorf("decode lost match %s: %w", id, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func (s *redisStore) outcomesSent(ctx context.Context, matchIDs []string) error {
	if len(matchIDs) == 0 {
		return nil
	}
	return s.c.HDel(ctx, s.p+"lost", matchIDs...).Err()
}

// recordNoShows counts a no-show for the missing players who were matched
// into the room, and ends their searching tickets (scriptNoShow).
func (s *redisStore) recordNoShows(ctx context.Context, r *roomRec, missing []string, now time.Time) error {
	var players []string
	for _, id := range missing {
		if slices.ContainsFunc(r.Players, func(p playerRec) bool { return p.ID == id }) && !slices.Contains(players, id) {
			players = append(players, id)
		}
	}
	if len(players) == 0 {
		return nil
	}
	args := []any{s.p, now.UnixMilli(), now.UnixNano(), max(s.cfg.NoShowDecay.Milliseconds(), 1), s.retentionMs(), noShowReason, len(s.cfg.NoShowCooldowns)}
	for _, d := range s.cfg.NoShowCooldowns {
		args = append(args, d.Milliseconds())
	}
	for _, id := range players {
		args = append(args, id)
	}
	buckets, err := scriptNoShow.Run(ctx, s.c, nil, args...).StringSlice()
	if err != nil {
		return fmt.Errorf("record no-shows: %w", err)
	}
	s.met.noShows.Add(float64(len(players)))
	for _, b := range buckets {
		mode, _ := splitBucket(b)
		s.modeMetrics(mode).ticketState(skirmishv1.TicketState_TICKET_STATE_FAILED)
	}
	return nil
}

func (s *redisStore) cooldown(ctx context.Context, players []string, now time.Time) (string, time.Time, error) {
	cmds := make([]*redis.SliceCmd, len(players))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range players {
			cmds[i] = p.HMGet(ctx, s.p+"ns:"+id, "n", "l")
		}
		return nil
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read no-shows: %w", err)
	}
	for i, cmd := range cmds {
		v := cmd.Val()
		if len(v) != 2 || v[0] == nil || v[1] == nil {
			continue
		}
		n, err1 := strconv.Atoi(fmt.Sprint(v[0]))
		l, err2 := strconv.ParseInt(fmt.Sprint(v[1]), 10, 64)
		if err1 != nil || err2 != nil {
			return "", time.Time{}, fmt.Errorf("no-shows of %s: bad record %v", players[i], v)
		}
		if until := s.cfg.noShowUntil(noShow{count: n, last: time.UnixMilli(l)}); now.Before(until) {
			return players[i], until, nil
		}
	}
	return "", time.Time{}, nil
}

func (s *redisStore) useInvites(ctx context.Context, ids []string, expires []time.Time, now time.Time) (int, error) {
	if len(ids) == 0 {
		return -1, nil
	}
	args := []any{s.p}
	for i, id := range ids {
		args = append(args, id, max(expires[i].Sub(now).Milliseconds(), 1))
	}
	n, err := scriptUseInvites.Run(ctx, s.c, nil, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("use party invites: %w", err)
	}
	return n, nil
}

func (s *redisStore) roomLive(ctx context.Context, gs, room string) (bool, error) {
	n, err := s.c.Exists(ctx, s.roomKey(gs, room)).Result()
	if err != nil {
		return false, fmt.Errorf("read room %s: %w", room, err)
	}
	return n == 1, nil
}
