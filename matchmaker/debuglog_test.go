package matchmaker

import (
	"log/slog"
	"os"
)

func testLog() *slog.Logger {
	if os.Getenv("MMDEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
