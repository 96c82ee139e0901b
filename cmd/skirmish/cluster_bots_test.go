package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// clusterBots play duels over and over against a cluster, each ticket on
// the next matchmaker replica, and remember every ticket they created and
// what became of it, for the end-state checks.
type clusterBots struct {
	mmPublic []string
	// search ends the bots' searches (their tickets are cancelled); a bot
	// in a match plays it to the end, under the test's context.
	search     context.Context
	stopSearch context.CancelFunc
	wg         sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]skirmish.Session // by player id
	seen     map[string][]string         // match id -> players who saw it end
	tickets  map[string]*botTicket       // by ticket id, in creation order below
	order    []string
}

// botTicket is one ticket a bot created and what the bot saw of it.
type botTicket struct {
	player    string
	replica   string    // where it was created
	created   time.Time // when CreateTicket answered
	matched   time.Time // when the assignment arrived; zero if none
	matchID   string
	played    bool   // the bot saw the match end
	lost      string // why a matched ticket was not played, as the bot saw it
	rewatched int    // times the bot went back to it (see playOne)
}

// startBots signs in n guests through the leaderboards and starts them
// playing; stop ends them.
func startBots(c *cluster, ctx context.Context, n int, mmPublic, leaderboards []string) *clusterBots {
	c.t.Helper()
	b := &clusterBots{mmPublic: mmPublic, sessions: map[string]skirmish.Session{}, seen: map[string][]string{},
		tickets: map[string]*botTicket{}}
	b.search, b.stopSearch = context.WithCancel(ctx)
	for i := range n {
		s, err := skirmish.SignInGuest(ctx, nil, leaderboards[i%len(leaderboards)], fmt.Sprintf("bot-%d", i))
		if err != nil {
			c.t.Fatalf("SignInGuest: %v", err)
		}
		b.sessions[s.PlayerID] = s
		b.wg.Go(func() {
			var last lastTicket
			for k := i; b.search.Err() == nil; k++ {
				if err := b.playOne(ctx, mmPublic[k%len(mmPublic)], s, int64(i), &last); err != nil {
					// A killed part, a player whose earlier ticket is
					// still active, or the end of play: queue again
					// after a moment, as a client would.
					select {
					case <-b.search.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
		})
	}
	return b
}

// stop ends every search and waits for the bots to finish the matches
// they are in.
func (b *clusterBots) stop() {
	b.stopSearch()
	b.wg.Wait()
}

// lastTicket is a bot's latest ticket and the match it last joined.
type lastTicket struct {
	id, joined string
}

// searchTimeout bounds a bot's search on one replica: a replica cut off
// the network hangs its calls (no reset comes), and a client behind a
// load balancer would reach another. The ticket is kept: the bot watches
// it again on the next replica.
const searchTimeout = 20 * time.Second

// playOne plays one duel with a bot brain on the replica at mmAddr. As a
// careful client does, it first looks at its latest ticket: one still
// searching (the bot lost its watch when a replica died or hung, or its
// room was cancelled before it started and the ticket went back to the
// queue) is watched again, and one matched into a match the bot never
// joined is joined; otherwise it searches anew.
func (b *clusterBots) playOne(game context.Context, mmAddr string, s skirmish.Session, seed int64, last *lastTicket) error {
	search, cancel := context.WithTimeout(b.search, searchTimeout)
	defer cancel()
	mm, err := skirmish.DialMatchmaker(search, mmAddr, s)
	if err != nil {
		return err
	}
	defer mm.Close()
	var tk *botTicket
	var a *skirmishv1.Assignment
	if last.id != "" {
		resp, err := mm.Client().GetTicket(search, &skirmishv1.GetTicketRequest{TicketId: last.id})
		switch st := resp.GetTicket(); {
		case err != nil:
		case st.GetState() == skirmishv1.TicketState_TICKET_STATE_SEARCHING:
			b.mu.Lock()
			tk = b.tickets[last.id]
			tk.rewatched++
			b.mu.Unlock()
			if a, err = b.await(search, mm, last.id); err != nil {
				return err
			}
		case st.GetState() == skirmishv1.TicketState_TICKET_STATE_MATCHED && st.GetAssignment().GetMatchId() != last.joined:
			b.mu.Lock()
			tk = b.tickets[last.id]
			tk.rewatched++
			b.mu.Unlock()
			a = st.GetAssignment()
		}
	}
	if a == nil {
		t, err := mm.CreateTicket(search, "duel", skirmish.FindOptions{})
		if err != nil {
			return err
		}
		tk = &botTicket{player: s.PlayerID, replica: mmAddr, created: time.Now()}
		last.id, last.joined = t.GetId(), ""
		b.mu.Lock()
		b.tickets[t.GetId()] = tk
		b.order = append(b.order, t.GetId())
		b.mu.Unlock()
		if a, err = b.await(search, mm, t.GetId()); err != nil {
			return err
		}
	}
	last.joined = a.GetMatchId()
	b.mu.Lock()
	tk.matched, tk.matchID, tk.lost = time.Now(), a.GetMatchId(), ""
	b.mu.Unlock()
	lost := func(err error) error {
		b.mu.Lock()
		tk.lost = err.Error()
		b.mu.Unlock()
		return err
	}
	g, err := skirmish.Join(game, a, skirmish.JoinOptions{})
	if err != nil {
		return lost(fmt.Errorf("join: %w", err))
	}
	defer g.Close()
	if g.Welcome().GetPlayerId() != s.PlayerID {
		return lost(fmt.Errorf("welcomed as %q, want %q", g.Welcome().GetPlayerId(), s.PlayerID))
	}
	brain := bot.NewBrain(g.Welcome().GetEntityId(), seed)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for {
		select {
		case <-game.Done():
			return lost(game.Err())
		case <-g.Done():
			o := g.Outcome()
			if o == nil {
				return lost(fmt.Errorf("connection ended without a match end: %v", g.Err()))
			}
			b.mu.Lock()
			tk.played = true
			b.seen[o.GetMatchId()] = append(b.seen[o.GetMatchId()], s.PlayerID)
			b.mu.Unlock()
			return nil
		case <-tick.C:
			mx, my, aim, fire := brain.Decide(g.World())
			if _, err := g.SendArena(mx, my, aim, fire); err != nil {
				select {
				case <-g.Done():
				default:
					return lost(err)
				}
			}
		}
	}
}

// await watches the ticket until it is matched. When the bots stop, the
// ticket is cancelled (as FindMatch does); when only this search timed
// out, it is kept for the next replica to watch.
func (b *clusterBots) await(search context.Context, mm *skirmish.Matchmaker, id string) (*skirmishv1.Assignment, error) {
	a, err := mm.AwaitMatch(search, id, nil)
	if err != nil && b.search.Err() != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mm.CancelTicket(ctx, id) // best effort: else it expires
	}
	return a, err
}

// matchesSeen is how many matches the bots saw end.
func (b *clusterBots) matchesSeen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

// firstMatchAfter is how long after t the first search begun after t was
// matched, or false when none has been yet: the time the cluster took to
// form matches again after a fault at t.
func (b *clusterBots) firstMatchAfter(t time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var first time.Time
	for i := len(b.order) - 1; i >= 0; i-- {
		tk := b.tickets[b.order[i]]
		if tk.created.Before(t) {
			break
		}
		if !tk.matched.IsZero() && (first.IsZero() || tk.matched.Before(first)) {
			first = tk.matched
		}
	}
	return first.Sub(t), !first.IsZero()
}

// ticketStates reads every ticket the bots created through the
// matchmaker API (as its player, on the replicas in turn) and returns
// their states by id. A ticket the matchmakers cannot read is an error.
func (b *clusterBots) ticketStates(ctx context.Context) (map[string]*skirmishv1.Ticket, error) {
	b.mu.Lock()
	ids := append([]string(nil), b.order...)
	owner := make(map[string]string, len(ids))
	for _, id := range ids {
		owner[id] = b.tickets[id].player
	}
	b.mu.Unlock()
	conns := map[string]*skirmish.Matchmaker{}
	defer func() {
		for _, m := range conns {
			m.Close()
		}
	}()
	out := make(map[string]*skirmishv1.Ticket, len(ids))
	for i, id := range ids {
		addr := b.mmPublic[i%len(b.mmPublic)]
		key := owner[id] + "@" + addr
		m := conns[key]
		if m == nil {
			var err error
			if m, err = skirmish.DialMatchmaker(ctx, addr, b.sessions[owner[id]]); err != nil {
				return nil, err
			}
			conns[key] = m
		}
		// Hundreds of reads from one address meet the replicas' per-address
		// call limit (100/s): slow down when told, as a client does.
		resp, err := m.Client().GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: id})
		for try := 0; status.Code(err) == codes.ResourceExhausted && try < 100; try++ {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			resp, err = m.Client().GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: id})
		}
		if status.Code(err) == codes.NotFound {
			return nil, fmt.Errorf("ticket %s of %s: not found on %s", id, owner[id], addr)
		}
		if err != nil {
			return nil, fmt.Errorf("GetTicket(%s) on %s: %w", id, addr, err)
		}
		out[id] = resp.GetTicket()
	}
	return out, nil
}
