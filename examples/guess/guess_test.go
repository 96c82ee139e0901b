package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/host"
	"github.com/skirmishgg/skirmish/internal/auth"
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

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServed runs the example as its main does, on loopback: the room is
// allocated over RoomService as the matchmaker would, and two players
// play over WebSocket with the Go SDK until ann names the secret.
func TestServed(t *testing.T) {
	seed := make([]byte, 32)
	rand.Read(seed)
	keyText := base64.StdEncoding.EncodeToString(seed)
	keys, err := auth.ParseKey(keyText)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- host.Run(runCtx, host.Options{Games: []host.Game{&Game{}}, Stderr: &logs, Args: []string{
			"--data-dir", t.TempDir(), "--auth-key", keyText, "--addr", "127.0.0.1:0", "--internal-addr", "127.0.0.1:0",
			"--webtransport-addr", "", "--matchmaker", "", "--agones", "off", "--guess-max", "1000"}})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("gameserver did not stop")
		}
	})
	ready := regexp.MustCompile(`msg="gameserver ready" addr=(\S+) internal=(\S+)`)
	var addr, internal string
	for addr == "" {
		if m := ready.FindStringSubmatch(logs.String()); m != nil {
			addr, internal = m[1], m[2]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("gameserver stopped: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("gameserver not ready:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}

	conn, err := grpc.NewClient(internal, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	svc, err := keys.IssueService("matchmaker", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	room, err := skirmishv1.NewRoomServiceClient(conn).CreateRoom(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+svc),
		&skirmishv1.CreateRoomRequest{MatchId: "m1", Mode: ModeGuess, Seats: []*skirmishv1.Seat{
			{PlayerId: "ann", Name: "Ann", Team: 1}, {PlayerId: "ben", Name: "Ben", Team: 2}}})
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	join := func(player string) *skirmish.Game {
		tok, err := keys.IssueJoin(auth.Join{PlayerID: player, MatchID: "m1", RoomID: room.GetRoomId()}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		g, err := skirmish.Join(ctx, &skirmishv1.Assignment{MatchId: "m1", RoomId: room.GetRoomId(), JoinToken: tok,
			WebsocketUrl: "ws://" + addr + "/ws"}, skirmish.JoinOptions{})
		if err != nil {
			t.Fatalf("Join(%s): %v", player, err)
		}
		t.Cleanup(func() { g.Close() })
		return g
	}
	ann, ben := join("ann"), join("ben")

	// ann searches: one guess, then wait for the snapshot that counts it
	// and read her hint.
	me := ann.Welcome().GetEntityId()
	lo, hi := 1, 1000
	for guesses := int32(1); ; guesses++ {
		mid := (lo + hi) / 2
		if _, err := ann.SendInput(&skirmishv1.Input{Game: &skirmishv1.Input_Custom{Custom: []byte(strconv.Itoa(mid))}}); err != nil {
			t.Fatalf("send guess: %v", err)
		}
		hint, ok := waitHint(ctx, ann, me, guesses)
		if !ok {
			t.Fatalf("no snapshot counted guess %d (%v)", guesses, ann.Err())
		}
		if hint == 0 || ann.Outcome() != nil {
			break
		}
		if hint > 0 {
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	select {
	case <-ann.Done():
	case <-ctx.Done():
		t.Fatal("the match did not end")
	}
	<-ben.Done()
	out := ben.Outcome()
	if out == nil {
		t.Fatalf("ben got no outcome: %v", ben.Err())
	}
	for _, p := range out.GetPlayers() {
		if want := map[string]uint32{"ann": 1, "ben": 2}[p.GetPlayerId()]; p.GetPlacement() != want {
			t.Errorf("%s placement %d, want %d", p.GetPlayerId(), p.GetPlacement(), want)
		}
	}
	if out.GetEndReason() != skirmishv1.EndReason_END_REASON_SCORE_LIMIT {
		t.Errorf("end reason %v, want SCORE_LIMIT", out.GetEndReason())
	}
}

// waitHint waits for the snapshot that counts the player's guesses-th
// guess, and returns the hint in it (0: the guess was right, or the match
// ended). ok is false when ctx ends first.
func waitHint(ctx context.Context, g *skirmish.Game, me uint32, guesses int32) (hint int32, ok bool) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if w := g.World(); w != nil {
			if e, found := w.Entity(me); found && e.Field(0) >= guesses {
				return e.Field(1), true
			}
		}
		select {
		case <-g.Done():
			return 0, true
		case <-ctx.Done():
			return 0, false
		case <-tick.C:
		}
	}
}

// TestPublicAPIsOnly: the example imports no internal package of
// Skirmish, so a game in another module can do what it does.
func TestPublicAPIsOnly(t *testing.T) {
	for _, name := range []string{"main.go", "game.go"} {
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
	if _, err := os.Stat("main.go"); err != nil {
		t.Fatal(err)
	}
}
