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
	b, ok := browserSetup(t, "web")
	if !ok {
		return
	}
	chromium, node, webDir, artifacts := b.chromium, b.node, b.dir, b.artifacts

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

// browserTest is what a browser test runs with: Chromium, Node, the
// client's directory under clients/ (with playwright-core installed) and
// a directory for screenshots.
type browserTest struct {
	chromium, node, dir, artifacts string
}

// browserSetup finds Chromium ($CHROMIUM or /usr/bin/chromium), Node and
// clients/<client> with its npm packages, and makes the screenshot
// directory ($SKIRMISH_ARTIFACTS or a temporary one, logged). It reports
// false, having skipped the test or (under CI) failed it, when one is
// missing.
func browserSetup(t *testing.T, client string) (browserTest, bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	var b browserTest
	b.chromium = os.Getenv("CHROMIUM")
	if b.chromium == "" {
		b.chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(b.chromium); err != nil {
		testenv.Missing(t, "chromium", err)
		return b, false
	}
	var err error
	if b.node, err = exec.LookPath("node"); err != nil {
		testenv.Missing(t, "node", err)
		return b, false
	}
	if b.dir, err = filepath.Abs(filepath.Join("../../clients", client)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(b.dir, "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "playwright-core (npm ci in clients/"+client+")", err)
		return b, false
	}
	b.artifacts = os.Getenv("SKIRMISH_ARTIFACTS")
	if b.artifacts == "" {
		if b.artifacts, err = os.MkdirTemp("", "skirmish-"+client+"-"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser screenshots in %s", b.artifacts)
	return b, true
}
