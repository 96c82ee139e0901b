package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestSDKParty finds a 2v2 through `skirmish dev` with the Go SDK: alice
// brings bob as her party with the invite bob minted for her (his session
// token stays his; he waits on her ticket), carol and dave search alone;
// the party must land on one team of one room.
func TestSDKParty(t *testing.T) {
	// The built-in modes with short waits, so that a failing allocation
	// ends the tickets in seconds rather than a minute.
	modes := filepath.Join(t.TempDir(), "modes.yaml")
	if err := os.WriteFile(modes, []byte("wait_scale: 0.05\nmodes:\n  team: {teams: 2, team_size: 2, min_players: 4, max_wait: 60s, skill_window: {initial: 800, max: 800}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sys, _ := startTestSystem(t, testDevFlags(t, "--modes-file", modes))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	lb, err := skirmish.NewLeaderboard("http://"+sys.leaderboardAddr, skirmish.LeaderboardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"alice", "bob", "carol", "dave"}
	sess := map[string]skirmish.Session{}
	mms := map[string]*skirmish.Matchmaker{}
	for _, n := range names {
		s, err := lb.SignInGuest(ctx, n)
		if err != nil {
			t.Fatalf("SignInGuest(%q): %v", n, err)
		}
		sess[n] = s
		mm, err := skirmish.DialMatchmaker(ctx, sys.matchmakerAddr, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mm.Close() })
		mms[n] = mm
	}

	var mu sync.Mutex
	assigned := map[string]*skirmishv1.Assignment{}
	errs := make(chan error, len(names))
	ticket := make(chan string, 1)
	var wg sync.WaitGroup
	find := func(n string, f func() (*skirmishv1.Assignment, error)) {
		wg.Go(func() {
			a, err := f()
			if err != nil {
				errs <- fmt.Errorf("%s: %w", n, err)
				return
			}
			mu.Lock()
			assigned[n] = a
			mu.Unlock()
		})
	}
	invite, err := mms["bob"].CreatePartyInvite(ctx, sess["alice"].PlayerID, "team")
	if err != nil {
		t.Fatalf("bob's CreatePartyInvite: %v", err)
	}
	find("alice", func() (*skirmishv1.Assignment, error) {
		return mms["alice"].FindMatchOptions(ctx, "team", skirmish.FindOptions{
			PartyInvites: []string{invite},
			OnTicket:     func(tk *skirmishv1.Ticket) { ticket <- tk.GetId() },
		})
	})
	find("bob", func() (*skirmishv1.Assignment, error) {
		select {
		case id := <-ticket:
			return mms["bob"].AwaitMatch(ctx, id, nil)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	for _, n := range []string{"carol", "dave"} {
		find(n, func() (*skirmishv1.Assignment, error) { return mms[n].FindMatch(ctx, "team", nil) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if a, b := assigned["alice"], assigned["bob"]; a.GetTeam() != b.GetTeam() || a.GetRoomId() != b.GetRoomId() {
		t.Fatalf("party got team %d room %s and team %d room %s, want one team in one room", a.GetTeam(), a.GetRoomId(), b.GetTeam(), b.GetRoomId())
	}
	for _, n := range []string{"carol", "dave"} {
		if assigned[n].GetTeam() == assigned["alice"].GetTeam() {
			t.Errorf("%s is on the party's team %d", n, assigned[n].GetTeam())
		}
	}

}

// TestSDKRejoin plays a duel through `skirmish dev` with the Go SDK and
// cuts alice's connection under her (the TCP connection closed, no
// WebSocket close): Rejoin must put her back into the same room, with her
// own entity, in time to see the match end.
func TestSDKRejoin(t *testing.T) {
	d := testDevFlags(t, "--match-duration", "6s")
	sys, _ := startTestSystem(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lb, err := skirmish.NewLeaderboard("http://"+sys.leaderboardAddr, skirmish.LeaderboardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"alice", "bob"}
	var mu sync.Mutex
	assigned := map[string]*skirmishv1.Assignment{}
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			a, err := findOne(ctx, lb, sys.matchmakerAddr, n, "duel")
			if err != nil {
				errs <- fmt.Errorf("%s: %w", n, err)
				return
			}
			mu.Lock()
			assigned[n] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Alice dials through a dialer whose connections pass through a pipe
	// the test can cut: her side then reads an unexpected EOF, as when a
	// network drops.
	var cut func()
	dialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		server, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mine, theirs := net.Pipe()
		go func() { io.Copy(server, theirs); server.Close() }()
		go func() { io.Copy(theirs, server); theirs.Close() }()
		mu.Lock()
		cut = func() { theirs.Close(); server.Close() }
		mu.Unlock()
		return mine, nil
	}}
	games := map[string]*skirmish.Game{}
	for _, n := range names {
		opts := skirmish.JoinOptions{}
		if n == "alice" {
			opts.Dialer = dialer
		}
		g, err := skirmish.Join(ctx, assigned[n], opts)
		if err != nil {
			t.Fatalf("Join(%s): %v", n, err)
		}
		t.Cleanup(func() { g.Close() })
		games[n] = g
	}
	alice := games["alice"]
	entity := alice.Welcome().GetEntityId()
	waitFor(t, ctx, "alice's first snapshot", func() bool { return alice.World() != nil })
	mu.Lock()
	cut()
	mu.Unlock()
	select {
	case <-alice.Done():
	case <-ctx.Done():
		t.Fatal("alice's game did not end after its connection was cut")
	}
	if !alice.Dropped() {
		t.Fatalf("after the cut: Dropped() = false (err %v, outcome %v), want true", alice.Err(), alice.Outcome())
	}
	again, err := alice.Rejoin(ctx, skirmish.Backoff{Initial: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Rejoin: %v", err)
	}
	t.Cleanup(func() { again.Close() })
	if got := again.Welcome().GetEntityId(); got != entity {
		t.Errorf("rejoined as entity %d, want %d", got, entity)
	}
	games["alice"] = again
	for n, g := range games {
		select {
		case <-g.Done():
		case <-ctx.Done():
			t.Fatalf("%s's match did not end", n)
		}
		if g.Outcome() == nil {
			t.Errorf("%s's game ended without an outcome: %v", n, g.Err())
		}
	}
	if again.Snapshots() == 0 {
		t.Errorf("alice saw no snapshot after rejoining")
	}
}

// findOne signs a player in and finds them a match of mode.
func findOne(ctx context.Context, lb *skirmish.Leaderboard, mmAddr, name, mode string) (*skirmishv1.Assignment, error) {
	s, err := lb.SignInGuest(ctx, name)
	if err != nil {
		return nil, err
	}
	mm, err := skirmish.DialMatchmaker(ctx, mmAddr, s)
	if err != nil {
		return nil, err
	}
	defer mm.Close()
	return mm.FindMatch(ctx, mode, nil)
}

// TestBotSwarmWaitsOutSignInLimit runs the bot swarm against a leaderboard
// that admits five sign-ins a second from the swarm's one address: every
// bot must wait out the 429s (honouring Retry-After) and play a match,
// with no bot giving up.
func TestBotSwarmWaitsOutSignInLimit(t *testing.T) {
	sys, _ := startTestSystem(t, testDevFlags(t, "--rate-limit", "5", "--rate-burst", "5"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const players = 20
	sum, err := bot.Run(ctx, bot.Config{
		LeaderboardURL: "http://" + sys.leaderboardAddr,
		MatchmakerAddr: sys.matchmakerAddr,
		Players:        players,
		Matches:        1,
		Duration:       60 * time.Second,
	}, testLogger(t))
	if err != nil {
		t.Fatalf("bot.Run: %v", err)
	}
	if sum.PlayersJoined != players || sum.Matches != players/2 || sum.Errors != 0 {
		t.Errorf("swarm of %d under the sign-in limit: %d joined, %d matches, %d errors (last %v); want %d, %d, 0",
			players, sum.PlayersJoined, sum.Matches, sum.Errors, sum.LastError, players, players/2)
	}
}

// TestSDKRejoinAfterTokenExpiry: join tokens live 1 s here (join_token_ttl
// in the modes file); alice is cut off, and comes back after her token
// expired: the gameserver refuses the old token, and Rejoin with
// JoinOptions.Refresh gets a new one from the matchmaker with her session
// and puts her back on her seat.
func TestSDKRejoinAfterTokenExpiry(t *testing.T) {
	modes := filepath.Join(t.TempDir(), "modes.yaml")
	if err := os.WriteFile(modes, []byte("join_token_ttl: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sys, _ := startTestSystem(t, testDevFlags(t, "--match-duration", "60s", "--modes-file", modes))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lb, err := skirmish.NewLeaderboard("http://"+sys.leaderboardAddr, skirmish.LeaderboardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	assigned := map[string]*skirmishv1.Assignment{}
	mms := map[string]*skirmish.Matchmaker{}
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for _, n := range []string{"alice", "bob"} {
		s, err := lb.SignInGuest(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		mm, err := skirmish.DialMatchmaker(ctx, sys.matchmakerAddr, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mm.Close() })
		mms[n] = mm
		wg.Go(func() {
			a, err := mm.FindMatch(ctx, "duel", nil)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", n, err)
				return
			}
			mu.Lock()
			assigned[n] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var cut func()
	dialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		server, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mine, theirs := net.Pipe()
		go func() { io.Copy(server, theirs); server.Close() }()
		go func() { io.Copy(theirs, server); theirs.Close() }()
		mu.Lock()
		cut = func() { theirs.Close(); server.Close() }
		mu.Unlock()
		return mine, nil
	}}
	bob, err := skirmish.Join(ctx, assigned["bob"], skirmish.JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	opts := skirmish.JoinOptions{Dialer: dialer}
	alice, err := skirmish.Join(ctx, assigned["alice"], opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alice.Close() })
	entity := alice.Welcome().GetEntityId()
	waitFor(t, ctx, "alice's first snapshot", func() bool { return alice.World() != nil })
	mu.Lock()
	cut()
	mu.Unlock()
	select {
	case <-alice.Done():
	case <-ctx.Done():
		t.Fatal("alice's game did not end after its connection was cut")
	}
	// Wait out the token's expiry and the verifiers' 5 s leeway.
	exp := tokenExpiry(t, assigned["alice"].GetJoinToken())
	select {
	case <-time.After(time.Until(exp.Add(6 * time.Second))):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	// Without a refresh the gameserver refuses the expired token.
	var se *skirmish.ServerError
	if _, err := skirmish.Rejoin(ctx, assigned["alice"], opts, skirmish.Backoff{Initial: 50 * time.Millisecond, Attempts: 2}); !errors.As(err, &se) ||
		se.Code != skirmishv1.ErrorCode_ERROR_CODE_UNAUTHENTICATED {
		t.Fatalf("Rejoin with the expired token and no Refresh = %v, want UNAUTHENTICATED", err)
	}
	opts.Refresh = mms["alice"].RefreshJoinToken
	again, err := skirmish.Rejoin(ctx, assigned["alice"], opts, skirmish.Backoff{Initial: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Rejoin with Refresh after the token expired: %v", err)
	}
	t.Cleanup(func() { again.Close() })
	if got := again.Welcome().GetEntityId(); got != entity {
		t.Errorf("rejoined as entity %d, want %d", got, entity)
	}
	waitFor(t, ctx, "a snapshot after rejoining", func() bool { return again.Snapshots() > 0 })
}

// tokenExpiry reads the exp claim of a JWT without verifying it.
func tokenExpiry(t *testing.T, token string) time.Time {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("join token %q is not a JWT", token)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Exp == 0 {
		t.Fatalf("join token claims %s: %v", body, err)
	}
	return time.Unix(c.Exp, 0)
}
