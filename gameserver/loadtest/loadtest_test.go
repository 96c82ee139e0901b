package loadtest

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPerPlayerTick(t *testing.T) {
	tests := []struct {
		name            string
		r               StepResult
		server, clients float64 // µs per player-tick
		perDelivered    float64
	}{
		{"0.44 cores at 1,000 players", StepResult{Connections: 1000, CPU: 0.44, ClientCPU: 0.3, Elapsed: 10 * time.Second, Delivered: 300_000}, 14.667, 10, 14.667},
		{"half delivered costs twice per delivered", StepResult{Connections: 200, CPU: 0.12, ClientCPU: 0.18, Elapsed: 10 * time.Second, Delivered: 30_000}, 20, 30, 40},
		{"no connections", StepResult{CPU: 0.1, ClientCPU: 0.1}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				what      string
				got, want float64
			}{
				{"server µs/player-tick", tt.r.MicrosPerPlayerTick(), tt.server},
				{"clients µs/player-tick", tt.r.ClientMicrosPerPlayerTick(), tt.clients},
				{"server µs/delivered", tt.r.MicrosPerDelivered(), tt.perDelivered},
			} {
				if math.Abs(c.got-c.want) > 0.001 {
					t.Errorf("%s = %.3f, want %.3f", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestPrintCost(t *testing.T) {
	var b bytes.Buffer
	PrintCost(&b, "", []Step{{Players: 1000,
		Bare: StepResult{Connections: 1000, CPU: 0.5, ClientCPU: 0.39, Elapsed: time.Second, Delivered: 30_000},
		Real: StepResult{Connections: 1000, CPU: 0.33, ClientCPU: 0.48, Elapsed: time.Second, Delivered: 30_000},
	}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want a header, a rule and one row:\n%s", len(lines), b.String())
	}
	if h, row := strings.Count(lines[0], "|"), strings.Count(lines[2], "|"); h != row {
		t.Errorf("header has %d cells' bars, row %d:\n%s", h, row, b.String())
	}
	if want := "| 1000 | 16.7 | 16.7 | 11.0 | 11.0 | 0.66x | 0.50 / 0.33 | 13.0 / 16.0 | 0.0 / 0.0 |"; lines[2] != want {
		t.Errorf("row\n%s\nwant\n%s", lines[2], want)
	}
}
