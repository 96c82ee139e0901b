package main

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/agones"
	"github.com/skirmishgg/skirmish/gameserver/agones/agonestest"
)

// TestGameserverAgonesMode runs `skirmish gameserver` beside the stand-in
// sidecar: AGONES_SDK_HTTP_PORT alone switches Agones mode on, the server
// goes Ready, and SIGTERM ends with Shutdown as the last state call.
func TestGameserverAgonesMode(t *testing.T) {
	sc := agonestest.Start(agonestest.Config{Counters: map[string]int64{"rooms": 10, "players": 10}})
	t.Cleanup(sc.Close)
	t.Setenv(agones.PortEnv, sc.Port())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gameserver", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--internal-addr", "127.0.0.1:0",
			"--webtransport-addr", "", "--no-web", "--matchmaker", "", "--capacity", "8"}, io.Discard, io.Discard)
	}()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if !sc.WaitState(wctx, agones.StateReady) {
		t.Fatalf("state %q, want Ready; calls %v", sc.State(), sc.Calls())
	}
	if _, c, _ := sc.Counter("players"); c != 8 {
		t.Errorf("players capacity %d, want --capacity 8", c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("gameserver: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gameserver did not stop after SIGTERM")
	}
	var states []string
	for _, c := range sc.Calls() {
		if c.Path == "/ready" || c.Path == "/allocate" || c.Path == "/shutdown" {
			states = append(states, c.String())
		}
	}
	if want := []string{"POST /ready", "POST /shutdown"}; !slices.Equal(states, want) {
		t.Errorf("state calls %v, want %v", states, want)
	}
}
