package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestBotFlagErrors: bad bot settings are refused before anything runs.
func TestBotFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-inputs-per-message", "0"}, "inputs-per-message"},
		{[]string{"-players", "0"}, "players"},
	} {
		err := run(context.Background(), append([]string{"bot"}, tc.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bot %v = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}
