package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLeaderboardStartErrors: settings that cannot work stop the
// leaderboard at start with a message that names the setting, and for the
// boards file the board and the field.
func TestLeaderboardStartErrors(t *testing.T) {
	dir := t.TempDir()
	conflict := filepath.Join(dir, "conflict.yaml")
	// "wins" exists by default with aggregate sum (operator increment).
	if err := os.WriteFile(conflict, []byte("boards:\n  - {id: wins, operator: best, metric: wins}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("boards:\n  - {id: x, operator: most, metric: wins}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"rank index", []string{"--rank-index", "disk"}, []string{"--rank-index", "memory, redis"}},
		{"missing file", []string{"--boards-file", filepath.Join(dir, "nope.yaml")}, []string{"--boards-file", "nope.yaml"}},
		{"bad board", []string{"--boards-file", bad}, []string{"--boards-file", `operator "most"`}},
		{"changed board", []string{"--boards-file", conflict}, []string{"--boards-file", `board "wins"`, "cannot change aggregate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"leaderboard", "--addr", "127.0.0.1:0", "--internal-addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)
			err := run(ctx, args, io.Discard, io.Discard)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("leaderboard %v = %v, want an error containing %q", tc.args, err, w)
				}
			}
		})
	}
}

// TestStatsWorkerRankIndexFlag: a stats worker's --rank-index accepts
// none and redis only, and says so.
func TestStatsWorkerRankIndexFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"stats-worker", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--rank-index", "memory"}, io.Discard, io.Discard)
	for _, w := range []string{"--rank-index", "none, redis"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("stats-worker --rank-index memory = %v, want an error containing %q", err, w)
		}
	}
}
