package loadtest

import (
	"strings"
	"testing"
	"time"
)

// TestRunClientsBadJobs: the client process refuses jobs it cannot run.
func TestRunClientsBadJobs(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"not json", "hello\n"},
		{"unknown mode", `{"mode":"dance"}` + "\n"},
		{"negative procs", `{"mode":"bare","procs":-1}` + "\n"},
		{"no go", `{"mode":"bare","url":"ws://127.0.0.1:1/","n":0}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if err := RunClients(t.Context(), strings.NewReader(tt.in), &out); err == nil {
				t.Errorf("RunClients(%q) = nil, want an error (output %q)", tt.in, out.String())
			}
		})
	}
}

func TestHolds(t *testing.T) {
	ok := StepResult{DeliveredRatio: 0.99, TickP99: 20 * time.Millisecond}
	tests := []struct {
		name string
		r    StepResult
		want bool
	}{
		{"kept up", ok, true},
		{"lost messages", StepResult{DeliveredRatio: 0.97, TickP99: ok.TickP99}, false},
		{"skipped a tick", StepResult{DeliveredRatio: ok.DeliveredRatio, TickP99: ok.TickP99, Skipped: 1}, false},
		{"p99 tick over the period", StepResult{DeliveredRatio: ok.DeliveredRatio, TickP99: 41 * time.Millisecond}, false},
		{"few snapshots superseded", StepResult{DeliveredRatio: ok.DeliveredRatio, TickP99: ok.TickP99, SupersededRatio: 0.005}, true},
		{"snapshots superseded", StepResult{DeliveredRatio: ok.DeliveredRatio, TickP99: ok.TickP99, SupersededRatio: 0.02}, false},
	}
	for _, tt := range tests {
		if got := tt.r.Holds(); got != tt.want {
			t.Errorf("%s: Holds() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
