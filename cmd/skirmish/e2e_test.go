package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/internal/testenv"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestEndToEnd plays one Arena duel through every part, as two players
// would: guest sign-in over REST, matchmaking over gRPC, the match over
// WebSocket, the outcome through the outbox and the queue to the stats
// worker, and the result read back over REST. It runs on the embedded
// defaults and on PostgreSQL plus a real SQS-compatible server.
func TestEndToEnd(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		d := testDevFlags(t)
		playDuel(t, d)
	})
	t.Run("postgres+sqs", func(t *testing.T) {
		d := testDevFlags(t)
		d.store.Database = testenv.Postgres(t)
		d.queue.Backend = "sqs"
		d.queue.SQSEndpoint = testenv.SQS(t)
		d.queue.SQSQueue = fmt.Sprintf("e2e-%d", time.Now().UnixNano())
		d.queue.SQSCreate = true
		t.Setenv("AWS_ACCESS_KEY_ID", "test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
		playDuel(t, d)
	})
}

// testDevFlags returns the settings of `skirmish dev` as a user would get
// them, with loopback port 0, a temporary data directory and short matches.
func testDevFlags(t *testing.T, args ...string) *devFlags {
	t.Helper()
	fs, d := newDevFlags(io.Discard)
	base := []string{
		"--data-dir", t.TempDir(),
		"--log-level", "warn",
		"--gameserver-addr", "127.0.0.1:0",
		"--matchmaker-addr", "127.0.0.1:0",
		"--leaderboard-addr", "127.0.0.1:0",
		"--gameserver-internal-addr", "127.0.0.1:0",
		"--matchmaker-internal-addr", "127.0.0.1:0",
		"--leaderboard-internal-addr", "127.0.0.1:0",
		"--gameserver-capacity", "100",
		"--gameserver-webtransport-addr", "127.0.0.1:0",
		"--match-duration", "3s",
		"--drain-timeout", "2s",
	}
	if err := fs.Parse(append(base, args...)); err != nil {
		t.Fatalf("parse dev flags: %v", err)
	}
	return d
}

// startTestSystem runs every part in this process until the test ends or
// stop is called; stop fails the test unless the system stops cleanly
// within 30 seconds.
func startTestSystem(t *testing.T, d *devFlags) (sys *devSystem, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sys, err := startDev(ctx, d, testLogger(t))
	if err != nil {
		cancel()
		t.Fatalf("startDev: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-sys.done:
				if err != nil {
					t.Errorf("system stopped with error: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("system did not stop within 30s of cancellation")
			}
		})
	}
	t.Cleanup(stop)
	return sys, stop
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

func playDuel(t *testing.T, d *devFlags) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sys, shutdown := startTestSystem(t, d)

	lbURL := "http://" + sys.leaderboardAddr
	names := []string{"alice", "bob"}
	outcomes := make([]*skirmishv1.MatchOutcome, len(names))
	sessions := make([]skirmish.Session, len(names))
	for i, name := range names {
		s, err := skirmish.SignInGuest(ctx, nil, lbURL, name)
		if err != nil {
			t.Fatalf("SignInGuest(%q): %v", name, err)
		}
		sessions[i] = s
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for i := range names {
		wg.Go(func() {
			o, err := playOne(ctx, sys.matchmakerAddr, sessions[i], int64(i))
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
	if o.GetMatchId() == "" || o.GetMatchId() != outcomes[1].GetMatchId() {
		t.Fatalf("players saw match ids %q and %q, want one shared id", o.GetMatchId(), outcomes[1].GetMatchId())
	}
	if o.GetMode() != "duel" || len(o.GetPlayers()) != 2 {
		t.Fatalf("outcome = mode %q with %d players, want duel with 2", o.GetMode(), len(o.GetPlayers()))
	}
	seen := map[string]bool{}
	for _, p := range o.GetPlayers() {
		seen[p.GetPlayerId()] = true
	}
	for _, s := range sessions {
		if !seen[s.PlayerID] {
			t.Errorf("outcome has no result for player %s", s.PlayerID)
		}
	}

	// The outcome travels outbox -> queue -> stats worker -> store; wait
	// for the leaderboard to show it.
	for _, s := range sessions {
		var profile struct {
			Matches      int64 `json:"matches"`
			Eliminations int64 `json:"eliminations"`
		}
		waitFor(t, ctx, "profile of "+s.Name+" to show one match", func() bool {
			return getJSON(ctx, lbURL+"/v1/players/"+s.PlayerID, &profile) == nil && profile.Matches == 1
		})
		var want int64
		for _, p := range o.GetPlayers() {
			if p.GetPlayerId() == s.PlayerID {
				want = int64(p.GetEliminations())
			}
		}
		if profile.Eliminations != want {
			t.Errorf("profile of %s: eliminations = %d, want %d", s.Name, profile.Eliminations, want)
		}
	}
	var match struct {
		ID      string            `json:"id"`
		Players []json.RawMessage `json:"players"`
	}
	if err := getJSON(ctx, lbURL+"/v1/matches/"+o.GetMatchId(), &match); err != nil {
		t.Fatalf("GET match: %v", err)
	}
	if match.ID != o.GetMatchId() || len(match.Players) != 2 {
		t.Errorf("GET match = id %q with %d players, want %q with 2", match.ID, len(match.Players), o.GetMatchId())
	}
	var board struct {
		Entries []struct {
			PlayerID string  `json:"player_id"`
			Rank     int64   `json:"rank"`
			Score    float64 `json:"score"`
		} `json:"entries"`
	}
	// The rank index learns of outcomes the stats worker stored by polling
	// the store (leaderboard/rankindex), so the board may lag the profile.
	waitFor(t, ctx, "the rating board to list both players", func() bool {
		return getJSON(ctx, lbURL+"/v1/leaderboards/rating/entries?limit=10", &board) == nil && len(board.Entries) == 2
	})

	// Every part serves its health on both listeners, and its metrics on
	// the internal one only.
	for _, addr := range []string{sys.gameserverAddr, sys.matchmakerAddr, sys.leaderboardAddr} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if err := getOK(ctx, "http://"+addr+path); err != nil {
				t.Errorf("GET %s%s: %v", addr, path, err)
			}
		}
		if err := getOK(ctx, "http://"+addr+"/metrics"); err == nil {
			t.Errorf("GET %s/metrics answered on a public port", addr)
		}
	}
	for _, addr := range []string{sys.gameserverInternal, sys.matchmakerInternal, sys.leaderboardInternal} {
		for _, path := range []string{"/healthz", "/metrics", "/debug/pprof/cmdline"} {
			if err := getOK(ctx, "http://"+addr+path); err != nil {
				t.Errorf("GET %s%s: %v", addr, path, err)
			}
		}
	}
	shutdown()
}

// playOne is one player: find a duel, join it, play until the end.
func playOne(ctx context.Context, mmAddr string, s skirmish.Session, seed int64) (*skirmishv1.MatchOutcome, error) {
	mm, err := skirmish.DialMatchmaker(ctx, mmAddr, s)
	if err != nil {
		return nil, err
	}
	defer mm.Close()
	a, err := mm.FindMatch(ctx, "duel", nil)
	if err != nil {
		return nil, err
	}
	g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	if g.Welcome().GetPlayerId() != s.PlayerID {
		return nil, fmt.Errorf("welcomed as %q, want %q", g.Welcome().GetPlayerId(), s.PlayerID)
	}
	brain := bot.NewBrain(g.Welcome().GetEntityId(), seed)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-g.Done():
			if o := g.Outcome(); o != nil {
				if g.Snapshots() == 0 {
					return nil, fmt.Errorf("match ended without a single snapshot")
				}
				return o, nil
			}
			return nil, fmt.Errorf("connection ended without a match end: %v", g.Err())
		case <-tick.C:
			mx, my, aim, fire := brain.Decide(g.World())
			if _, err := g.SendArena(mx, my, aim, fire); err != nil {
				select {
				case <-g.Done():
				default:
					return nil, err
				}
			}
		}
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-deadline:
			t.Fatalf("waiting for %s: gave up after 30s", what)
		case <-tick.C:
		}
	}
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

func getOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
