package gameservercmd

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/gameserver/agones"
	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/outbox"
	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/queue"
)

// Game is one game a gameserver hosts: its own settings and its modes.
// gameserver/host documents it for game developers.
type Game interface {
	// Flags registers the game's settings on fs, before parsing.
	Flags(fs *flag.FlagSet)
	// Modes returns the game's modes, after parsing; an error names the
	// setting that is wrong.
	Modes() ([]game.Mode, error)
}

// Modes returns the modes of every game, in order.
func Modes(games []Game) ([]game.Mode, error) {
	if len(games) == 0 {
		return nil, errors.New("no game to host: give at least one")
	}
	var modes []game.Mode
	for _, g := range games {
		m, err := g.Modes()
		if err != nil {
			return nil, err
		}
		modes = append(modes, m...)
	}
	return modes, nil
}

// Part is a gameserver with its outbox and outcome publisher, and its
// Agones driver in Agones mode.
type Part struct {
	Server    *gameserver.Server
	outbox    *outbox.Outbox
	publisher *outbox.Publisher
	agones    *agones.Driver
}

// New builds a gameserver for modes from its settings: it opens the
// outbox (closed by cl) and builds the publisher that moves outcomes
// from it to q, and the server with its transports and metrics. page is
// the browser client served at / (nil: none); drv is the Agones driver
// (nil: Agones mode off). It starts nothing.
func New(ctx context.Context, c *cli.Common, g *Flags, modes []game.Mode, page http.Handler, drv *agones.Driver, q queue.Queue, log *slog.Logger, cl *cli.Closer) (*Part, error) {
	if len(modes) == 0 {
		return nil, errors.New("gameserver: no modes to host")
	}
	keys, err := c.Keys("gameserver", gameserver.KeyNeeds(), log)
	if err != nil {
		return nil, err
	}
	path := g.OutboxPath
	if path == "" {
		path = c.Path("outbox.db")
	}
	ob, err := outbox.Open(ctx, path)
	if err != nil {
		return nil, cli.SettingError("outbox-path", "%v", err)
	}
	cl.Add(ob.Close)
	reg := metrics.NewRegistry()
	if drv != nil {
		if err := drv.Register(reg); err != nil {
			return nil, err
		}
	}
	pub, err := outbox.NewPublisher(outbox.PublisherConfig{}, ob, q, reg, log.With("part", "publisher"))
	if err != nil {
		return nil, err
	}
	cfg := g.config()
	cfg.Modes = modes
	if err := g.Web.apply(g.prefix, page, &cfg); err != nil {
		return nil, err
	}
	if cfg.Edge.Proxies, err = c.Proxies(); err != nil {
		return nil, err
	}
	srv, err := gameserver.New(cfg, keys, ob, reg, log.With("part", "gameserver"))
	if err != nil {
		return nil, err
	}
	return &Part{Server: srv, outbox: ob, publisher: pub, agones: drv}, nil
}

// Run serves until ctx ends, then drains the rooms and only after that
// stops the publisher, so outcomes of matches ended by the drain are
// published too (or stay in the outbox for the next start). In Agones
// mode the driver runs the server, and returns only once the outbox is
// empty and Shutdown is sent (the pod's disk goes with the pod).
func (p *Part) Run(ctx context.Context, ln, internal net.Listener) error {
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	pubDone := make(chan error, 1)
	go func() { pubDone <- p.publisher.Run(pubCtx) }()
	serve := func(ctx context.Context) error { return p.Server.Run(ctx, ln, internal) }
	var err error
	if p.agones != nil {
		err = p.agones.Run(ctx, p.Server.Rooms(), p.outbox, serve)
	} else {
		err = serve(ctx)
	}
	stopPub()
	return errors.Join(err, <-pubDone)
}
