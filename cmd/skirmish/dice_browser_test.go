package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestDiceBrowser plays one match of Liar's Dice, the second game, to its
// end in two headless Chromium pages driven by playwright-core
// (clients/dice/test/play.mjs) through the page served at /dice/.
// Screenshots go to $SKIRMISH_ARTIFACTS or a temporary directory, whose
// path the test logs.
func TestDiceBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, "chromium", err)
		return
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", err)
		return
	}
	diceDir, err := filepath.Abs("../../clients/dice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(diceDir, "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "playwright-core (npm ci in clients/dice)", err)
		return
	}
	artifacts := os.Getenv("SKIRMISH_ARTIFACTS")
	if artifacts == "" {
		artifacts, err = os.MkdirTemp("", "skirmish-dice-")
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser screenshots in %s", artifacts)

	d := testDevFlags(t, "--wait-scale", "0.05") // dice waits 20 s for 6 players: 1 s here
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Second)
	defer cancel()
	sys, _ := startTestSystem(t, d)

	cmd := exec.CommandContext(ctx, node, filepath.Join("test", "play.mjs"))
	cmd.Dir = diceDir
	cmd.Env = append(os.Environ(), "BASE_URL=http://"+sys.gameserverAddr, "TRANSPORT=auto", "ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("browser log:\n%s", stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("play.mjs: %v", err)
	}
	t.Logf("measured: %s", bytes.TrimSpace(stdout.Bytes()))
}
