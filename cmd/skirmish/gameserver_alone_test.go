package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
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

// TestGameserverAlonePage: `skirmish gameserver` run alone serves a page
// whose config points at the public port (7810) of the matchmaker whose
// internal port it registers with, and at the leaderboard beside it, so
// Play does not call the gameserver itself.
func TestGameserverAlonePage(t *testing.T) {
	// A port held but never served stands for the matchmaker, so that no
	// other matchmaker on this machine is registered with.
	mm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mm.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runGameserver(ctx, []string{"--addr", "127.0.0.1:0", "--webtransport-addr", "", "--data-dir", t.TempDir(),
			"--matchmaker", mm.Addr().String(), "--log-level", "info"}, &logs, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("gameserver did not stop")
		}
	})
	ready := regexp.MustCompile(`msg="gameserver ready" addr=(\S+)`)
	var addr string
	deadline := time.After(20 * time.Second)
	for addr == "" {
		if m := ready.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("gameserver stopped: %v\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("gameserver not ready:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	resp, err := http.Get("http://" + addr + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		MatchmakerURL  string `json:"matchmaker_url"`
		LeaderboardURL string `json:"leaderboard_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if want := "http://127.0.0.1:7810"; page.MatchmakerURL != want || page.LeaderboardURL != "http://127.0.0.1:7820" {
		t.Errorf("config.json = %+v, want the matchmaker at %s and the leaderboard at http://127.0.0.1:7820", page, want)
	}
}
