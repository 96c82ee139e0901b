package leaderboard_test

import (
	"fmt"
	"testing"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// pl is a player's result: id, team, placement, left.
func pl(id string, team, placement int64, left bool) leaderboard.Result {
	return leaderboard.Result{PlayerID: id, Name: id, Team: team, Placement: placement, Left: left}
}

// TestJudge holds the rules of "How a match counts", one case a rule.
func TestJudge(t *testing.T) {
	const (
		W = leaderboard.Won
		L = leaderboard.Lost
		D = leaderboard.Drew
		V = leaderboard.Void
	)
	// rating moves: + up, - down, = unchanged, ? not checked, for each
	// player.
	cases := []struct {
		name   string
		reason string
		ps     []leaderboard.Result
		want   []leaderboard.Standing
		moves  string
	}{
		// The example as the gameserver reports it today: one
		// joined, the other never connected, the room was cancelled at
		// the join deadline (both placed 1 at 0-0, the no-show "left").
		{"cancelled duel with a no-show", leaderboard.EndCancelled,
			[]leaderboard.Result{pl("came", 1, 1, false), pl("noshow", 2, 1, true)}, []leaderboard.Standing{V, V}, "=="},
		{"server lost", leaderboard.EndServerLost,
			[]leaderboard.Result{pl("a", 1, 0, false), pl("b", 2, 0, false)}, []leaderboard.Standing{V, V}, "=="},
		{"shutdown", leaderboard.EndShutdown,
			[]leaderboard.Result{pl("a", 1, 1, false), pl("b", 2, 2, false)}, []leaderboard.Standing{V, V}, "=="},
		{"game error", leaderboard.EndError,
			[]leaderboard.Result{pl("a", 1, 1, false), pl("b", 2, 2, false)}, []leaderboard.Standing{V, V}, "=="},
		{"everyone left", leaderboard.EndAbandoned,
			[]leaderboard.Result{pl("a", 1, 1, true), pl("b", 2, 2, true)}, []leaderboard.Standing{V, V}, "=="},
		{"played duel", leaderboard.EndScoreLimit,
			[]leaderboard.Result{pl("a", 1, 1, false), pl("b", 2, 2, false)}, []leaderboard.Standing{W, L}, "+-"},
		{"unknown reason counts", "",
			[]leaderboard.Result{pl("a", 1, 1, false), pl("b", 2, 2, false)}, []leaderboard.Standing{W, L}, "+-"},
		{"draw", leaderboard.EndTimeLimit,
			[]leaderboard.Result{pl("a", 1, 1, false), pl("b", 2, 1, false)}, []leaderboard.Standing{D, D}, "=="},
		// The leaver quit while ahead: still the loser, the stayer wins by
		// forfeit.
		{"duel abandoned by the leader", leaderboard.EndAbandoned,
			[]leaderboard.Result{pl("stayed", 1, 2, false), pl("quit", 2, 1, true)}, []leaderboard.Standing{W, L}, "+-"},
		// A no-show of a match that started without them is a leaver.
		{"ffa no-show", leaderboard.EndTimeLimit,
			[]leaderboard.Result{pl("a", 1, 1, false), pl("b", 2, 2, false), pl("c", 3, 3, false), pl("noshow", 4, 1, true)},
			[]leaderboard.Standing{W, L, L, L}, "++--"},
		// Three who stayed tie: a draw among them, and the leaver's
		// higher score does not place him above them.
		{"ffa leaver ahead of a tie", leaderboard.EndTimeLimit,
			[]leaderboard.Result{pl("a", 1, 2, false), pl("b", 2, 2, false), pl("c", 3, 2, false), pl("quit", 4, 1, true)},
			[]leaderboard.Standing{D, D, D, L}, "+++-"},
		// The short-handed team's loss does not count for the one who
		// stayed; the winners win.
		{"team loses after a leaver", leaderboard.EndScoreLimit,
			[]leaderboard.Result{pl("a1", 1, 2, true), pl("a2", 1, 2, false), pl("b1", 2, 1, false), pl("b2", 2, 1, false)},
			[]leaderboard.Standing{L, V, W, W}, "-=++"},
		// Two who could not beat the one who stayed drew 2 against 1.
		{"team draws after a leaver", leaderboard.EndTimeLimit,
			[]leaderboard.Result{pl("a1", 1, 1, true), pl("a2", 1, 1, false), pl("b1", 2, 1, false), pl("b2", 2, 1, false)},
			[]leaderboard.Standing{L, V, D, D}, "-=--"},
		{"team wins despite a leaver", leaderboard.EndScoreLimit,
			[]leaderboard.Result{pl("a1", 1, 1, true), pl("a2", 1, 1, false), pl("b1", 2, 2, false), pl("b2", 2, 2, false)},
			[]leaderboard.Standing{L, W, L, L}, "-+--"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := leaderboard.Match{ID: "m", EndReason: tc.reason, Players: tc.ps}
			got := m.Judge()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Judge() = %v, want %v", got, tc.want)
			}
			// Everyone starts at 1500 with a settled deviation, so that a
			// move is a move of Mu.
			before := map[string]leaderboard.Rating{}
			for _, p := range tc.ps {
				before[p.PlayerID] = leaderboard.Rating{Mu: 1500, Sigma: 200}
			}
			after := leaderboard.RateMatch(m, before)
			for i, p := range tc.ps {
				b, a := before[p.PlayerID], after[p.PlayerID]
				move := '='
				switch {
				case a.Mu > b.Mu+1e-9:
					move = '+'
				case a.Mu < b.Mu-1e-9:
					move = '-'
				}
				if tc.moves[i] != '?' && move != rune(tc.moves[i]) {
					t.Errorf("rating of %s: %v -> %v (%c), want %c", p.PlayerID, b.Mu, a.Mu, move, tc.moves[i])
				}
				if got[i] == leaderboard.Void && a != b {
					t.Errorf("void player %s: rating %v -> %v, want unchanged (deviation too)", p.PlayerID, b, a)
				}
			}
		})
	}
}

// TestPlayedReasons: only the void reasons are not played.
func TestPlayedReasons(t *testing.T) {
	for reason, want := range map[string]bool{
		leaderboard.EndScoreLimit: true, leaderboard.EndTimeLimit: true, leaderboard.EndAbandoned: true, "": true,
		leaderboard.EndCancelled: false, leaderboard.EndServerLost: false, leaderboard.EndShutdown: false, leaderboard.EndError: false,
	} {
		if got := leaderboard.Played(reason); got != want {
			t.Errorf("Played(%q) = %v, want %v", reason, got, want)
		}
	}
}
