// Package host runs a complete gameserver process for your games: it is
// the composition root a game's main.go calls, so that a game is a Go
// package plus a few lines of main:
//
//	func main() { host.Main(mygame.Game{}) }
//
// The process is the one `skirmish gameserver` runs, with the same flags
// and SKIRMISH_* environment variables (-h lists them): players over
// WebSocket and WebTransport, the RoomService the matchmaker allocates
// rooms through, registration and room reports to the matchmaker, match
// outcomes written to a durable outbox and published from it to the
// match-outcome queue (SQLite or SQS), Prometheus metrics and pprof on the
// internal listener, and Agones mode. A game adds its own flags.
//
// The skirmish binary is one user of this package: its gameserver command
// is Run with Arena (gameserver/arena) and Arena's browser client.
package host

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/gameservercmd"
)

// Game is one game a gameserver hosts.
type Game interface {
	// Flags registers the game's own settings on fs before the flags are
	// parsed, e.g. fs.DurationVar(&g.RoundTime, "round-time", ...). Each
	// is also set by its SKIRMISH_* environment variable (--round-time by
	// SKIRMISH_ROUND_TIME) and listed by -h. A game without settings
	// registers nothing. Names must not clash with the gameserver's own
	// flags or another game's: flag panics on a name registered twice.
	Flags(fs *flag.FlagSet)
	// Modes returns the game's modes, built from its settings once they
	// are parsed. An error for a bad setting names it ("--round-time: must
	// be at least 10s, got 2s"); the process then stops before listening.
	// Mode names must be unique across the games of one gameserver.
	Modes() ([]game.Mode, error)
}

// Options configure Run.
type Options struct {
	// Games are the games hosted; their modes are what the matchmaker
	// can allocate rooms for. At least one.
	Games []Game
	// Args are the flags and their values, without the program name
	// (default os.Args[1:]).
	Args []string
	// Name is the program as -h shows it (default the base name of
	// os.Args[0]).
	Name string
	// Stderr receives the usage and the logs (default os.Stderr).
	Stderr io.Writer
	// Page, when set, is the browser client served at / (unless
	// --no-web); /config.json beside it tells the page where the
	// matchmaker, the leaderboard and this gameserver's transports are.
	Page http.Handler
}

// Run runs a gameserver hosting opts.Games until ctx ends, then drains
// its rooms (--drain-timeout) and publishes the outcomes they leave
// before returning. It returns flag.ErrHelp after printing the usage for
// -h, an error naming the setting for a bad flag or environment
// variable, or the first error of a part that failed.
func Run(ctx context.Context, opts Options) error {
	if opts.Args == nil {
		opts.Args = os.Args[1:]
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(os.Args[0])
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	games := make([]gameservercmd.Game, len(opts.Games))
	for i, g := range opts.Games {
		games[i] = g
	}
	return gameservercmd.Run(ctx, gameservercmd.Command{
		Name:   opts.Name,
		Args:   opts.Args,
		Stderr: opts.Stderr,
		Getenv: os.Getenv,
		Games:  games,
		Page:   opts.Page,
	})
}

// Main is the whole main function of a gameserver binary: it runs Run
// with the program's arguments until SIGINT or SIGTERM, and exits with
// status 2 after printing the error if Run failed (0 for -h).
func Main(games ...Game) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, Options{Games: games})
	stop()
	if code := cli.ExitCode(filepath.Base(os.Args[0]), err, os.Stderr); code != 0 {
		os.Exit(code)
	}
}
