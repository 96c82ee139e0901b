package gameservercmd

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/serve"
)

// Command is one run of the gameserver command.
type Command struct {
	// Name is the command as the usage shows it ("skirmish gameserver").
	Name string
	// Args are the flags and their values, without the command name.
	Args []string
	// Stderr receives the usage and the logs.
	Stderr io.Writer
	// Getenv reads the environment for Agones mode (os.Getenv).
	Getenv func(string) string
	// Games are the games hosted, each with its own flags.
	Games []Game
	// Page is the browser client served at / (nil: none).
	Page http.Handler
}

// Run parses the flags and SKIRMISH_* environment variables, builds the
// gameserver and serves until ctx ends; then the rooms drain and the
// outcomes they leave are published. -h prints the usage and returns
// flag.ErrHelp; a bad setting returns an error naming it.
func Run(ctx context.Context, cmd Command) error {
	var c cli.Common
	var g Flags
	var q cli.Queue
	fs := cli.NewFlagSet(cmd.Name, cmd.Stderr)
	c.Register(fs)
	g.Register(fs, "", "127.0.0.1:7800", 30*time.Second)
	g.RegisterStandalone(fs)
	q.Register(fs)
	for _, gm := range cmd.Games {
		gm.Flags(fs)
	}
	var cl cli.Closer
	defer cl.Close()
	var modes []game.Mode
	checkGames := func() (err error) {
		modes, err = Modes(cmd.Games)
		return err
	}
	log, err := c.Start(ctx, fs, cmd.Args, cmd.Stderr, &cl, g.Validate, q.Validate, checkGames)
	if err != nil {
		return err
	}
	g.Web.DerivePageURLs(g.Matchmaker)
	drv, err := setupAgones(ctx, &g, cmd.Getenv, log)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the sidecar
		}
		return err
	}
	qu, err := q.Open(ctx, &c, &cl)
	if err != nil {
		return err
	}
	part, err := New(ctx, &c, &g, modes, cmd.Page, drv, qu, log, &cl)
	if err != nil {
		return err
	}
	ln, err := serve.Listen("addr", g.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	internal, err := serve.Listen("internal-addr", g.InternalAddr)
	if err != nil {
		return err
	}
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = m.Name
	}
	log.Info("gameserver ready", "addr", ln.Addr().String(), "internal", internal.Addr().String(), "queue", q.Backend, "modes", names)
	return part.Run(ctx, ln, internal)
}
