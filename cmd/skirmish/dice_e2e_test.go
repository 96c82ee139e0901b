package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestDiceEndToEnd plays one match of Liar's Dice, the turn-based game with
// hidden information, through every part as three players would: guest
// sign-in, matchmaking for mode "dice", the match over WebSocket with
// ordered custom inputs (bids, calls) and reliable game events, the
// outcome with its named stats through the outbox and the queue to the
// stats worker, and the match read back from history.
func TestDiceEndToEnd(t *testing.T) {
	// dice waits 20 s for 6 players, 10 s here: time enough for the three
	// tickets to meet on a loaded machine, so they form one match of 3
	// rather than 2 and a player left alone.
	d := testDevFlags(t, "--wait-scale", "0.5")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	sys, shutdown := startTestSystem(t, d)
	lbURL := "http://" + sys.leaderboardAddr

	names := []string{"ann", "ben", "cy"}
	sessions := make([]skirmish.Session, len(names))
	for i, name := range names {
		s, err := skirmish.SignInGuest(ctx, nil, lbURL, name)
		if err != nil {
			t.Fatalf("SignInGuest(%q): %v", name, err)
		}
		sessions[i] = s
	}
	outcomes := make([]*skirmishv1.MatchOutcome, len(names))
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for i := range names {
		wg.Go(func() {
			o, err := playDice(ctx, sys.matchmakerAddr, sessions[i], i == 0)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", names[i], err)
				return
			}
			outcomes[i] = o
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	o := outcomes[0]
	for _, other := range outcomes[1:] {
		if other.GetMatchId() != o.GetMatchId() {
			t.Fatalf("players saw match ids %q and %q, want one shared id", o.GetMatchId(), other.GetMatchId())
		}
	}
	if o.GetMode() != "dice" || len(o.GetPlayers()) != 3 || o.GetEndReason() != skirmishv1.EndReason_END_REASON_SCORE_LIMIT {
		t.Fatalf("outcome = mode %q, %d players, %v; want dice, 3, SCORE_LIMIT", o.GetMode(), len(o.GetPlayers()), o.GetEndReason())
	}
	placements := map[uint32]bool{}
	lost := 0.0
	for _, p := range o.GetPlayers() {
		placements[p.GetPlacement()] = true
		lost += p.GetStats()["dice_lost"]
		if _, ok := p.GetStats()["bluffs_called"]; !ok {
			t.Errorf("player %s has no bluffs_called stat: %v", p.GetPlayerId(), p.GetStats())
		}
	}
	if len(placements) != 3 || lost < 10 { // two players lost all 5 dice
		t.Errorf("placements %v, dice lost %v; want 1, 2, 3 and at least 10", placements, lost)
	}

	// The outcome travels outbox -> queue -> stats worker -> store.
	for _, s := range sessions {
		var profile struct {
			Matches int64 `json:"matches"`
			Wins    int64 `json:"wins"`
		}
		waitFor(t, ctx, "profile of "+s.Name+" to show one match", func() bool {
			return getJSON(ctx, lbURL+"/v1/players/"+s.PlayerID, &profile) == nil && profile.Matches == 1
		})
	}
	var match struct {
		ID      string `json:"id"`
		Mode    string `json:"mode"`
		Players []struct {
			PlayerID  string `json:"player_id"`
			Placement int    `json:"placement"`
		} `json:"players"`
	}
	if err := getJSON(ctx, lbURL+"/v1/matches/"+o.GetMatchId(), &match); err != nil {
		t.Fatalf("GET match: %v", err)
	}
	if match.ID != o.GetMatchId() || match.Mode != "dice" || len(match.Players) != 3 {
		t.Errorf("GET match = id %q, mode %q, %d players; want %q, dice, 3", match.ID, match.Mode, len(match.Players), o.GetMatchId())
	}
	for _, p := range match.Players {
		for _, r := range o.GetPlayers() {
			if r.GetPlayerId() == p.PlayerID && int(r.GetPlacement()) != p.Placement {
				t.Errorf("history places %s %d, the outcome %d", p.PlayerID, p.Placement, r.GetPlacement())
			}
		}
	}

	// Liar's Dice's own boards: its rating pool lists every player, its
	// wins board the winner, its bluffs board each player's bluffs_called;
	// Arena's eliminations board gets nothing from a dice match.
	board := func(id string) map[string]float64 {
		var page struct {
			Entries []struct {
				PlayerID string  `json:"player_id"`
				Score    float64 `json:"score"`
			} `json:"entries"`
		}
		if err := getJSON(ctx, lbURL+"/v1/leaderboards/"+id+"/entries", &page); err != nil {
			t.Fatalf("GET board %s: %v", id, err)
		}
		scores := map[string]float64{}
		for _, e := range page.Entries {
			scores[e.PlayerID] = e.Score
		}
		return scores
	}
	waitFor(t, ctx, "every player on rating-dice", func() bool { return len(board("rating-dice")) == 3 })
	wins, bluffs := board("dice-wins"), board("dice-bluffs-called")
	for _, r := range o.GetPlayers() {
		if r.GetPlacement() == 1 && wins[r.GetPlayerId()] != 1 {
			t.Errorf("dice-wins gives the winner %s %v, want 1 (board %v)", r.GetPlayerId(), wins[r.GetPlayerId()], wins)
		}
		if got, want := bluffs[r.GetPlayerId()], r.GetStats()["bluffs_called"]; got != want {
			t.Errorf("dice-bluffs-called gives %s %v, the outcome's bluffs_called %v", r.GetPlayerId(), got, want)
		}
	}
	if e := board("eliminations"); len(e) != 0 {
		t.Errorf("a dice match put %v on Arena's eliminations board", e)
	}
	shutdown()
}

// playDice is one player of Liar's Dice with the bot's brain. It checks
// on the way what a player must see: events numbered from 1 without a gap
// or a repeat, and never another player's dice while bidding. With rejoin
// the player drops its connection after the first reveal and rejoins: the
// events of the meantime are sent again, so the numbering stays whole.
func playDice(ctx context.Context, mmAddr string, s skirmish.Session, rejoin bool) (*skirmishv1.MatchOutcome, error) {
	mm, err := skirmish.DialMatchmaker(ctx, mmAddr, s)
	if err != nil {
		return nil, err
	}
	defer mm.Close()
	a, err := mm.FindMatch(ctx, "dice", nil)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var seqs []uint64
	var reveals, refusedEvents int
	refused := make(chan struct{}, 1)
	tooLarge := make(chan *skirmish.ServerError, 1)
	g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{
		OnRefused: func(e *skirmish.ServerError) {
			select {
			case tooLarge <- e:
			default:
			}
		},
		OnEvent: func(ev *skirmishv1.GameEvent) {
			mu.Lock()
			defer mu.Unlock()
			seqs = append(seqs, ev.GetSeq())
			switch ev.GetType() {
			case "reveal":
				var r struct {
					Dice [][]int `json:"dice"`
				}
				if json.Unmarshal(ev.GetPayload(), &r) == nil && len(r.Dice) > 0 {
					reveals++
				}
			case "refused":
				refusedEvents++
				select {
				case refused <- struct{}{}:
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	defer func() { g.Close() }()
	w := g.Welcome()
	if w.GetInputPolicy() != skirmishv1.InputPolicy_INPUT_POLICY_ORDERED || w.GetMaxInputPayload() == 0 {
		return nil, fmt.Errorf("welcome: input policy %v, payload %d; want ORDERED and a bound", w.GetInputPolicy(), w.GetMaxInputPayload())
	}
	seat := int32(w.GetEntityId()) - 10
	brain := bot.NewDiceBrain(w.GetEntityId())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	// Once, out of turn: a payload over the mode's bound is refused by
	// the room with the connection kept; a move never allowed by the game.
	probed, gotTooLarge := false, false
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-g.Done():
			o := g.Outcome()
			if o == nil {
				return nil, fmt.Errorf("connection ended without a match end: %v", g.Err())
			}
			mu.Lock()
			defer mu.Unlock()
			for i, q := range seqs {
				if q != uint64(i+1) {
					return nil, fmt.Errorf("event %d has seq %d, want %d", i, q, i+1)
				}
			}
			if reveals == 0 {
				return nil, fmt.Errorf("no reveal event in a whole match (%d events)", len(seqs))
			}
			if probed && (refusedEvents == 0 || !gotTooLarge) {
				return nil, fmt.Errorf("probes: %d refused events, too-large refusal %v; want both", refusedEvents, gotTooLarge)
			}
			return o, nil
		case <-refused:
			brain.Retry()
		case e := <-tooLarge:
			if e.Code != skirmishv1.ErrorCode_ERROR_CODE_INPUT_TOO_LARGE {
				return nil, fmt.Errorf("refusal %v, want INPUT_TOO_LARGE", e)
			}
			gotTooLarge = true
		case <-tick.C:
			world := g.World()
			if world == nil {
				continue
			}
			if table, ok := world.Entity(1); ok && table.Field(1) == 1 { // bidding: dice are hidden
				for _, e := range world.Entities {
					if e.Kind == 3 && (int32(e.ID)-100)/8 != seat {
						return nil, fmt.Errorf("saw die %d of another player while bidding", e.ID)
					}
				}
			}
			if table, ok := world.Entity(1); ok && !probed && table.Field(1) == 1 && table.Field(2) != seat {
				probed = true
				big := &skirmishv1.Input{Game: &skirmishv1.Input_Custom{Custom: make([]byte, w.GetMaxInputPayload()+1)}}
				if _, err := g.SendInput(big); err != nil {
					return nil, err
				}
				if _, err := g.SendCustom([]byte{1, 48, 6}); err != nil { // never allowed: 48 dice
					return nil, err
				}
			}
			mu.Lock()
			drop := rejoin && reveals > 0
			mu.Unlock()
			if drop {
				rejoin = false
				ng, err := g.Rejoin(ctx, skirmish.Backoff{})
				if err != nil {
					return nil, fmt.Errorf("rejoin: %w", err)
				}
				if !ng.Welcome().GetResumed() {
					return nil, fmt.Errorf("rejoined without resuming the seat")
				}
				g = ng
				brain.Retry()
				continue
			}
			if mv := brain.Decide(world); mv != nil {
				if _, err := g.SendCustom(mv); err != nil {
					select {
					case <-g.Done():
					default:
						return nil, err
					}
				}
			}
		}
	}
}
