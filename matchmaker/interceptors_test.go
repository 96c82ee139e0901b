package matchmaker

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestLogCall: a successful call is logged only at debug level; failures
// at their code's level, with the method, code and message.
func TestLogCall(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		err   error
		want  []string // "" means nothing logged
	}{
		{"ok at info", slog.LevelInfo, nil, nil},
		{"ok at debug", slog.LevelDebug, nil, []string{"level=DEBUG", "grpc.service=skirmish.v1.MatchmakerService", "grpc.method=GetTicket", "grpc.code=OK"}},
		{"not found", slog.LevelInfo, status.Error(codes.NotFound, "ticket not found"), []string{"level=INFO", "grpc.code=NotFound", `grpc.error="ticket not found"`}},
		{"internal", slog.LevelWarn, status.Error(codes.Internal, "boom"), []string{"level=ERROR", "grpc.code=Internal"}},
		{"unauthenticated at error", slog.LevelError, status.Error(codes.Unauthenticated, "no"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			logCall(context.Background(), log, "/skirmish.v1.MatchmakerService/GetTicket", time.Now(), tt.err)
			out := buf.String()
			if tt.want == nil {
				if out != "" {
					t.Fatalf("logged %q, want nothing", out)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("logged %q, want it to contain %q", out, w)
				}
			}
		})
	}
}

// BenchmarkTicketStateMetric compares a label lookup per ticket with the
// cached series the pool uses.
func BenchmarkTicketStateMetric(b *testing.B) {
	p := newTestPool(b)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			p.modeMetrics("duel").ticketState(1)
		}
	})
	b.Run("lookup", func(b *testing.B) {
		for b.Loop() {
			p.met.tickets.WithLabelValues("duel", stateLabel(1)).Inc()
		}
	})
}
