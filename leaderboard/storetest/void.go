package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// testVoidAndLeavers: a store applies "How a match counts" (Match.Judge):
// a void match is in history with its end reason and changes no stats,
// rating or board entry; a leaver takes the loss and the player who stayed
// is not punished.
func testVoidAndLeavers(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	// Give both a history, so that their ratings differ (the issue's
	// example: a draw between them moved both).
	if _, err := s.ApplyOutcome(c, duel("m0", "came", "noshow", 10, t0)); err != nil {
		t.Fatal(err)
	}
	before := map[string]leaderboard.Player{}
	for _, id := range []string{"came", "noshow"} {
		p, err := s.GetPlayer(c, id)
		if err != nil {
			t.Fatal(err)
		}
		before[id] = p
	}
	tops := func() string {
		var out string
		for _, b := range []string{"eliminations", "rating", "wins"} {
			top, err := s.TopEntries(c, b, 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			out += b + ":" + entriesString(top) + " "
		}
		return out
	}
	boardsBefore := tops()

	for i, reason := range []string{leaderboard.EndCancelled, leaderboard.EndServerLost, leaderboard.EndShutdown, leaderboard.EndError} {
		m := leaderboard.Match{ID: "void-" + reason, Mode: "duel", EndedAt: t0.Add(time.Duration(i+1) * time.Second), EndReason: reason,
			Teams: []leaderboard.TeamResult{{Team: 1, Placement: 1}, {Team: 2, Placement: 1}},
			Players: []leaderboard.Result{
				{PlayerID: "came", Name: "came", Team: 1, Placement: 1, Stats: arena(3, 0, 0, 0, 0)},
				{PlayerID: "noshow", Name: "noshow", Team: 2, Placement: 1, Left: true},
			}}
		if applied, err := s.ApplyOutcome(c, m); err != nil || !applied {
			t.Fatalf("ApplyOutcome(%s) = %v, %v; want true, nil", reason, applied, err)
		}
		got, err := s.GetMatch(c, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.EndReason != reason {
			t.Errorf("GetMatch(%s).EndReason = %q", m.ID, got.EndReason)
		}
		for _, p := range got.Players {
			if p.Standing != leaderboard.Void || p.RatingBefore != p.RatingAfter || p.RatingBefore != before[p.PlayerID].Ratings["duel"].Rating {
				t.Errorf("GetMatch(%s) player %s: standing %v, rating %v -> %v; want void, %v unchanged",
					m.ID, p.PlayerID, p.Standing, p.RatingBefore, p.RatingAfter, before[p.PlayerID].Ratings["duel"].Rating)
			}
		}
		for id, b := range before {
			p, err := s.GetPlayer(c, id)
			if err != nil || !reflect.DeepEqual(p, b) {
				t.Errorf("GetPlayer(%s) after a %s match = %+v, %v; want unchanged %+v", id, reason, p, err, b)
			}
		}
		if got := tops(); got != boardsBefore {
			t.Errorf("boards after a %s match:\n%s\nwant unchanged\n%s", reason, got, boardsBefore)
		}
		page, err := s.PlayerMatches(c, "came", 1, nil)
		if err != nil || len(page) != 1 || page[0].MatchID != m.ID || page[0].EndReason != reason || page[0].Standing != leaderboard.Void {
			t.Errorf("PlayerMatches(came) = %+v, %v; want %s first, %s, void", page, err, m.ID, reason)
		}
	}

	// The one who quit a duel he led is the loser; the one who stayed
	// wins and gains.
	m := leaderboard.Match{ID: "quit", Mode: "duel", EndedAt: t0.Add(time.Minute), EndReason: leaderboard.EndAbandoned,
		Players: []leaderboard.Result{
			{PlayerID: "came", Name: "came", Team: 1, Placement: 2, Stats: arena(1, 0, 0, 0, 0)},
			{PlayerID: "noshow", Name: "noshow", Team: 2, Placement: 1, Stats: arena(4, 0, 0, 0, 0), Left: true},
		}}
	if _, err := s.ApplyOutcome(c, m); err != nil {
		t.Fatal(err)
	}
	came, err := s.GetPlayer(c, "came")
	if err != nil || came.Wins != before["came"].Wins+1 || came.Losses != before["came"].Losses || came.Ratings["duel"].Rating <= before["came"].Ratings["duel"].Rating {
		t.Errorf("GetPlayer(came) after the other quit = %+v, %v; want one more win and a higher rating than %v", came, err, before["came"].Ratings["duel"])
	}
	quit, err := s.GetPlayer(c, "noshow")
	if err != nil || quit.Losses != before["noshow"].Losses+1 || quit.Stats["eliminations"] != before["noshow"].Stats["eliminations"]+4 ||
		quit.Ratings["duel"].Rating >= before["noshow"].Ratings["duel"].Rating {
		t.Errorf("GetPlayer(noshow) after quitting = %+v, %v; want one more loss, his 4 eliminations, a lower rating than %v", quit, err, before["noshow"].Ratings["duel"])
	}
}

// testServerLostReplaced: the matchmaker records a match it presumed lost
// with its gameserver as server_lost; when the gameserver's own outcome
// arrives later (published from its outbox after a restart), it replaces
// the record and counts, once; a server_lost record arriving after the
// real outcome changes nothing.
func testServerLostReplaced(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	lost := duel("late", "p1", "p2", 0, t0)
	lost.EndReason = leaderboard.EndServerLost
	for i := range lost.Players {
		lost.Players[i].Stats = nil
	}
	if applied, err := s.ApplyOutcome(c, lost); err != nil || !applied {
		t.Fatalf("ApplyOutcome(server_lost) = %v, %v; want true, nil", applied, err)
	}
	real := duel("late", "p1", "p2", 7, t0)
	if applied, err := s.ApplyOutcome(c, real); err != nil || !applied {
		t.Fatalf("ApplyOutcome(the real outcome after server_lost) = %v, %v; want true, nil", applied, err)
	}
	got, err := s.GetMatch(c, "late")
	if err != nil || got.EndReason != real.EndReason || len(got.Players) != 2 {
		t.Fatalf("GetMatch(late) = %+v, %v; want the real outcome (%s, 2 players)", got, err, real.EndReason)
	}
	p1, err := s.GetPlayer(c, "p1")
	if err != nil || p1.Matches != 1 || p1.Stats["eliminations"] != 7 {
		t.Errorf("GetPlayer(p1) = %+v, %v; want 1 match and 7 eliminations, counted once", p1, err)
	}
	for _, again := range []leaderboard.Match{lost, real} {
		if applied, err := s.ApplyOutcome(c, again); err != nil || applied {
			t.Errorf("ApplyOutcome(%s again) = %v, %v; want false, nil", again.EndReason, applied, err)
		}
	}
	if p, err := s.GetPlayer(c, "p1"); err != nil || !reflect.DeepEqual(p, p1) {
		t.Errorf("GetPlayer(p1) after the repeats = %+v, %v; want unchanged %+v", p, err, p1)
	}
	page, err := s.PlayerMatches(c, "p1", 10, nil)
	if err != nil || len(page) != 1 || page[0].EndReason != real.EndReason {
		t.Errorf("PlayerMatches(p1) = %+v, %v; want the one real match", page, err)
	}
}

func entriesString(es []leaderboard.Entry) string {
	var out string
	for _, e := range es {
		out += fmt.Sprintf("%s=%v@%v,", e.PlayerID, e.Score, e.Updated.UnixMicro())
	}
	return out
}

// testOutcomeNames: a name in an outcome that breaks the display-name rule
// does not fail the outcome: the store keeps what the rule accepts of it,
// or FallbackName ("player") when nothing is left.
func testOutcomeNames(t *testing.T, s leaderboard.Store) {
	c := ctx(t)
	m := leaderboard.Match{ID: "names", Mode: "duel", EndedAt: t0, EndReason: leaderboard.EndScoreLimit,
		Players: []leaderboard.Result{
			{PlayerID: "esc", Name: "x\u009b31mred\u0085", Team: 1, Placement: 1},
			{PlayerID: "blank", Name: "\u3164\u200b", Team: 2, Placement: 2},
			{PlayerID: "bidi", Name: "evil\u202egnp", Team: 3, Placement: 3},
		}}
	if applied, err := s.ApplyOutcome(c, m); err != nil || !applied {
		t.Fatalf("ApplyOutcome(unsafe names) = %v, %v; want true, nil", applied, err)
	}
	want := map[string]string{"esc": "x31mred", "blank": "player", "bidi": "evilgnp"}
	got, err := s.GetMatch(c, "names")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Players {
		if p.Name != want[p.PlayerID] {
			t.Errorf("GetMatch: %s named %+q, want %+q", p.PlayerID, p.Name, want[p.PlayerID])
		}
		pl, err := s.GetPlayer(c, p.PlayerID)
		if err != nil || pl.Name != want[p.PlayerID] {
			t.Errorf("GetPlayer(%s) = %+q, %v; want %+q", p.PlayerID, pl.Name, err, want[p.PlayerID])
		}
	}
	top, err := s.TopEntries(c, "wins", 10, nil)
	if err != nil || len(top) != 3 || top[0].Name != "x31mred" {
		t.Errorf("TopEntries(wins) = %+v, %v; want x31mred first", top, err)
	}
	if _, err := s.CreatePlayer(c, "x\u009b31mred\u0085"); !errors.Is(err, leaderboard.ErrInvalid) {
		t.Errorf("CreatePlayer(C1 controls) = %v, want ErrInvalid", err)
	}
}
