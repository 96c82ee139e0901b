package host_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/host"
)

// TestRunSettings: a game's flags are set by their SKIRMISH_* variables
// too, and Run stops before listening on a bad setting or with no game.
func TestRunSettings(t *testing.T) {
	t.Setenv("SKIRMISH_MATCH_DURATION", "500ms")
	tests := []struct {
		name  string
		games []host.Game
		args  []string
		want  string
	}{
		{"game flag from the environment", []host.Game{&arena.Game{}}, nil, "--match-duration: must be at least 1s, got 500ms"},
		{"no game", nil, []string{"--match-duration", "1m"}, "flag provided but not defined: -match-duration"},
		{"no game at all", nil, nil, "no game to host"},
		{"core flag", []host.Game{&arena.Game{}}, []string{"--queue", "kafka"}, `--queue (SKIRMISH_QUEUE): "kafka" is not one of sqlite, sqs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			args := append([]string{"--data-dir", t.TempDir()}, tt.args...)
			err := host.Run(context.Background(), host.Options{Games: tt.games, Args: args, Name: "test", Stderr: &stderr})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run(%q) = %v, want an error containing %q", args, err, tt.want)
			}
		})
	}
}
