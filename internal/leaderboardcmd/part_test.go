package leaderboardcmd

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/metrics"
)

// TestNewSettingErrors: New refuses settings that cannot work with an
// error naming the setting, before it starts anything.
func TestNewSettingErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("boards:\n  - {id: x, operator: most, metric: wins}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cli.Common{DataDir: dir}
	var cl cli.Closer
	defer cl.Close()
	store, err := OpenStore(context.Background(), c, &StoreFlags{}, &cl)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-rank-index", "disk"}, "rank-index"},
		{[]string{"-rate-burst", "-1"}, "rate-burst"},
		{[]string{"-boards-file", filepath.Join(dir, "nope.yaml")}, "boards-file"},
		{[]string{"-boards-file", bad}, "boards-file"},
	} {
		var lf Flags
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		lf.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := New(store, &lf, c, metrics.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New with %v = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// TestStoreFlags: --database names PostgreSQL by its URL scheme, else an
// SQLite file, which OpenStore makes in the data directory by default.
func TestStoreFlags(t *testing.T) {
	for db, want := range map[string]string{
		"":                               "SQLite",
		"/tmp/lb.db":                     "SQLite",
		"postgres://u@h/db":              "PostgreSQL",
		"postgresql://u@h/db":            "PostgreSQL",
		"file:postgres://not-a-database": "SQLite",
	} {
		s := StoreFlags{Database: db}
		if got := s.Name(); got != want {
			t.Errorf("StoreFlags{%q}.Name() = %s, want %s", db, got, want)
		}
	}
	dir := t.TempDir()
	var cl cli.Closer
	if _, err := OpenStore(context.Background(), &cli.Common{DataDir: dir}, &StoreFlags{}, &cl); err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "leaderboard.db")); err != nil {
		t.Errorf("default SQLite file: %v", err)
	}
}
