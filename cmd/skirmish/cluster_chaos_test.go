package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/matchmaker"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// The long version of TestClusterAcrossHosts (`make chaos`):
//
//	go test ./cmd/skirmish -run TestClusterAcrossHosts -count 1 -v -timeout 0 -chaos.duration 10m
//
// runs rounds of faults chosen at random for the given time under a
// steady bot load, checks the invariants after every round and at the
// end, and prints a summary.
var (
	chaosDuration = flag.Duration("chaos.duration", 0,
		"TestClusterAcrossHosts: inject random faults for this long (the long version); 0 runs the short scripted version")
	chaosBots = flag.Int("chaos.bots", 8, "TestClusterAcrossHosts: bot players")
	chaosSeed = flag.Uint64("chaos.seed", 0, "TestClusterAcrossHosts: seed of the long version's choice of faults (0: from the clock; printed)")
)

// clusterMMPrefix is the matchmakers' key prefix in Redis (the default of
// --redis-prefix).
const clusterMMPrefix = "skirmish:mm:"

// chaos injects faults into a running cluster and checks the invariants.
type chaos struct {
	c        *cluster
	bots     *clusterBots
	rc       *redis.Client
	db       *pgx.Conn
	mms      []string // matchmaker host names
	mmPublic []string
	lbs      []string // leaderboard base URLs
	modes    map[string]matchmaker.Mode

	faults []fault
	checks int // invariant checks run
}

// fault is one fault injected and how the cluster recovered.
type fault struct {
	kind, target string
	at           time.Time
	// formed is how long after the fault a search begun after it was
	// matched; settled how long until the bots saw two more matches end.
	formed, settled time.Duration
}

// settleBound is how long a round waits for the cluster to play again
// after a fault, on a machine that may be loaded.
const settleBound = 90 * time.Second

// await waits for cond, polling, up to bound; it ends the test if cond
// never holds.
func (k *chaos) await(ctx context.Context, what string, bound time.Duration, cond func() bool) {
	k.c.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(bound)
	for !cond() {
		select {
		case <-ctx.Done():
			k.c.t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-deadline:
			k.c.t.Fatalf("waiting for %s: gave up after %s", what, bound)
		case <-tick.C:
		}
	}
}

// settle waits until the bots have seen two more matches end than before,
// and a search begun after the fault matched, and records the fault.
func (k *chaos) settle(ctx context.Context, f fault, before int) {
	k.c.t.Helper()
	k.await(ctx, fmt.Sprintf("two matches after %s %s", f.kind, f.target), settleBound, func() bool {
		return k.bots.matchesSeen() >= before+2
	})
	f.settled = time.Since(f.at)
	var ok bool
	k.await(ctx, fmt.Sprintf("a search begun after %s %s to match", f.kind, f.target), settleBound, func() bool {
		f.formed, ok = k.bots.firstMatchAfter(f.at)
		return ok
	})
	k.faults = append(k.faults, f)
	k.c.t.Logf("%-12s %-4s recovered: a new search matched after %s, two matches played after %s (%d seen)",
		f.kind, f.target, f.formed.Round(time.Millisecond), f.settled.Round(time.Millisecond), k.bots.matchesSeen())
}

// kill sends SIGKILL to the part on the host, starts it again and waits
// for the cluster to play again.
func (k *chaos) kill(ctx context.Context, host string) {
	k.c.t.Helper()
	before := k.bots.matchesSeen()
	f := fault{kind: "kill -9", target: host, at: time.Now()}
	p := k.c.parts[host]
	p.proc.Kill()
	k.c.restart(ctx, p)
	k.settle(ctx, f, before)
}

// leaseHolder returns the formation lease's epoch and replica.
func (k *chaos) leaseHolder(ctx context.Context) (epoch, replica string) {
	v, _ := k.rc.Get(ctx, clusterMMPrefix+"lease").Result()
	epoch, replica, _ = strings.Cut(v, "|")
	return epoch, replica
}

// cutLeaseHolder takes the formation lease holder off the network until
// another replica holds the lease and the bots play again, then heals it.
func (k *chaos) cutLeaseHolder(ctx context.Context) {
	k.c.t.Helper()
	var epoch, victim string
	k.await(ctx, "a formation lease holder", settleBound, func() bool { epoch, victim = k.leaseHolder(ctx); return victim != "" })
	before := k.bots.matchesSeen()
	f := fault{kind: "cut", target: victim, at: time.Now()}
	k.c.t.Logf("cut %s, the lease holder (epoch %s), off the network", victim, epoch)
	if err := k.c.lab.Host(victim).Cut(ctx); err != nil {
		k.c.t.Fatal(err)
	}
	k.await(ctx, "another replica to take the lease", settleBound, func() bool {
		e, r := k.leaseHolder(ctx)
		return r != "" && r != victim && e != epoch
	})
	k.settle(ctx, f, before)
	if err := k.c.lab.Host(victim).Heal(ctx); err != nil {
		k.c.t.Fatal(err)
	}
}

// restartMatchmakers checks that tickets made before every matchmaker
// restarts still match after: two players search for a 2v2 (it needs
// four), every replica is killed and started again, two more come, and
// all four must be matched. name tells this round's players apart.
func (k *chaos) restartMatchmakers(ctx context.Context, name string) {
	t := k.c.t
	t.Helper()
	before := k.bots.matchesSeen()
	players := []string{name + "-early-1", name + "-early-2", name + "-late-1", name + "-late-2"}
	var early []*skirmishv1.Ticket
	sessions := map[string]skirmish.Session{}
	for i, p := range players {
		s, err := skirmish.SignInGuest(ctx, nil, k.lbs[0], p)
		if err != nil {
			t.Fatalf("SignInGuest: %v", err)
		}
		sessions[p] = s
		if i < 2 {
			m, err := skirmish.DialMatchmaker(ctx, k.mmPublic[i], s)
			if err != nil {
				t.Fatal(err)
			}
			tk, err := m.CreateTicket(ctx, "team", skirmish.FindOptions{})
			m.Close()
			if err != nil {
				t.Fatalf("CreateTicket(%s): %v", p, err)
			}
			early = append(early, tk)
		}
	}
	f := fault{kind: "restart all", target: "mm", at: time.Now()}
	for _, h := range k.mms {
		k.c.parts[h].proc.Kill()
	}
	for _, h := range k.mms {
		k.c.restart(ctx, k.c.parts[h])
	}
	assigned := make(chan error, 4)
	for i, p := range players {
		go func() {
			m, err := skirmish.DialMatchmaker(ctx, k.mmPublic[(i+1)%len(k.mmPublic)], sessions[p])
			if err != nil {
				assigned <- err
				return
			}
			defer m.Close()
			if i < 2 {
				_, err = m.AwaitMatch(ctx, early[i].GetId(), nil)
			} else {
				_, err = m.FindMatch(ctx, "team", nil)
			}
			if err != nil {
				err = fmt.Errorf("%s: %w", p, err)
			}
			assigned <- err
		}()
	}
	k.checks++
	for range 4 {
		if err := <-assigned; err != nil {
			t.Errorf("after every matchmaker restarted: %v", err)
		}
	}
	if k.bots.search.Err() == nil {
		k.settle(ctx, f, before)
	} else {
		k.c.t.Logf("restart all mm: tickets made before matched after (%s)", time.Since(f.at).Round(time.Millisecond))
	}
}

// runChaos injects faults at random for d: kill -9 of any part (and its
// restart), the lease holder cut off, every matchmaker restarted with
// tickets searching; after each round it checks what can be checked while
// the bots play.
func (k *chaos) runChaos(ctx context.Context, d time.Duration, seed uint64, victims []string) {
	rng := rand.New(rand.NewPCG(seed, 0))
	k.c.t.Logf("chaos for %s, seed %d (-chaos.seed %d repeats the choice of faults)", d, seed, seed)
	end := time.Now().Add(d)
	for round := 1; time.Now().Before(end); round++ {
		switch r := rng.IntN(100); {
		case r < 70:
			k.kill(ctx, victims[rng.IntN(len(victims))])
		case r < 85:
			k.cutLeaseHolder(ctx)
		default:
			k.restartMatchmakers(ctx, fmt.Sprintf("r%d", round))
		}
		k.checkWhilePlaying(ctx)
	}
}

// checkWhilePlaying checks the invariants that hold at any moment: no
// player in two matches at once, and no ticket searching (or allocating)
// past the time it must have ended by.
func (k *chaos) checkWhilePlaying(ctx context.Context) {
	k.c.t.Helper()
	if err := k.oneMatchAtATime(ctx); err != nil {
		k.c.t.Error(err)
	}
	if _, err := k.noStuckTickets(ctx, time.Now()); err != nil {
		k.c.t.Error(err)
	}
}

// oneMatchAtATime checks in the match history that no player was in two
// matches at once: no two matches that a player played overlap in time.
// Left out: rooms that never started (end reason cancelled: a player who
// never came, say because its bot lost the assignment with a killed
// matchmaker, holds a seat there while it plays elsewhere, and nobody
// played), and matches recorded as lost with their gameserver (their end
// is when the loss was noticed, not when the player left).
func (k *chaos) oneMatchAtATime(ctx context.Context) error {
	k.checks++
	rows, err := k.db.Query(ctx, `SELECT a.player_id,
		  a.match_id || ' (' || ma.end_reason || ', ' || ma.gameserver_id || ', ' || ma.started_at || '-' || ma.ended_at || ')',
		  b.match_id || ' (' || mb.end_reason || ', ' || mb.gameserver_id || ', ' || mb.started_at || '-' || mb.ended_at || ')'
		FROM match_players a
		JOIN match_players b ON b.player_id = a.player_id AND a.match_id < b.match_id
		JOIN matches ma ON ma.id = a.match_id
		JOIN matches mb ON mb.id = b.match_id
		WHERE ma.end_reason NOT IN ('server_lost', 'cancelled') AND mb.end_reason NOT IN ('server_lost', 'cancelled')
		  AND ma.started_at < mb.ended_at AND mb.started_at < ma.ended_at
		LIMIT 10`)
	if err != nil {
		return fmt.Errorf("overlapping matches: %w", err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var p, a, b string
		if err := rows.Scan(&p, &a, &b); err != nil {
			return err
		}
		bad = append(bad, fmt.Sprintf("%s in %s and %s", p, a, b))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// And no ticket of the bots was matched into a match another of the
	// same player's tickets was matched into.
	k.bots.mu.Lock()
	byPlayer := map[string]string{}
	for id, tk := range k.bots.tickets {
		if tk.matchID == "" {
			continue
		}
		key := tk.player + "|" + tk.matchID
		if other, ok := byPlayer[key]; ok {
			bad = append(bad, fmt.Sprintf("%s's tickets %s and %s both in match %s", tk.player, other, id, tk.matchID))
		}
		byPlayer[key] = id
	}
	k.bots.mu.Unlock()
	if len(bad) > 0 {
		return fmt.Errorf("a player in two matches at once: %s", strings.Join(bad, "; "))
	}
	return nil
}

// redisTicket is a ticket as the Redis store keeps it.
type redisTicket struct {
	id     string
	state  skirmishv1.TicketState
	mode   string
	queued time.Time
	claim  string
}

// redisTickets reads every ticket the matchmakers keep in Redis.
func (k *chaos) redisTickets(ctx context.Context) ([]redisTicket, error) {
	var out []redisTicket
	iter := k.rc.Scan(ctx, 0, clusterMMPrefix+"t:*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		v, err := k.rc.HMGet(ctx, key, "st", "b", "q", "c").Result()
		if err != nil {
			return nil, err
		}
		if v[0] == nil {
			continue // expired since the scan
		}
		str := func(i int) string { s, _ := v[i].(string); return s }
		st, _ := strconv.Atoi(str(0))
		q, _ := strconv.ParseInt(str(2), 10, 64)
		mode, _, _ := strings.Cut(str(1), "\x1f")
		out = append(out, redisTicket{id: strings.TrimPrefix(key, clusterMMPrefix+"t:"), state: skirmishv1.TicketState(st),
			mode: mode, queued: time.Unix(0, q), claim: str(3)})
	}
	return out, iter.Err()
}

// expiryGrace is the matchmakers' ExpiryGrace (the default).
const expiryGrace = 15 * time.Second

// stuckSlack is how long past its bound a ticket may take to end: the
// lease moving (2 s), a pass, a loaded machine.
const stuckSlack = 15 * time.Second

// endBy is when a searching ticket must have ended: its mode's MaxWait
// and the expiry grace after it was queued.
func (k *chaos) endBy(tk redisTicket) time.Time {
	return tk.queued.Add(k.modes[tk.mode].MaxWait + expiryGrace)
}

// noStuckTickets checks that no ticket in Redis has searched (or waited
// in allocation) longer than it may: every ticket ends, matched,
// cancelled, expired or failed. It returns how many are searching.
func (k *chaos) noStuckTickets(ctx context.Context, now time.Time) (searching int, err error) {
	k.checks++
	all, err := k.redisTickets(ctx)
	if err != nil {
		return 0, fmt.Errorf("read tickets from Redis: %w", err)
	}
	var stuck []string
	for _, tk := range all {
		if tk.state != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
			continue
		}
		searching++
		if now.After(k.endBy(tk).Add(stuckSlack)) {
			stuck = append(stuck, fmt.Sprintf("%s (%s, queued %s ago, claim %q)", tk.id, tk.mode, now.Sub(tk.queued).Round(time.Second), tk.claim))
		}
	}
	claims, err := k.rc.ZRangeWithScores(ctx, clusterMMPrefix+"claims", 0, -1).Result()
	if err != nil {
		return 0, fmt.Errorf("read claims: %w", err)
	}
	for _, c := range claims {
		if deadline := time.UnixMilli(int64(c.Score)); now.After(deadline.Add(stuckSlack)) {
			stuck = append(stuck, fmt.Sprintf("claim on %v past its deadline by %s", c.Member, now.Sub(deadline).Round(time.Second)))
		}
	}
	if len(stuck) > 0 {
		return searching, fmt.Errorf("tickets stuck searching or allocating: %s", strings.Join(stuck, "; "))
	}
	return searching, nil
}

// allTicketsEnded waits (as long as the longest a searching ticket may
// still search) until no ticket in Redis is searching, no claim is left
// and no player has an active ticket; then reads every ticket the bots
// created through the matchmaker API, which must all have ended, and
// returns how they ended.
func (k *chaos) allTicketsEnded(ctx context.Context) map[string]int {
	t := k.c.t
	t.Helper()
	var last error
	for {
		now := time.Now()
		all, err := k.redisTickets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var open []string
		latest := now
		for _, tk := range all {
			if tk.state == skirmishv1.TicketState_TICKET_STATE_SEARCHING {
				open = append(open, tk.id)
				latest = later(latest, k.endBy(tk).Add(stuckSlack))
			}
		}
		claims, _ := k.rc.ZCard(ctx, clusterMMPrefix+"claims").Result()
		active, _ := k.rc.Keys(ctx, clusterMMPrefix+"a:*").Result()
		if len(open) == 0 && claims == 0 && len(active) == 0 {
			break
		}
		last = fmt.Errorf("%d tickets searching (%v), %d claims, active tickets of %v", len(open), open, claims, active)
		if now.After(latest) {
			t.Errorf("not every ticket ended by the time the last should have: %v", last)
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for every ticket to end: %v (%v)", ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
	k.checks++
	states, err := k.bots.ticketStates(ctx)
	if err != nil {
		t.Fatalf("read the bots' tickets: %v", err)
	}
	k.checks++
	ended := map[string]int{}
	k.bots.mu.Lock()
	defer k.bots.mu.Unlock()
	for id, pb := range states {
		tk := k.bots.tickets[id]
		if tk.rewatched > 0 {
			ended["(of which the bot went back to it)"]++
		}
		switch pb.GetState() {
		case skirmishv1.TicketState_TICKET_STATE_MATCHED:
			switch {
			case pb.GetAssignment().GetMatchId() != tk.matchID && tk.matchID != "":
				// Its room was cancelled before it started, it went back
				// to the queue and matched again after its bot stopped.
				ended["matched, again after its bot left it"]++
			case tk.played:
				ended["matched, played"]++
			case tk.matchID == "":
				// The bot stopped watching (a replica died under it, or
				// the end of play) before the assignment reached it.
				ended["matched, assignment not seen"]++
			default:
				ended["matched, not played: "+shortReason(tk.lost)]++
			}
		case skirmishv1.TicketState_TICKET_STATE_CANCELLED, skirmishv1.TicketState_TICKET_STATE_EXPIRED, skirmishv1.TicketState_TICKET_STATE_FAILED:
			ended[strings.ToLower(strings.TrimPrefix(pb.GetState().String(), "TICKET_STATE_"))]++
		default:
			t.Errorf("ticket %s of %s (created on %s at %s) is %v at the end, want an end state",
				id, tk.player, tk.replica, tk.created.Format(time.TimeOnly), pb.GetState())
		}
	}
	return ended
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// shortReason cuts an error to what tells failures apart.
func shortReason(s string) string {
	switch {
	case s == "":
		return "no reason"
	case strings.Contains(s, "connection refused"):
		return "gameserver refused the connection"
	case strings.Contains(s, "without a match end"):
		return "connection to the gameserver lost"
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// summary logs what the run did: matches, tickets, faults with their
// recovery times, invariant checks.
func (k *chaos) summary(t *testing.T, took time.Duration, ended map[string]int) {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster chaos summary after %s: %d bots, %d matches seen end, %d tickets created by the bots, %d invariant checks (%s)\n",
		took.Round(time.Second), len(k.bots.sessions), k.bots.matchesSeen(), len(k.bots.tickets), k.checks, map[bool]string{true: "FAILED", false: "all passed"}[t.Failed()])
	kinds := slices.Sorted(func(yield func(string) bool) {
		for k := range ended {
			if !yield(k) {
				return
			}
		}
	})
	for _, s := range kinds {
		fmt.Fprintf(&b, "  tickets %-40s %d\n", s+":", ended[s])
	}
	// Matches whose end the bots saw but that are recorded as lost with
	// their gameserver: possible if a gameserver killed after the end went
	// out has its match recorded lost before its restarted outbox publishes
	// the real outcome (the first record of a match id wins). Counted, not
	// a failed check, until that is settled.
	seenIDs := make([]string, 0, len(k.bots.seen))
	for id := range k.bots.seen {
		seenIDs = append(seenIDs, id)
	}
	var seenLost int
	if err := k.db.QueryRow(context.Background(), "SELECT count(*) FROM matches WHERE id = ANY($1) AND end_reason = 'server_lost'", seenIDs).Scan(&seenLost); err == nil {
		fmt.Fprintf(&b, "  matches seen end but recorded server_lost     %d\n", seenLost)
	}
	if rows, err := k.db.Query(context.Background(), "SELECT end_reason, count(*) FROM matches GROUP BY end_reason ORDER BY end_reason"); err == nil {
		for rows.Next() {
			var reason string
			var n int
			if rows.Scan(&reason, &n) == nil {
				fmt.Fprintf(&b, "  matches recorded %-32s %d\n", reason+":", n)
			}
		}
		rows.Close()
	}
	byKind := map[string][]fault{}
	for _, f := range k.faults {
		byKind[f.kind] = append(byKind[f.kind], f)
	}
	fmt.Fprintf(&b, "  %-12s %6s %26s %26s\n", "fault", "count", "new search matched p50/max", "two matches played p50/max")
	for _, kind := range slices.Sorted(func(yield func(string) bool) {
		for k := range byKind {
			if !yield(k) {
				return
			}
		}
	}) {
		fs := byKind[kind]
		formed := make([]time.Duration, len(fs))
		settled := make([]time.Duration, len(fs))
		for i, f := range fs {
			formed[i], settled[i] = f.formed, f.settled
		}
		fmt.Fprintf(&b, "  %-12s %6d %26s %26s\n", kind, len(fs), p50max(formed), p50max(settled))
	}
	t.Log(b.String())
}

func p50max(d []time.Duration) string {
	if len(d) == 0 {
		return "-"
	}
	slices.Sort(d)
	return fmt.Sprintf("%.1f s / %.1f s", d[len(d)/2].Seconds(), d[len(d)-1].Seconds())
}
