package leaderboard

import (
	"math"
	"testing"
)

// The expected values are openskill.js's own test vectors for its
// Plackett-Luce model with default parameters
// (src/models/__tests__/plackett-luce.test.js and the README example of
// openskill.js 2 / openskill.py 2), which implement Weng & Lin (2011),
// Algorithm 4.
func TestPlackettLuceMatchesOpenSkill(t *testing.T) {
	r := Rating{Mu: 25, Sigma: 25.0 / 3}
	solo := []Rating{r}
	tests := []struct {
		name  string
		teams [][]Rating
		ranks []int
		want  [][]Rating
	}{
		{"solo game changes nothing", [][]Rating{solo}, []int{0}, [][]Rating{{r}}},
		{"2p FFA", [][]Rating{solo, solo}, []int{0, 1}, [][]Rating{
			{{27.63523138347365, 8.065506316323548}},
			{{22.36476861652635, 8.065506316323548}},
		}},
		{"3p FFA", [][]Rating{solo, solo, solo}, []int{0, 1, 2}, [][]Rating{
			{{27.868876552746237, 8.204837030780652}},
			{{25.717219138186557, 8.057829747583874}},
			{{21.413904309067206, 8.057829747583874}},
		}},
		{"4p FFA", [][]Rating{solo, solo, solo, solo}, []int{0, 1, 2, 3}, [][]Rating{
			{{27.795084971874736, 8.263160757613477}},
			{{26.552824984374855, 8.179213704945203}},
			{{24.68943500312503, 8.083731307186588}},
			{{20.96265504062538, 8.083731307186588}},
		}},
		{"5p FFA", [][]Rating{solo, solo, solo, solo, solo}, []int{0, 1, 2, 3, 4}, [][]Rating{
			{{27.666666666666668, 8.290556877154474}},
			{{26.833333333333332, 8.240145629781066}},
			{{25.72222222222222, 8.179996679645559}},
			{{24.055555555555557, 8.111796013701358}},
			{{20.72222222222222, 8.111796013701358}},
		}},
		{"3 teams of different sizes", [][]Rating{{r, r, r}, solo, {r, r}}, []int{0, 1, 2}, [][]Rating{
			{{25.939870821784513, 8.247641552260456}, {25.939870821784513, 8.247641552260456}, {25.939870821784513, 8.247641552260456}},
			{{27.21366020491262, 8.274321317985242}},
			{{21.84646897330287, 8.213058173195341}, {21.84646897330287, 8.213058173195341}},
		}},
		{"2v2 of unequal ratings", [][]Rating{
			{{25, 25.0 / 3}, {32.444, 5.123}},
			{{43.381, 2.421}, {25.188, 6.211}},
		}, []int{0, 1}, [][]Rating{
			{{28.669648436582808, 8.071520788025197}, {33.83086971107981, 5.062772998705765}},
			{{43.071274808241974, 2.4166900452721256}, {23.149503312339064, 6.1378606973362135}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OpenSkillParams.PlackettLuce(tt.teams, tt.ranks)
			for i := range tt.want {
				for j, want := range tt.want[i] {
					g := got[i][j]
					if math.Abs(g.Mu-want.Mu) > 1e-9 || math.Abs(g.Sigma-want.Sigma) > 1e-9 {
						t.Errorf("team %d player %d = %v, want %v", i, j, g, want)
					}
				}
			}
		})
	}
}

func TestPlackettLuceTies(t *testing.T) {
	r := Rating{Mu: 25, Sigma: 25.0 / 3}
	got := OpenSkillParams.PlackettLuce([][]Rating{{r}, {r}}, []int{0, 0})
	if math.Abs(got[0][0].Mu-25) > 1e-9 || math.Abs(got[1][0].Mu-25) > 1e-9 {
		t.Errorf("draw between equals = %v, want both Mu 25", got)
	}
	if got[0][0].Sigma >= r.Sigma {
		t.Errorf("draw Sigma = %v, want below %v", got[0][0].Sigma, r.Sigma)
	}
	// Three players, two tied for first: the tied pair gain alike.
	got = OpenSkillParams.PlackettLuce([][]Rating{{r}, {r}, {r}}, []int{1, 1, 2})
	if math.Abs(got[0][0].Mu-got[1][0].Mu) > 1e-9 || got[0][0].Mu <= 25 || got[2][0].Mu >= 25 {
		t.Errorf("tie for first = %v, want the pair equal and above 25, the last below", got)
	}
}

func TestRate(t *testing.T) {
	duel := Match{ID: "m", Players: []Result{
		{PlayerID: "b", Team: 2, Placement: 2},
		{PlayerID: "a", Team: 1, Placement: 1},
	}}
	t.Run("new players at the scaled defaults", func(t *testing.T) {
		got := Rate(duel, nil)
		if got["a"].Mu <= DefaultRating || got["b"].Mu >= DefaultRating {
			t.Fatalf("Rate(duel) = %v, want a above and b below %v", got, DefaultRating)
		}
		if math.Abs((got["a"].Mu-DefaultRating)+(got["b"].Mu-DefaultRating)) > 1e-9 {
			t.Errorf("Rate(duel) = %v, want symmetric moves", got)
		}
	})
	t.Run("scale invariance: Skirmish params are OpenSkill's times 60", func(t *testing.T) {
		p := OpenSkillParams
		got := RatingParams{Mu: p.Mu * 60, Sigma: p.Sigma * 60, Beta: p.Beta * 60, Kappa: p.Kappa}.Rate(duel, nil)
		if math.Abs(got["a"].Mu-27.63523138347365*60) > 1e-6 || math.Abs(got["a"].Sigma-8.065506316323548*60) > 1e-6 {
			t.Errorf("scaled Rate(duel)[a] = %v, want openskill's 2p FFA times 60", got["a"])
		}
	})
	t.Run("unplaced keeps rating", func(t *testing.T) {
		before := map[string]Rating{"c": {Mu: 1234, Sigma: 100}}
		m := Match{ID: "m", Players: append(duel.Players, Result{PlayerID: "c", Team: 3})}
		if got := Rate(m, before)["c"]; got != before["c"] {
			t.Errorf("Rate()[c] = %v, want %v", got, before["c"])
		}
	})
	t.Run("one team changes nothing", func(t *testing.T) {
		m := Match{ID: "m", Players: []Result{{PlayerID: "a", Team: 1, Placement: 1}}}
		if got := Rate(m, nil)["a"]; got.Mu != DefaultRating || got.Sigma != DefaultSigma {
			t.Errorf("Rate(solo)[a] = %v, want defaults", got)
		}
	})
	t.Run("order of players does not matter", func(t *testing.T) {
		rev := Match{ID: "m", Players: []Result{duel.Players[1], duel.Players[0]}}
		a, b := Rate(duel, nil), Rate(rev, nil)
		if a["a"] != b["a"] || a["b"] != b["b"] {
			t.Errorf("Rate depends on order: %v vs %v", a, b)
		}
	})
}
