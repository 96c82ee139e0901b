package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestDiceBrowser plays one match of Liar's Dice, the second game, to its
// end in two headless Chromium pages driven by playwright-core
// (clients/dice/test/play.mjs) through the page served at /dice/.
// Screenshots go to $SKIRMISH_ARTIFACTS or a temporary directory, whose
// path the test logs.
func TestDiceBrowser(t *testing.T) {
	b, ok := browserSetup(t, "dice")
	if !ok {
		return
	}
	chromium, node, diceDir, artifacts := b.chromium, b.node, b.dir, b.artifacts

	d := testDevFlags(t, "--wait-scale", "0.05") // dice waits 20 s for 6 players: 1 s here
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Second)
	defer cancel()
	sys, _ := startTestSystem(t, d)

	cmd := exec.CommandContext(ctx, node, filepath.Join("test", "play.mjs"))
	cmd.Dir = diceDir
	cmd.Env = append(os.Environ(), "BASE_URL=http://"+sys.gameserverAddr, "TRANSPORT=auto", "ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("browser log:\n%s", stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("play.mjs: %v", err)
	}
	t.Logf("measured: %s", bytes.TrimSpace(stdout.Bytes()))
}
