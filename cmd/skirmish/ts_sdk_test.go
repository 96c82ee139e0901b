package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestTypeScriptSDK plays a duel through `skirmish dev` with the
// TypeScript SDK (clients/ts/e2e/play.mjs under Node): sign-in and the
// leaderboard over REST, matchmaking over Connect, the match over
// WebSocket, and a rejoin mid-match whose refused join token the SDK
// refreshes with the matchmaker. The leaderboard
// allows one request a second per address, so the SDK must honour its
// Retry-After to finish. It needs Node and the SDK built (`npm ci && npm
// run build` in clients/ts).
func TestTypeScriptSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", err)
		return
	}
	dir, err := filepath.Abs("../../clients/ts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "index.js")); err != nil {
		testenv.Missing(t, "the TypeScript SDK's build (npm ci && npm run build in clients/ts)", err)
		return
	}
	d := testDevFlags(t, "--rate-limit", "1", "--rate-burst", "1", "--match-duration", "6s")
	sys, _ := startTestSystem(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{filepath.Join("e2e", "play.mjs")}
	if v, err := exec.Command(node, "-e", "process.stdout.write(String(typeof WebSocket))").Output(); err == nil && string(v) == "undefined" {
		// Node before 22 has WebSocket only behind a flag.
		args = append([]string{"--experimental-websocket"}, args...)
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LEADERBOARD_URL=http://"+sys.leaderboardAddr, "MATCHMAKER_URL=http://"+sys.matchmakerAddr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("play.mjs: %v\n%s", err, stderr.Bytes())
	}
	t.Logf("TypeScript SDK saw: %s", bytes.TrimSpace(stdout.Bytes()))
	var saw struct {
		Refused int `json:"refused"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &saw); err != nil {
		t.Fatalf("play.mjs output: %v", err)
	}
	if saw.Refused == 0 {
		t.Errorf("the leaderboard refused no request at one a second; the Retry-After path went untested")
	}
}
