package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestLoadtestFlagErrors: bad loadtest settings are refused
// before anything runs.
func TestLoadtestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-role", "both"}, "role"},
		{[]string{"-steps", "1,2"}, "steps"},
		{[]string{"-steps", "5000"}, "steps"},
		{[]string{"-steps", "many"}, "steps"},
		{[]string{"-step", "1m"}, "step"},
		{[]string{"-step", "0s"}, "step"},
		{[]string{"-inputs-per-message", "0"}, "inputs-per-message"},
		{[]string{"-inputs-per-message", "33"}, "inputs-per-message"},
		{[]string{"-idle", "30000"}, "idle"},
		{[]string{"-client-nice", "20"}, "client-nice"},
		{[]string{"-client-nice", "-1"}, "client-nice"},
		{[]string{"-transport", "udp"}, "transport"},
		{[]string{"-transport", "webtransport", "-bare-single"}, "bare-single"},
	} {
		args := append([]string{"loadtest"}, tc.args...)
		err := run(context.Background(), args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadtest %v = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}
