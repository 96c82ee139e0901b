// Command bot plays Guess the Number as a player would, with the Go
// client SDK (clients/go/skirmish): it signs in as a guest, queues for
// the "guess" mode, joins the room it is assigned and searches for the
// secret with its hints, then prints the outcome.
//
//	go run ./examples/guess/bot --name Ada
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/examples/guess"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func main() {
	lbURL := flag.String("leaderboard", "http://127.0.0.1:7820", "leaderboard base URL (guest sign-in)")
	mmAddr := flag.String("matchmaker", "127.0.0.1:7810", "matchmaker gRPC address")
	name := flag.String("name", "Bot", "display name")
	highest := flag.Int("max", 100, "the gameserver's --guess-max")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *lbURL, *mmAddr, *name, *highest); err != nil {
		fmt.Fprintln(os.Stderr, "bot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, lbURL, mmAddr, name string, highest int) error {
	s, err := skirmish.SignInGuest(ctx, nil, lbURL, name)
	if err != nil {
		return err
	}
	mm, err := skirmish.DialMatchmaker(ctx, mmAddr, s)
	if err != nil {
		return err
	}
	defer mm.Close()
	a, err := mm.FindMatch(ctx, guess.ModeGuess, nil)
	if err != nil {
		return err
	}
	g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{})
	if err != nil {
		return err
	}
	defer g.Close()
	if err := play(ctx, g, highest); err != nil {
		return err
	}
	for _, p := range g.Outcome().GetPlayers() {
		fmt.Printf("%s: placement %d, %v guesses\n", p.GetName(), p.GetPlacement(), p.GetStats()["guesses"])
	}
	return nil
}

// play searches for the secret from 1 to highest: it guesses a number in the
// range its hints leave, waits for the snapshot that counts the guess,
// and narrows the range by the hint, until the match ends.
func play(ctx context.Context, g *skirmish.Game, highest int) error {
	me := g.Welcome().GetEntityId()
	lo, hi := 1, highest
	for guesses := int32(1); ; guesses++ {
		if lo > hi {
			return fmt.Errorf("the hints left no number from 1 to %d (is --max the gameserver's --guess-max?)", highest)
		}
		mid := lo + rand.IntN(hi-lo+1)
		in := &skirmishv1.Input{Game: &skirmishv1.Input_Custom{Custom: []byte(strconv.Itoa(mid))}}
		if _, err := g.SendInput(in); err != nil {
			return err
		}
		hint, err := waitHint(ctx, g, me, guesses)
		if err != nil {
			return err
		}
		if hint == 0 { // right, or the match is over: wait for the outcome
			select {
			case <-g.Done():
				return g.Err()
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if hint > 0 {
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
}

// waitHint waits for the snapshot that counts the player's guesses-th
// guess and returns the hint in it: 1 higher, -1 lower, 0 right. It
// returns 0 too when the match ends first.
func waitHint(ctx context.Context, g *skirmish.Game, me uint32, guesses int32) (int32, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if w := g.World(); w != nil {
			if e, ok := w.Entity(me); ok && e.Field(guess.PlayerGuesses) >= guesses {
				return e.Field(guess.PlayerHint), nil
			}
		}
		select {
		case <-g.Done():
			return 0, g.Err()
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}
