package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestBrowser plays a duel in two headless Chromium pages driven by
// playwright-core (clients/web/test/play.mjs), once over WebTransport and
// once forced to WebSocket. Screenshots go to $SKIRMISH_ARTIFACTS or a
// temporary directory, whose path the test logs.
func TestBrowser(t *testing.T) {
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
	webDir, err := filepath.Abs("../../clients/web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "playwright-core (npm ci in clients/web)", err)
		return
	}
	artifacts := os.Getenv("SKIRMISH_ARTIFACTS")
	if artifacts == "" {
		artifacts, err = os.MkdirTemp("", "skirmish-browser-")
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser screenshots in %s", artifacts)

	d := testDevFlags(t, "--match-duration", "40s")
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	sys, _ := startTestSystem(t, d)

	for _, transport := range []string{"webtransport", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			tctx, cancel := context.WithTimeout(ctx, 110*time.Second)
			defer cancel()
			cmd := exec.CommandContext(tctx, node, filepath.Join("test", "play.mjs"))
			cmd.Dir = webDir
			cmd.Env = append(os.Environ(), "BASE_URL=http://"+sys.gameserverAddr, "TRANSPORT="+transport, "ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if stderr.Len() > 0 {
				t.Logf("browser log:\n%s", stderr.Bytes())
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) || err != nil {
				t.Fatalf("play.mjs over %s: %v", transport, err)
			}
			t.Logf("measured: %s", bytes.TrimSpace(stdout.Bytes()))
		})
	}
}
