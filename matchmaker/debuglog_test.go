package matchmaker

import (
	"log/slog"
	"os"
)

// testLog is the matchmakers' logger in tests: nil (discard), or with
// SKIRMISH_TEST_LOG set, debug logs on stderr, for following a failing
// test or benchmark.
func testLog() *slog.Logger {
	if os.Getenv("SKIRMISH_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
