package leaderboard

import (
	"cmp"
	"math"
	"slices"
)

// Ratings follow the Weng-Lin Bayesian approximation with the
// Plackett-Luce model:
//
//	Ruby C. Weng and Chih-Jen Lin, "A Bayesian Approximation Method for
//	Online Ranking", Journal of Machine Learning Research 12 (2011),
//	267-300, Algorithm 4.
//
// the system that OpenSkill (openskill.js, openskill.py) implements, free
// of TrueSkill's patents. A player's skill is a normal distribution with
// mean Mu and deviation Sigma; a match between any number of teams of any
// size, with ties, moves every player's Mu by how surprising the result was
// and shrinks their Sigma. Tests check this code against openskill.js's
// published results for its defaults (OpenSkillParams).

// Rating is one player's skill estimate.
type Rating struct {
	Mu    float64
	Sigma float64
}

// Ordinal is a conservative skill estimate, Mu - 3 Sigma: the player is
// better than this with about 99.7% certainty. Boards may rank by it.
func (r Rating) Ordinal() float64 { return r.Mu - 3*r.Sigma }

// RatingParams are the Weng-Lin model's constants.
type RatingParams struct {
	// Mu and Sigma of a player who has not played.
	Mu, Sigma float64
	// Beta is the performance noise of one team in one match.
	Beta float64
	// Kappa is the smallest factor by which one match may shrink a
	// Sigma² (the paper's κ), keeping Sigma positive.
	Kappa float64
	// Tau is added (in quadrature) to every Sigma before a match, so
	// that a rating keeps adapting after many matches. 0 turns it off.
	Tau float64
}

// OpenSkillParams are OpenSkill's defaults: Mu 25, Sigma 25/3, Beta 25/6,
// Kappa 0.0001, and no Tau (as in openskill.js 1 and 2).
var OpenSkillParams = RatingParams{Mu: 25, Sigma: 25.0 / 3, Beta: 25.0 / 6, Kappa: 0.0001}

// ratingScale maps OpenSkill's scale onto Skirmish's: a new player's Mu is
// DefaultRating (1500 = 25 x 60).
const ratingScale = DefaultRating / 25

// DefaultSigma is the Sigma of a player who has not played.
const DefaultSigma = 25.0 / 3 * ratingScale

// SkirmishParams are the parameters Skirmish rates with: OpenSkill's
// defaults scaled by 60, so that a new player is 1500 ± 500, plus a Tau of
// 5 (OpenSkill's later default of 25/300, scaled) so that Sigma never
// settles for good.
var SkirmishParams = RatingParams{
	Mu:    DefaultRating,
	Sigma: DefaultSigma,
	Beta:  25.0 / 6 * ratingScale,
	Kappa: 0.0001,
	Tau:   25.0 / 300 * ratingScale,
}

// rating is a player's rating in before, or a new player's.
func (p RatingParams) rating(before map[string]Rating, id string) Rating {
	if r, ok := before[id]; ok && r.Sigma > 0 {
		return r
	}
	return Rating{Mu: p.Mu, Sigma: p.Sigma}
}

// PlackettLuce rates one match. teams[i] lists the ratings of team i's
// players; ranks[i] is its place (lower is better, equal ranks tie). It
// returns the new ratings in the same shape. Fewer than two teams change
// nothing.
func (p RatingParams) PlackettLuce(teams [][]Rating, ranks []int) [][]Rating {
	out := make([][]Rating, len(teams))
	for i, t := range teams {
		out[i] = slices.Clone(t)
	}
	if len(teams) < 2 || len(ranks) != len(teams) {
		return out
	}
	// Tau widens every player's deviation before the match.
	for _, t := range out {
		for j := range t {
			t[j].Sigma = math.Sqrt(t[j].Sigma*t[j].Sigma + p.Tau*p.Tau)
		}
	}
	n := len(teams)
	mu := make([]float64, n)     // a team's skill: the sum of its players' Mu
	sigma2 := make([]float64, n) // and its variance: the sum of their Sigma²
	c2 := 0.0
	for i, t := range out {
		for _, r := range t {
			mu[i] += r.Mu
			sigma2[i] += r.Sigma * r.Sigma
		}
		c2 += sigma2[i] + p.Beta*p.Beta
	}
	c := math.Sqrt(c2)
	e := make([]float64, n)
	for i := range n {
		e[i] = math.Exp(mu[i] / c)
	}
	// sumQ[q]: the strength of every team placed at or after team q;
	// a[q]: how many teams share q's rank.
	sumQ := make([]float64, n)
	a := make([]float64, n)
	for q := range n {
		for i := range n {
			if ranks[i] >= ranks[q] {
				sumQ[q] += e[i]
			}
			if ranks[i] == ranks[q] {
				a[q]++
			}
		}
	}
	for i := range n {
		var omega, delta float64
		for q := range n {
			if ranks[q] > ranks[i] {
				continue
			}
			quotient := e[i] / sumQ[q]
			if q == i {
				omega += (1 - quotient) / a[q]
			} else {
				omega -= quotient / a[q]
			}
			delta += quotient * (1 - quotient) / a[q]
		}
		gamma := math.Sqrt(sigma2[i]) / c
		teamOmega := omega * sigma2[i] / c
		teamDelta := gamma * delta * sigma2[i] / c2
		for j, r := range out[i] {
			share := r.Sigma * r.Sigma / sigma2[i]
			out[i][j] = Rating{
				Mu:    r.Mu + share*teamOmega,
				Sigma: r.Sigma * math.Sqrt(math.Max(1-share*teamDelta, p.Kappa)),
			}
		}
	}
	return out
}

// Rate computes, with SkirmishParams, every player's rating after a match
// from the ratings before it (players missing from before are new), taking
// the placements as they are. Teams rank by placement; players of one team
// share its best placement. Unplaced players (placement 0) keep their
// rating. Stores rate outcomes with RateMatch, which applies the rules of
// void matches and leavers first.
func Rate(m Match, before map[string]Rating) map[string]Rating {
	return SkirmishParams.Rate(m, before)
}

// Rate is the package-level Rate with these parameters.
func (p RatingParams) Rate(m Match, before map[string]Rating) map[string]Rating {
	rating := func(id string) Rating { return p.rating(before, id) }
	type team struct {
		id        int64
		placement int64
		players   []string
	}
	byID := map[int64]*team{}
	var teams []*team
	after := make(map[string]Rating, len(m.Players))
	for _, pl := range m.Players {
		after[pl.PlayerID] = rating(pl.PlayerID)
		if pl.Placement <= 0 {
			continue
		}
		t := byID[pl.Team]
		if t == nil {
			t = &team{id: pl.Team, placement: pl.Placement}
			byID[pl.Team] = t
			teams = append(teams, t)
		}
		t.placement = min(t.placement, pl.Placement)
		t.players = append(t.players, pl.PlayerID)
	}
	// A fixed order makes the result independent of the outcome's order.
	slices.SortFunc(teams, func(a, b *team) int {
		return cmp.Or(cmp.Compare(a.placement, b.placement), cmp.Compare(a.id, b.id))
	})
	in := make([][]Rating, len(teams))
	ranks := make([]int, len(teams))
	for i, t := range teams {
		slices.Sort(t.players)
		for _, id := range t.players {
			in[i] = append(in[i], rating(id))
		}
		ranks[i] = int(t.placement)
	}
	for i, rs := range p.PlackettLuce(in, ranks) {
		for j, r := range rs {
			after[teams[i].players[j]] = r
		}
	}
	return after
}
