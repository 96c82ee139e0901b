package main

import (
	"context"
	"io"
	"os"
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

// TestLBBenchFlagErrors: bad lbbench settings are refused before a
// database is opened.
func TestLBBenchFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-entries", "0"},
		{"-concurrency", "0"},
		{"-concurrency", "257"},
		{"-duration", "0s"},
		{"-duration", "6m"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		err := run(context.Background(), append([]string{"lbbench", "-data-dir", dir}, args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "lbbench: want") {
			t.Errorf("lbbench %v = %v, want the settings error", args, err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("lbbench %v made its data directory before refusing", args)
		}
	}
}
