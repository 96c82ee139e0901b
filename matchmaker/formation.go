package matchmaker

import (
	"cmp"
	"slices"
)

// candidate is what a formation pass knows of one searching ticket.
type candidate struct {
	rating float64 // the mean rating of the ticket's players
	waited float64 // seconds since the ticket was created
	size   int     // players on the ticket (a party); 0 counts as 1
}

// group is one match a pass formed: members are indexes into the pass's
// candidates, in rating order, and teams[i] is the team of every player of
// members[i]: a party always plays on one team.
type group struct {
	members []int32
	teams   []uint32
}

// slot is a candidate in the rating-sorted order of one pass.
type slot struct {
	rating float64
	width  float64 // skill window at this ticket's wait
	waited float64
	size   int32
	idx    int32 // index into the candidates
}

// formMatches forms the matches of one mode from its searching tickets.
//
// The longest-waiting ticket is served first (requeued tickets keep their
// creation time, so they come first). For each ticket still free it looks at
// its nearest free neighbours by rating and picks, among the runs of
// neighbours that hold a full match's players and contain it, the one with
// the smallest rating spread that fits the skill window of the run's
// longest-waiting member. A run may step over a party too large for the
// seats left. A ticket that has waited its mode's MaxWait may instead start
// a smaller match of at least MinPlayers.
//
// Two radix sorts, O(n), plus O(n * p^2) for matches of p players.
// No candidate appears in two groups.
func formMatches(mode Mode, cands []candidate) []group {
	var f former
	return f.form(mode, cands)
}

// former is the scratch space of formation passes, reused from pass to
// pass so that a pass over many tickets allocates little. The members of
// the groups it forms are appended to members, which its user truncates
// once it is done with them. One former serves one pass at a time.
type former struct {
	order           []slot
	keys, buf       []sortKey
	prev, next, age []int32
	taken           []bool
	members         []int32
	ident           []uint32 // 1, 2, 3...: the teams of a match of single players
}

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

func (f *former) form(mode Mode, cands []candidate) []group {
	n := len(cands)
	full := mode.Players()
	if n == 0 {
		return nil
	}
	players, parties := 0, false
	f.keys, f.buf = grow(f.keys, n), grow(f.buf, n)
	for i, c := range cands {
		size := max(c.size, 1)
		players += size
		parties = parties || size > 1
		f.keys[i] = sortKey{floatKey(c.rating), int32(i)}
	}
	if players < mode.MinPlayers {
		return nil
	}
	order := grow(f.order, n)
	f.order = order
	for i, k := range sortKeys(f.keys, f.buf) {
		c := cands[k.val]
		order[i] = slot{rating: c.rating, width: mode.Window.width(c.waited), waited: c.waited, size: int32(max(c.size, 1)), idx: k.val}
	}

	// prev and next link the free slots in rating order; -1 and n end it.
	// agee is the slots, longest-waiting first (ties in rating order).
	prev, next, agee, taken := grow(f.prev, n), grow(f.next, n), grow(f.age, n), grow(f.taken, n)
	f.prev, f.next, f.age, f.taken = prev, next, agee, taken
	for i := range n {
		prev[i], next[i] = int32(i-1), int32(i+1)
		taken[i] = false
		f.keys[i] = sortKey{^floatKey(order[i].waited), int32(i)}
	}
	for i, k := range sortKeys(f.keys, f.buf) {
		agee[i] = k.val
	}
	maxWait := mode.MaxWait.Seconds()
	sizes := mode.MatchSizes()

	var groups []group
	win := make([]int32, 0, 2*full)
	var pick, best []int32
	for _, p := range agee {
		if taken[p] {
			continue
		}
		// win holds free neighbours on each side of p, enough for a full
		// match's other players.
		need := full - int(order[p].size)
		win = win[:0]
		for q, got := prev[p], 0; q >= 0 && got < need; q = prev[q] {
			win = append(win, q)
			got += int(order[q].size)
		}
		slices.Reverse(win)
		anchor := len(win)
		win = append(win, p)
		for q, got := next[p], 0; int(q) < n && got < need; q = next[q] {
			win = append(win, q)
			got += int(order[q].size)
		}

		overdue := order[p].waited >= maxWait
		for _, k := range sizes {
			if k < full && !overdue {
				break
			}
			if int(order[p].size) > perTeam(mode, k) {
				continue
			}
			var teams []uint32
			best, pick, teams = bestRun(mode, order, win, anchor, k, parties, best[:0], pick[:0])
			if len(best) == 0 {
				continue
			}
			start := len(f.members)
			for _, s := range best {
				f.members = append(f.members, order[s].idx)
				taken[s] = true
				// Unlink s from the free list.
				if prev[s] >= 0 {
					next[prev[s]] = next[s]
				}
				if int(next[s]) < n {
					prev[next[s]] = prev[s]
				}
			}
			switch {
			case teams != nil:
			case mode.TeamSize == 1: // every player their own team
				if len(f.ident) < k {
					f.ident = make([]uint32, k)
					for i := range f.ident {
						f.ident[i] = uint32(i) + 1
					}
				}
				teams = f.ident[:len(best):len(best)]
			default:
				teams = splitTeams(mode, k, order, best)
			}
			groups = append(groups, group{members: f.members[start:len(f.members):len(f.members)], teams: teams})
			break
		}
	}
	return groups
}

// perTeam is the number of players on each team of a match of k players.
func perTeam(mode Mode, k int) int {
	if mode.TeamSize == 1 {
		return 1
	}
	return k / mode.Teams
}

// bestRun returns, in best, the slots of the run of win holding k players
// that contains win[anchor], fits its skill window, can be split into teams
// and has the smallest spread; best is empty when there is none. pick is
// scratch space. When parties is set, the teams of the run are checked and
// returned too; otherwise every run of k single players splits.
func bestRun(mode Mode, order []slot, win []int32, anchor, k int, parties bool, best, pick []int32) (_, _ []int32, teams []uint32) {
	bestSpread := 0.0
	for s := 0; s <= anchor; s++ {
		pick = pick[:0]
		rem, width, withAnchor := k, 0.0, false
		for j := s; j < len(win) && rem > 0; j++ {
			x := win[j]
			size := int(order[x].size)
			if size > rem || size > perTeam(mode, k) {
				if j == anchor {
					break
				}
				continue
			}
			pick = append(pick, x)
			rem -= size
			width = max(width, order[x].width)
			withAnchor = withAnchor || j == anchor
		}
		if rem > 0 || !withAnchor {
			continue
		}
		spread := order[pick[len(pick)-1]].rating - order[pick[0]].rating
		if spread > width || (len(best) > 0 && spread >= bestSpread) {
			continue
		}
		var t []uint32
		if parties {
			if t = splitTeams(mode, k, order, pick); t == nil {
				continue
			}
		}
		best, bestSpread, teams = append(best[:0], pick...), spread, t
	}
	return best, pick, teams
}

// MatchSizes lists the sizes, in players, a match of the mode may have,
// largest first: the full match, then the smaller ones down to MinPlayers
// (multiples of Teams when players share teams, so teams are equal). A
// gameserver that hosts the mode must accept each (game.Mode.Validate).
func (m Mode) MatchSizes() []int {
	var sizes []int
	for k := m.Players(); k >= m.MinPlayers; k-- {
		if m.TeamSize > 1 && k%m.Teams != 0 {
			continue
		}
		sizes = append(sizes, k)
	}
	return sizes
}

// balanceTeams splits single players, given by rating in ascending order,
// into the mode's teams; see splitTeams.
func balanceTeams(mode Mode, ratings []float64) []uint32 {
	order := make([]slot, len(ratings))
	run := make([]int32, len(ratings))
	for i, r := range ratings {
		order[i] = slot{rating: r, size: 1}
		run[i] = int32(i)
	}
	return splitTeams(mode, len(ratings), order, run)
}

// splitTeams puts the tickets of run, which hold k players, on the mode's
// teams (numbered from 1, as the Seat and Assignment contracts and the
// games number them) so that every team has k/Teams players, parties
// stay whole, and team rating totals are as close as possible: exhaustively
// for two teams of up to 12 tickets, greedily otherwise (the strongest
// ticket, largest parties first, goes to the weakest team with room). It
// returns nil when the parties cannot be split into equal teams. With a
// TeamSize of 1 every player is their own team.
func splitTeams(mode Mode, k int, order []slot, run []int32) []uint32 {
	n := len(run)
	teams := make([]uint32, n)
	if mode.TeamSize == 1 {
		for i := range teams {
			teams[i] = uint32(i) + 1
		}
		return teams
	}
	per := k / mode.Teams
	if mode.Teams == 2 && n <= 12 {
		total := 0.0
		for _, s := range run {
			total += order[s].rating * float64(order[s].size)
		}
		bestMask, bestDiff := uint32(0), -1.0
		for mask := uint32(0); mask < 1<<n; mask += 2 { // bit 0 clear: ticket 0 in team 0
			players, sum := 0, 0.0
			for i, s := range run {
				if mask&(1<<i) != 0 {
					players += int(order[s].size)
					sum += order[s].rating * float64(order[s].size)
				}
			}
			if players != per {
				continue
			}
			diff := total - 2*sum
			if diff < 0 {
				diff = -diff
			}
			if bestDiff < 0 || diff < bestDiff {
				bestMask, bestDiff = mask, diff
			}
		}
		if bestDiff < 0 {
			return nil
		}
		for i := range n {
			teams[i] = (bestMask>>i)&1 + 1
		}
		return teams
	}
	byStrength := make([]int, n)
	for i := range byStrength {
		byStrength[i] = i
	}
	slices.SortFunc(byStrength, func(a, b int) int {
		sa, sb := order[run[a]], order[run[b]]
		if c := cmp.Compare(sb.size, sa.size); c != 0 {
			return c
		}
		return cmp.Compare(sb.rating, sa.rating)
	})
	room := make([]int, mode.Teams)
	sums := make([]float64, mode.Teams)
	for i := range room {
		room[i] = per
	}
	for _, i := range byStrength {
		s := order[run[i]]
		team := -1
		for t := range room {
			if room[t] >= int(s.size) && (team < 0 || sums[t] < sums[team]) {
				team = t
			}
		}
		if team < 0 {
			return nil
		}
		teams[i] = uint32(team) + 1
		room[team] -= int(s.size)
		sums[team] += s.rating * float64(s.size)
	}
	return teams
}
