package matchmaker

import (
	"cmp"
	"math/bits"
	"slices"
)

// candidate is what a formation pass knows of one searching ticket.
type candidate struct {
	rating float64
	waited float64 // seconds since the ticket was created
}

// group is one match a pass formed: members are indexes into the pass's
// candidates, in rating order, and teams[i] is the team of members[i].
type group struct {
	members []int32
	teams   []uint32
}

// slot is a candidate in the rating-sorted order of one pass.
type slot struct {
	rating float64
	width  float64 // skill window at this ticket's wait
	waited float64
	idx    int32 // index into the candidates
}

// formMatches forms the matches of one mode from its searching tickets.
//
// The longest-waiting ticket is served first (requeued tickets keep their
// creation time, so they come first). For each ticket still free it looks at
// its nearest free neighbours by rating and takes the run of a full match's
// size, containing it, with the smallest rating spread that fits the skill
// window of the run's longest-waiting member. A ticket that has waited its
// mode's MaxWait may instead start a smaller match of at least MinPlayers.
//
// Sorting dominates: O(n log n) plus O(n * p^2) for matches of p players.
// No candidate appears in two groups.
func formMatches(mode Mode, cands []candidate) []group {
	n := len(cands)
	full := mode.Players()
	if n < mode.MinPlayers {
		return nil
	}
	order := make([]slot, n)
	for i, c := range cands {
		order[i] = slot{rating: c.rating, width: mode.Window.width(c.waited), waited: c.waited, idx: int32(i)}
	}
	slices.SortFunc(order, func(a, b slot) int { return cmp.Compare(a.rating, b.rating) })

	// prev and next link the free slots in rating order; -1 and n end it.
	prev := make([]int32, n)
	next := make([]int32, n)
	byAge := make([]int32, n)
	for i := range n {
		prev[i], next[i], byAge[i] = int32(i-1), int32(i+1), int32(i)
	}
	slices.SortStableFunc(byAge, func(a, b int32) int { return cmp.Compare(order[b].waited, order[a].waited) })
	taken := make([]bool, n)
	maxWait := mode.MaxWait.Seconds()
	sizes := matchSizes(mode)

	var groups []group
	win := make([]int32, 0, 2*full)
	for _, p := range byAge {
		if taken[p] {
			continue
		}
		// win holds up to full-1 free neighbours on each side of p.
		win = win[:0]
		q := prev[p]
		for range full - 1 {
			if q < 0 {
				break
			}
			win = append(win, q)
			q = prev[q]
		}
		slices.Reverse(win)
		anchor := len(win)
		win = append(win, p)
		q = next[p]
		for range full - 1 {
			if int(q) >= n {
				break
			}
			win = append(win, q)
			q = next[q]
		}

		overdue := order[p].waited >= maxWait
		for _, k := range sizes {
			if k < full && !overdue {
				break
			}
			start := bestRun(order, win, anchor, k)
			if start < 0 {
				continue
			}
			run := win[start : start+k]
			g := group{members: make([]int32, k)}
			ratings := make([]float64, k)
			for i, s := range run {
				g.members[i] = order[s].idx
				ratings[i] = order[s].rating
				taken[s] = true
				// Unlink s from the free list.
				if prev[s] >= 0 {
					next[prev[s]] = next[s]
				}
				if int(next[s]) < n {
					prev[next[s]] = prev[s]
				}
			}
			g.teams = balanceTeams(mode, ratings)
			groups = append(groups, g)
			break
		}
	}
	return groups
}

// bestRun returns the start in win of the run of k slots that contains
// win[anchor], fits its skill window and has the smallest spread, or -1.
func bestRun(order []slot, win []int32, anchor, k int) int {
	best, bestSpread := -1, 0.0
	for s := max(0, anchor-k+1); s <= anchor && s+k <= len(win); s++ {
		spread := order[win[s+k-1]].rating - order[win[s]].rating
		width := 0.0
		for _, x := range win[s : s+k] {
			width = max(width, order[x].width)
		}
		if spread <= width && (best < 0 || spread < bestSpread) {
			best, bestSpread = s, spread
		}
	}
	return best
}

// matchSizes lists the match sizes a mode allows, largest first: the full
// match, then the smaller ones down to MinPlayers (multiples of Teams when
// players share teams).
func matchSizes(mode Mode) []int {
	var sizes []int
	for k := mode.Players(); k >= mode.MinPlayers; k-- {
		if mode.TeamSize > 1 && k%mode.Teams != 0 {
			continue
		}
		sizes = append(sizes, k)
	}
	return sizes
}

// balanceTeams splits players, given by rating in ascending order, into the
// mode's teams (numbered from 0) so that team rating totals are as close as
// possible: exhaustively for two teams of up to 12 players, by snake draft
// otherwise. With a TeamSize of 1 every player is their own team.
func balanceTeams(mode Mode, ratings []float64) []uint32 {
	k := len(ratings)
	teams := make([]uint32, k)
	if mode.TeamSize == 1 {
		for i := range teams {
			teams[i] = uint32(i)
		}
		return teams
	}
	if mode.Teams == 2 && k <= 12 {
		bestTeamSplit(ratings, teams)
		return teams
	}
	// Snake draft from the highest rating: 0,1,..,T-1,T-1,..,0,0,1,...
	t := mode.Teams
	for round := 0; round*t < k; round++ {
		for j := range t {
			i := k - 1 - (round*t + j)
			if i < 0 {
				break
			}
			team := j
			if round%2 == 1 {
				team = t - 1 - j
			}
			teams[i] = uint32(team)
		}
	}
	return teams
}

// bestTeamSplit puts half the players in team 1 so that the two teams'
// rating totals differ least. Player 0 stays in team 0 to skip mirror
// images.
func bestTeamSplit(ratings []float64, teams []uint32) {
	k := len(ratings)
	total := 0.0
	for _, r := range ratings {
		total += r
	}
	bestMask, bestDiff := uint32(0), -1.0
	for mask := uint32(0); mask < 1<<k; mask += 2 { // bit 0 clear: player 0 in team 0
		if bits.OnesCount32(mask) != k/2 {
			continue
		}
		sum := 0.0
		for i := range k {
			if mask&(1<<i) != 0 {
				sum += ratings[i]
			}
		}
		diff := total - 2*sum
		if diff < 0 {
			diff = -diff
		}
		if bestDiff < 0 || diff < bestDiff {
			bestMask, bestDiff = mask, diff
		}
	}
	for i := range k {
		teams[i] = (bestMask >> i) & 1
	}
}
