package leaderboard

import (
	"math"
	"slices"
)

// EloK is the K-factor of Rate: the most a rating moves in one match
// against one opposing team.
const EloK = 32.0

// Rate computes every player's rating after a match from the ratings
// before it (players missing from before start at DefaultRating).
//
// This is a plain Elo team update, the walking skeleton's stand-in for a
// published multiplayer rating system: a team's strength is the mean of its
// players' ratings, each pair of placed teams plays one Elo game
// (1 for the better placement, 1/2 for a tie), and every player of a team
// moves by K times the team's mean surplus over its expected score.
// Unplaced players (placement 0) keep their rating.
func Rate(m Match, before map[string]float64) map[string]float64 {
	type team struct {
		sum       float64
		n         int
		placement int64
	}
	teams := map[int64]*team{}
	rating := func(id string) float64 {
		if r, ok := before[id]; ok {
			return r
		}
		return DefaultRating
	}
	for _, p := range m.Players {
		if p.Placement <= 0 {
			continue
		}
		t := teams[p.Team]
		if t == nil {
			t = &team{placement: p.Placement}
			teams[p.Team] = t
		}
		t.sum += rating(p.PlayerID)
		t.n++
		// Players report their team's placement; keep the best if a
		// malformed outcome disagrees, so the result is deterministic.
		t.placement = min(t.placement, p.Placement)
	}
	ids := make([]int64, 0, len(teams))
	for id := range teams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	delta := make(map[int64]float64, len(teams))
	if len(ids) > 1 {
		for _, a := range ids {
			ta := teams[a]
			ra := ta.sum / float64(ta.n)
			var surplus float64
			for _, b := range ids {
				if a == b {
					continue
				}
				tb := teams[b]
				rb := tb.sum / float64(tb.n)
				expected := 1 / (1 + math.Pow(10, (rb-ra)/400))
				actual := 0.5
				switch {
				case ta.placement < tb.placement:
					actual = 1
				case ta.placement > tb.placement:
					actual = 0
				}
				surplus += actual - expected
			}
			delta[a] = EloK * surplus / float64(len(ids)-1)
		}
	}
	after := make(map[string]float64, len(m.Players))
	for _, p := range m.Players {
		r := rating(p.PlayerID)
		if p.Placement > 0 {
			r += delta[p.Team]
		}
		after[p.PlayerID] = r
	}
	return after
}
