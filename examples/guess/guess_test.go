package guess

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/host"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func guessMode(t *testing.T, g Game) game.Mode {
	t.Helper()
	modes, err := g.Modes()
	if err != nil || len(modes) != 1 {
		t.Fatalf("Modes() = %v, %v; want one mode", modes, err)
	}
	return modes[0]
}

// TestMatch plays a match through the seam as the room would: ann
// searches with her hints, ben guesses 1 every tick; ann wins, each sees
// only their own hint, and the secret shows only at the end.
func TestMatch(t *testing.T) {
	mode := guessMode(t, Game{Max: 1000, TimeLimit: time.Minute})
	g, err := mode.New(game.Config{MatchID: "m1", Mode: ModeGuess, Seed: 7,
		Seats: []game.Seat{{PlayerID: "ann", Name: "Ann"}, {PlayerID: "ben", Name: "Ben"}}})
	if err != nil {
		t.Fatal(err)
	}
	annID, _ := g.Join("ann")
	benID, _ := g.Join("ben")
	lo, hi := 1, 1000
	var seq uint32
	for range 30 {
		mid := (lo + hi) / 2
		seq++
		g.Input("ann", &skirmishv1.Input{Seq: seq, Game: &skirmishv1.Input_Custom{Custom: []byte(strconv.Itoa(mid))}})
		g.Input("ben", &skirmishv1.Input{Seq: seq, Game: &skirmishv1.Input_Custom{Custom: []byte("1")}})
		ended := g.Tick()
		ann, ben := g.Snapshot("ann"), g.Snapshot("ben")
		if hint := field(t, ben, annID, 1); hint != 0 {
			t.Fatalf("ben sees ann's hint %d", hint)
		}
		if hint := field(t, ann, benID, 1); hint != 0 {
			t.Fatalf("ann sees ben's hint %d", hint)
		}
		if secret := field(t, ann, 1, 1); (secret != 0) != ended {
			t.Fatalf("secret shown %d, match ended %v", secret, ended)
		}
		if ended {
			break
		}
		switch field(t, ann, annID, 1) {
		case 1:
			lo = mid + 1
		case -1:
			hi = mid - 1
		}
	}
	out := g.Outcome()
	if out.Reason != skirmishv1.EndReason_END_REASON_SCORE_LIMIT {
		t.Fatalf("end reason %v, want SCORE_LIMIT (ann named the secret)", out.Reason)
	}
	want := map[string]uint32{"ann": 1, "ben": 2}
	for _, p := range out.Players {
		if p.GetPlacement() != want[p.GetPlayerId()] {
			t.Errorf("%s placement %d, want %d", p.GetPlayerId(), p.GetPlacement(), want[p.GetPlayerId()])
		}
		if p.GetStats()["guesses"] < 1 {
			t.Errorf("%s stats %v, want guesses", p.GetPlayerId(), p.GetStats())
		}
	}
}

func field(t *testing.T, es []skirmish.Entity, id uint32, f int) int32 {
	t.Helper()
	for _, e := range es {
		if e.ID == id {
			return e.Field(f)
		}
	}
	t.Fatalf("no entity %d in %v", id, es)
	return 0
}

func TestSettings(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"--guess-max", "1"}, "--guess-max: must be from 2 to 1000000, got 1"},
		{[]string{"--guess-time", "10ms"}, "--guess-time: must be at least 1s, got 10ms"},
		{[]string{"--capacity", "0"}, "--capacity (SKIRMISH_CAPACITY): must be above 0, got 0"},
	}
	for _, tt := range tests {
		err := host.Run(context.Background(), host.Options{Games: []host.Game{&Game{}}, Args: append(tt.args, "--data-dir", t.TempDir()), Stderr: &bytes.Buffer{}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
	var usage bytes.Buffer
	err := host.Run(context.Background(), host.Options{Games: []host.Game{&Game{}}, Args: []string{"-h"}, Name: "guess", Stderr: &usage})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Run(-h) = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: guess [flags]", "-guess-max int    $SKIRMISH_GUESS_MAX", "-guess-time duration    $SKIRMISH_GUESS_TIME", "-outbox-path string    $SKIRMISH_OUTBOX_PATH", "-webtransport-addr string"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestPublicAPIsOnly: the example imports no internal package of
// Skirmish, so a game in another module can do what it does.
func TestPublicAPIsOnly(t *testing.T) {
	for _, name := range []string{"guess.go", "server/main.go", "bot/main.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") {
				t.Errorf("%s imports %s, which a game in another module cannot", name, path)
			}
		}
	}
}
