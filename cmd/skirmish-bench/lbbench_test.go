package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestLBBench: the load tool bulk-loads a board and measures every
// endpoint, on SQLite and on PostgreSQL, with a tiny board and a short
// run (the recorded runs use 1M and 10M entries; docs/benchmarks.md).
func TestLBBench(t *testing.T) {
	for _, tc := range []struct {
		name     string
		database func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "lb.db") }},
		{"postgres", func(t *testing.T) string { return testenv.Postgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out strings.Builder
			err := run(ctx, []string{"lbbench", "--data-dir", t.TempDir(), "--database", tc.database(t), "--log-level", "warn",
				"--entries", "300", "--load", "--duration", "100ms", "--concurrency", "2", "--updates", "5"}, &out, io.Discard)
			if err != nil {
				t.Fatalf("lbbench: %v\n%s", err, out.String())
			}
			for _, w := range []string{"loaded 300 entries", "top-10", "around-me", "player rank", "score updates"} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("lbbench output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), " 0 requests") {
				t.Errorf("an endpoint answered nothing:\n%s", out.String())
			}
		})
	}
}
