package leaderboard

import "testing"

func TestLegacyBoard(t *testing.T) {
	tests := []struct {
		order, operator, metric string
		want                    Board
	}{
		{"", "increment", "eliminations", Board{Order: Descending, Stat: "eliminations", Aggregate: Sum}},
		{"desc", "set", "rating", Board{Order: Descending, Stat: StatRating, Aggregate: Last, Pool: LegacyRatingPool}},
		{"desc", "best", "damage", Board{Order: Descending, Stat: "damage", Aggregate: Max}},
		{"asc", "best", "matches", Board{Order: Ascending, Stat: StatMatches, Aggregate: Min}},
	}
	for _, tt := range tests {
		got, err := LegacyBoard("b", tt.order, tt.operator, tt.metric)
		if err != nil || !got.SameRanking(tt.want) {
			t.Errorf("LegacyBoard(%q, %q, %q) = %+v, %v; want %+v", tt.order, tt.operator, tt.metric, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"max", "wins"}, {"best", "kills"}} {
		if _, err := LegacyBoard("b", "", bad[0], bad[1]); err == nil {
			t.Errorf("LegacyBoard(%q, %q) = nil error", bad[0], bad[1])
		}
	}
}

func TestBoardValue(t *testing.T) {
	m := Match{Mode: "team4", Pool: "team"}
	r := Result{Standing: Won, RatingAfter: 1520, Stats: map[string]float64{"laps": 3}}
	tests := []struct {
		b      Board
		want   float64
		scores bool
	}{
		{Board{Stat: "laps"}, 3, true},
		{Board{Stat: "lap_ms"}, 0, false}, // the result lacks it
		{Board{Stat: "laps", Modes: []string{"team", "team4"}}, 3, true},
		{Board{Stat: "laps", Modes: []string{"duel"}}, 0, false},
		{Board{Stat: StatWins}, 1, true},
		{Board{Stat: StatLosses}, 0, true},
		{Board{Stat: StatMatches}, 1, true},
		{Board{Stat: StatRating, Pool: "team"}, 1520, true},
		{Board{Stat: StatRating, Pool: "team4"}, 0, false}, // team4 is rated in pool team
	}
	for _, tt := range tests {
		v, ok := tt.b.Value(m, r)
		if v != tt.want || ok != tt.scores {
			t.Errorf("Board{Stat: %q, Modes: %v, Pool: %q}.Value = %v, %v; want %v, %v", tt.b.Stat, tt.b.Modes, tt.b.Pool, v, ok, tt.want, tt.scores)
		}
	}
}

func TestValidateStats(t *testing.T) {
	good := map[string]float64{"eliminations": 3, "best_lap_ms": 61000.5, "net_gold": -20, "r2": MaxStatValue}
	if err := ValidateStats(good); err != nil {
		t.Errorf("ValidateStats(%v) = %v", good, err)
	}
	if err := ValidateStats(nil); err != nil {
		t.Errorf("ValidateStats(nil) = %v", err)
	}
	for _, name := range []string{"", "Lap", "1st", "_x", "a-b", "a b", "wins", "losses", "matches", "rating", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		if err := ValidateStats(map[string]float64{name: 1}); err == nil {
			t.Errorf("ValidateStats(%q) = nil error", name)
		}
	}
}
