package boardfile_test

import (
	"testing"

	"github.com/skirmishgg/skirmish/leaderboard/boardfile"
)

// FuzzParse: any boards file parses into valid boards or fails with an
// error; nothing panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"boards:\n  - id: wins\n    title: Wins\n    operator: increment\n    metric: wins\n",
		"boards:\n  - {id: a, operator: best, metric: wins, reset: '0 0 * * 1'}\n",
		"boards:\n  - {id: lap, order: asc, stat: best_lap_ms, aggregate: min, modes: [race]}\nrating_pools: {team4: team}\n",
		"boards: [", "", "boards:\n  - &a {id: a}\n  - *a\n", "a: &a [*a, *a, *a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		boards, err := boardfile.Parse(data)
		if err != nil {
			return
		}
		for _, b := range boards {
			if b.ID == "" {
				t.Errorf("Parse(%q) accepted a board without an id", data)
			}
		}
	})
}
