package loadtest

import (
	"strings"
	"testing"
)

// TestRunClientsBadJobs: the client process refuses jobs it cannot run.
func TestRunClientsBadJobs(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"not json", "hello\n"},
		{"unknown mode", `{"mode":"dance"}` + "\n"},
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
