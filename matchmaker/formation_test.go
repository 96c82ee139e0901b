package matchmaker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestFormMatches(t *testing.T) {
	window := SkillWindow{Initial: 100, PerSecond: 10, Max: 300}
	duel := Mode{Teams: 2, TeamSize: 1, MinPlayers: 2, MaxWait: 30 * time.Second, Window: window}
	ffa := Mode{Teams: 8, TeamSize: 1, MinPlayers: 2, MaxWait: 30 * time.Second, Window: window}
	team := Mode{Teams: 2, TeamSize: 2, MinPlayers: 4, MaxWait: 30 * time.Second, Window: window}
	team4 := Mode{Teams: 2, TeamSize: 4, MinPlayers: 8, MaxWait: 30 * time.Second, Window: window}
	tests := []struct {
		name  string
		mode  Mode
		cands []candidate
		want  [][]int32 // members of each group, sorted
	}{
		{"duel pair in window", duel, []candidate{{1500, 0, 1}, {1550, 0, 1}}, [][]int32{{0, 1}}},
		{"duel pair outside window", duel, []candidate{{1500, 0, 1}, {1700, 0, 1}}, nil},
		{"window widens with wait", duel, []candidate{{1500, 15, 1}, {1700, 0, 1}}, [][]int32{{0, 1}}},
		{"window stops at its cap", duel, []candidate{{1500, 29, 1}, {1900, 29, 1}}, nil},
		{"closest pairs", duel, []candidate{{1000, 0, 1}, {1500, 0, 1}, {1010, 0, 1}, {1490, 0, 1}}, [][]int32{{0, 2}, {1, 3}}},
		{"oldest ticket chooses its closest neighbour", duel,
			[]candidate{{1500, 5, 1}, {1450, 0, 1}, {1520, 0, 1}}, [][]int32{{0, 2}}},
		{"odd one waits", duel, []candidate{{1500, 0, 1}, {1510, 0, 1}, {1520, 0, 1}}, [][]int32{{0, 1}}},
		{"ffa waits for eight", ffa, []candidate{{1500, 1, 1}, {1510, 1, 1}, {1520, 1, 1}}, nil},
		{"ffa smaller match after max wait", ffa, []candidate{{1500, 31, 1}, {1510, 1, 1}, {1520, 1, 1}}, [][]int32{{0, 1, 2}}},
		{"ffa full match", ffa, ffaOf(8, 1500, 10), [][]int32{{0, 1, 2, 3, 4, 5, 6, 7}}},
		{"team needs four", team, []candidate{{1500, 40, 1}, {1510, 40, 1}, {1520, 40, 1}}, nil},
		{"team of four", team, []candidate{{1500, 0, 1}, {1510, 0, 1}, {1520, 0, 1}, {1530, 0, 1}}, [][]int32{{0, 1, 2, 3}}},
		{"two parties of two", team, []candidate{{1500, 0, 2}, {1510, 0, 2}}, [][]int32{{0, 1}}},
		{"party and two singles", team, []candidate{{1500, 0, 2}, {1505, 0, 1}, {1510, 0, 1}}, [][]int32{{0, 1, 2}}},
		{"party steps over a party too big for the seats left", team4,
			[]candidate{{1500, 0, 3}, {1501, 0, 3}, {1502, 0, 1}, {1503, 0, 1}}, [][]int32{{0, 1, 2, 3}}},
		{"parties that cannot make equal teams wait", team4, []candidate{{1500, 0, 3}, {1501, 0, 3}, {1502, 0, 2}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups := formMatches(tt.mode, tt.cands)
			var got [][]int32
			for _, g := range groups {
				m := slices.Clone(g.members)
				slices.Sort(m)
				got = append(got, m)
			}
			slices.SortFunc(got, func(a, b []int32) int { return int(a[0] - b[0]) })
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("formMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func ffaOf(n int, base, step float64) []candidate {
	c := make([]candidate, n)
	for i := range c {
		c[i] = candidate{rating: base + float64(i)*step, waited: 1}
	}
	return c
}

func TestBalanceTeams(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		ratings []float64
		maxDiff float64
	}{
		{"2v2", Mode{Teams: 2, TeamSize: 2}, []float64{1000, 1100, 1900, 2000}, 0},
		{"4v4", Mode{Teams: 2, TeamSize: 4}, []float64{1000, 1200, 1300, 1400, 1500, 1600, 1700, 2000}, 100},
		{"3 teams of 2 by snake draft", Mode{Teams: 3, TeamSize: 2}, []float64{1000, 1100, 1200, 1300, 1400, 1500}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			teams := balanceTeams(tt.mode, tt.ratings)
			sums := make([]float64, tt.mode.Teams)
			sizes := make([]int, tt.mode.Teams)
			for i, team := range teams {
				if team < 1 || int(team) > tt.mode.Teams {
					t.Fatalf("teams = %v, want numbers from 1 to %d", teams, tt.mode.Teams)
				}
				sums[team-1] += tt.ratings[i]
				sizes[team-1]++
			}
			for team, n := range sizes {
				if n != len(tt.ratings)/tt.mode.Teams {
					t.Errorf("team %d has %d players, want %d (teams %v)", team+1, n, len(tt.ratings)/tt.mode.Teams, teams)
				}
			}
			if diff := slices.Max(sums) - slices.Min(sums); diff > tt.maxDiff {
				t.Errorf("team totals %v differ by %v, want at most %v", sums, diff, tt.maxDiff)
			}
		})
	}
	ffa := balanceTeams(Mode{Teams: 8, TeamSize: 1}, []float64{1, 2, 3})
	if fmt.Sprint(ffa) != "[1 2 3]" {
		t.Errorf("ffa teams = %v, want [1 2 3]", ffa)
	}
}

// BenchmarkFormationPass times one formation pass over n waiting tickets
// of normally distributed ratings and waits up to a minute, reusing the
// scratch space of the previous pass as the pool does.
//
//	go test ./matchmaker -run '^$' -bench FormationPass
func BenchmarkFormationPass(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		for _, name := range []string{"duel", "ffa", "team4"} {
			mode := DefaultModes()[name]
			cands := randomCandidates(n, rand.New(rand.NewPCG(1, uint64(n))))
			b.Run(fmt.Sprintf("%s/tickets=%d", name, n), func(b *testing.B) {
				var f former // reused from pass to pass, as the pool does
				for b.Loop() {
					f.members = f.members[:0]
					f.form(mode, cands)
				}
			})
		}
	}
}

func randomCandidates(n int, rng *rand.Rand) []candidate {
	c := make([]candidate, n)
	for i := range c {
		c[i] = candidate{rating: 1500 + 300*rng.NormFloat64(), waited: 60 * rng.Float64()}
	}
	return c
}

// FuzzFormMatches checks formation's invariants on arbitrary tickets and
// parties: no ticket in two groups, group sizes the mode allows, teams of
// equal size with every party on one team,
// and every group within the window of its longest-waiting member (or of
// a smaller size only when a member has waited MaxWait).
func FuzzFormMatches(f *testing.F) {
	f.Add([]byte{0, 10, 20, 30, 40, 50, 60, 70}, uint8(0))
	f.Add([]byte{200, 1, 255, 3, 128, 90, 91, 92, 93, 94, 95, 96}, uint8(1))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, uint8(3))
	long := make([]byte, 1200) // 600 tickets: the radix sorts, not the short-input sort
	for i := range long {
		long[i] = byte(i * 37 % 251)
	}
	for which := range uint8(4) {
		f.Add(long, which)
	}
	modes := DefaultModes()
	names := []string{"duel", "ffa", "team", "team4"}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		mode := modes[names[int(which)%len(names)]]
		mode.MaxWait = 30 * time.Second
		var cands []candidate
		for i := 0; i+1 < len(data); i += 2 {
			size := 1
			if mode.TeamSize > 1 && data[i]%4 == 0 { // some parties
				size = 1 + int(data[i+1])%mode.TeamSize
			}
			cands = append(cands, candidate{rating: 1000 + 4*float64(data[i]), waited: float64(data[i+1]) / 4, size: size})
		}
		seen := map[int32]bool{}
		sizes := mode.MatchSizes()
		for _, g := range formMatches(mode, cands) {
			k := 0
			for _, m := range g.members {
				k += max(cands[m].size, 1)
			}
			if !slices.Contains(sizes, k) {
				t.Fatalf("group of %d, allowed %v", k, sizes)
			}
			lo, hi, width, overdue := 1e9, -1e9, 0.0, false
			for _, m := range g.members {
				if seen[m] {
					t.Fatalf("ticket %d in two groups", m)
				}
				seen[m] = true
				c := cands[m]
				lo, hi = min(lo, c.rating), max(hi, c.rating)
				width = max(width, mode.Window.width(c.waited))
				overdue = overdue || c.waited >= mode.MaxWait.Seconds()
			}
			if hi-lo > width {
				t.Fatalf("group spread %v exceeds its window %v", hi-lo, width)
			}
			if k < mode.Players() && !overdue {
				t.Fatalf("smaller group of %d with no overdue member", k)
			}
			perTeam := map[uint32]int{}
			for i, team := range g.teams {
				perTeam[team] += max(cands[g.members[i]].size, 1)
			}
			if mode.TeamSize > 1 && len(perTeam) != mode.Teams {
				t.Fatalf("teams %v, want %d teams", g.teams, mode.Teams)
			}
			for team, n := range perTeam {
				if mode.TeamSize > 1 && n != k/mode.Teams {
					t.Fatalf("team %d has %d players, want %d", team, n, k/mode.Teams)
				}
			}
		}
	})
}

// BenchmarkPoolPass times a whole pass over n waiting duel tickets: the
// expiry sweep and snapshot under the lock, formation, and taking the
// formed matches out of the queue. Every pass forms about n/2 matches (the
// worst case: in a steady state most waiting tickets found no match in the
// previous pass); they are put back in the queue between passes, untimed.
// cpu-ms/pass is the process's CPU time during the passes (with the
// garbage collector's share), which depends less than ns/op on what else
// the machine runs.
//
//	go test ./matchmaker -run '^$' -bench PoolPass
func BenchmarkPoolPass(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("tickets=%d", n), func(b *testing.B) {
			p := newTestPool(b)
			p.cfg.Modes["duel"] = DefaultModes()["duel"]
			now := time.Unix(1_700_000_000, 0)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range n {
				p.add(newTicket(fmt.Sprint(i), "duel", "", []member{{id: fmt.Sprint(i), rating: 1500 + 300*rng.NormFloat64()}},
					nil, now.Add(-time.Duration(rng.IntN(50_000))*time.Millisecond)))
			}
			requeue := func(matches []*match) {
				for _, m := range matches {
					p.requeue(m, "")
				}
			}
			requeue(p.pass(now)) // the formation loop's passes reuse the last one's memory
			var cpu time.Duration
			for b.Loop() {
				cpu0 := cpuTime(b)
				matches := p.pass(now)
				cpu += cpuTime(b) - cpu0
				b.StopTimer()
				requeue(matches)
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/pass")
		})
	}
}
