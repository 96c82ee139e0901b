package matchmaker

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func newTestPool(t testing.TB) *pool {
	t.Helper()
	cfg, err := Config{WaitScale: 0.05}.withDefaults() // duel waits 3s, grace 0.75s
	if err != nil {
		t.Fatal(err)
	}
	met, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return newPool(cfg, met)
}

// TestPoolProperties drives the pool with random arrivals, cancels, slow
// and failing allocations on a virtual clock, and checks that no ticket is
// ever in two matches, that a player has one active ticket at most, and
// that every ticket ends matched, expired, cancelled or failed.
func TestPoolProperties(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			p := newTestPool(t)
			modes := []string{"duel", "ffa", "team", "team4"}
			regions := []string{"", "eu", "us"}
			now := time.Unix(1_700_000_000, 0)
			var all []*ticket
			inMatch := map[*ticket]bool{}  // in a match whose allocation is in flight
			matchedIn := map[*ticket]int{} // successful matches a ticket was in
			var pending []*match
			resolve := func(m *match) {
				for _, t := range m.tickets {
					delete(inMatch, t)
				}
				if rng.IntN(4) == 0 {
					p.requeue(m, "create room: unavailable")
					return
				}
				as := map[string]*skirmishv1.Assignment{}
				for i, t := range m.tickets {
					for _, mem := range t.members {
						as[mem.id] = &skirmishv1.Assignment{MatchId: fmt.Sprint(i)}
					}
				}
				for _, t := range m.tickets {
					if !t.ended() { // cancelled tickets stay cancelled
						matchedIn[t]++
					}
				}
				p.matched(m, as, now)
			}
			for step := range 600 {
				now = now.Add(100 * time.Millisecond)
				if step < 400 {
					for range rng.IntN(6) {
						player := fmt.Sprintf("p%d", rng.IntN(300))
						mode := modes[rng.IntN(len(modes))]
						tk := newTicket(fmt.Sprintf("t%d", len(all)), mode, regions[rng.IntN(len(regions))],
							party(rng, player, p.cfg.Modes[mode].TeamSize), nil, now)
						if err := p.add(tk); err == nil {
							all = append(all, tk)
						}
					}
				}
				for range rng.IntN(3) {
					if len(all) > 0 {
						tk := all[rng.IntN(len(all))]
						p.cancel(tk.id, tk.members[rng.IntN(tk.size())].id, now)
					}
				}
				for _, m := range p.pass(now) {
					for _, tk := range m.tickets {
						if inMatch[tk] || matchedIn[tk] > 0 || tk.ended() {
							t.Fatalf("step %d: ticket %s (state %v) formed into a second match", step, tk.id, tk.state)
						}
						inMatch[tk] = true
					}
					pending = append(pending, m)
				}
				// Allocations finish after a random number of passes.
				keep := pending[:0]
				for _, m := range pending {
					if rng.IntN(3) == 0 {
						resolve(m)
					} else {
						keep = append(keep, m)
					}
				}
				pending = keep
				active := map[string]int{}
				for _, tk := range all {
					if !tk.ended() {
						for _, mem := range tk.members {
							active[mem.id]++
							if active[mem.id] > 1 {
								t.Fatalf("step %d: player %s has two active tickets", step, mem.id)
							}
						}
					}
				}
			}
			for _, m := range pending {
				resolve(m)
			}
			for range 100 { // long enough for every deadline to pass
				now = now.Add(100 * time.Millisecond)
				for _, m := range p.pass(now) {
					resolve(m)
				}
			}
			states := map[skirmishv1.TicketState]int{}
			for _, tk := range all {
				states[tk.state]++
				if tk.state == skirmishv1.TicketState_TICKET_STATE_MATCHED {
					if matchedIn[tk] != 1 || len(tk.assignments) != tk.size() {
						t.Errorf("ticket %s matched in %d matches with assignments %v, want 1", tk.id, matchedIn[tk], tk.assignments)
					}
				} else if matchedIn[tk] != 0 {
					t.Errorf("ticket %s is %v but was matched", tk.id, tk.state)
				}
				if !tk.ended() {
					t.Errorf("ticket %s still %v after every deadline", tk.id, tk.state)
				}
			}
			if states[skirmishv1.TicketState_TICKET_STATE_MATCHED] == 0 {
				t.Errorf("no ticket matched: %v", states)
			}
			t.Logf("%d tickets: %v", len(all), states)
		})
	}
}

func TestPoolCancelAndRetention(t *testing.T) {
	p := newTestPool(t)
	now := time.Unix(1_700_000_000, 0)
	tk := newTicket("a", "duel", "", []member{{id: "p1", rating: 1500}}, nil, now)
	if err := p.add(tk); err != nil {
		t.Fatal(err)
	}
	if err := p.add(newTicket("b", "team", "", []member{{id: "p2"}, {id: "p1"}}, nil, now)); err == nil {
		t.Fatal("second add for p1 succeeded, want an activeError")
	}
	if _, err := p.cancel("a", "p2", now); err == nil {
		t.Error("p2 cancelled p1's ticket")
	}
	pb, err := p.cancel("a", "p1", now)
	if err != nil || pb.GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
		t.Fatalf("cancel = %v, %v; want cancelled", pb, err)
	}
	if _, err := p.cancel("a", "p1", now); err != nil {
		t.Errorf("second cancel = %v, want no error", err)
	}
	p.pass(now.Add(2 * p.cfg.TicketRetention))
	if _, known := p.counts(); known != 0 {
		t.Errorf("%d tickets remembered after retention, want 0", known)
	}
}

// party returns a ticket's members: the player, and in team modes with
// some chance party members up to the team size (player ids with a suffix, so they collide with
// other tickets of the same player as real parties would).
func party(rng *rand.Rand, player string, teamSize int) []member {
	members := []member{{id: player, rating: 1500 + 300*rng.NormFloat64()}}
	if teamSize > 1 && rng.IntN(3) == 0 {
		for i := range 1 + rng.IntN(teamSize-1) {
			members = append(members, member{id: fmt.Sprintf("%s-%d", player, i), rating: 1500 + 300*rng.NormFloat64()})
		}
	}
	return members
}
