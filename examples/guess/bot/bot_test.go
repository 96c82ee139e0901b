package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/examples/guess"
	"github.com/skirmishgg/skirmish/gameserver/host"
	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

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

// TestBotPlays runs the example's gameserver as its main does, on loopback: the room is
// allocated over RoomService as the matchmaker would, and two players
// play over WebSocket with the Go SDK: ann as the bot plays, until she
// names the secret.
func TestBotPlays(t *testing.T) {
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
		done <- host.Run(runCtx, host.Options{Games: []host.Game{&guess.Game{}}, Stderr: &logs, Args: []string{
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
	svc, err := keys.IssueService(auth.KindControl, "matchmaker", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	room, err := skirmishv1.NewRoomServiceClient(conn).CreateRoom(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+svc),
		&skirmishv1.CreateRoomRequest{MatchId: "m1", Mode: guess.ModeGuess, Seats: []*skirmishv1.Seat{
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

	// ann plays as the bot does; ben sends nothing.
	if err := play(ctx, ann, 1000); err != nil {
		t.Fatalf("play: %v", err)
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
