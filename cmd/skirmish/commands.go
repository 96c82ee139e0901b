package main

import (
	"context"
	"io"

	"github.com/skirmishgg/skirmish/gameserver/host"
	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/leaderboardcmd"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// runGameserver is `skirmish gameserver`: the composition root of
// gameserver/host with the games of this binary and Arena's browser client.
func runGameserver(ctx context.Context, args []string, _, stderr io.Writer) error {
	return host.Run(ctx, host.Options{Games: games(), Args: args, Name: "skirmish gameserver", Stderr: stderr, Page: page()})
}

func runMatchmaker(ctx context.Context, args []string, _, stderr io.Writer) error {
	var c common
	var m matchmakerFlags
	var s leaderboardcmd.StoreFlags
	var q queueFlags
	fs := newFlagSet("matchmaker", stderr)
	c.register(fs)
	m.register(fs, "", "127.0.0.1:7810")
	fs.StringVar(&s.Database, "database", "", "leaderboard database to read ratings from (postgres:// URL or SQLite file); empty rates everyone 1500")
	q.Register(fs) // the gameservers' outcome queue: matches lost with their gameserver are recorded there
	var cl closer
	defer cl.close()
	log, err := c.start(ctx, fs, args, stderr, &cl, q.Validate)
	if err != nil {
		return err
	}
	qu, err := openQueue(ctx, &c, &q, &cl)
	if err != nil {
		return err
	}
	var ratings matchmaker.RatingSource
	if s.Database != "" {
		store, err := leaderboardcmd.OpenStore(ctx, &c.Common, &s, &cl.Closer)
		if err != nil {
			return err
		}
		ratings = store
	}
	svc, err := newMatchmaker(&m, &c, ratings, log, &cl, matchmaker.WithOutcomeQueue(qu))
	if err != nil {
		return err
	}
	ln, err := serve.Listen("addr", m.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	internal, err := serve.Listen("internal-addr", m.internalAddr)
	if err != nil {
		return err
	}
	return svc.Run(ctx, ln, internal)
}

func runLeaderboard(ctx context.Context, args []string, _, stderr io.Writer) error {
	var c common
	var s leaderboardcmd.StoreFlags
	var lf leaderboardcmd.Flags
	var addr, internalAddr string
	fs := newFlagSet("leaderboard", stderr)
	c.register(fs)
	s.Register(fs)
	lf.Register(fs)
	fs.StringVar(&addr, "addr", "127.0.0.1:7820", "leaderboard listen address (REST, health)")
	cli.RegisterInternalAddr(fs, &internalAddr, "", cli.LeaderboardInternalAddr, "")
	var cl closer
	defer cl.close()
	log, err := c.start(ctx, fs, args, stderr, &cl)
	if err != nil {
		return err
	}
	store, err := leaderboardcmd.OpenStore(ctx, &c.Common, &s, &cl.Closer)
	if err != nil {
		return err
	}
	srv, err := leaderboardcmd.New(store, &lf, &c.Common, metrics.NewRegistry(), log)
	if err != nil {
		return err
	}
	ln, err := serve.Listen("addr", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	internal, err := serve.Listen("internal-addr", internalAddr)
	if err != nil {
		return err
	}
	return srv.Run(ctx, ln, internal)
}

func runStatsWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	var c common
	var s leaderboardcmd.StoreFlags
	var q queueFlags
	var w statsWorkerFlags
	var ix statsIndexFlags
	var addr string
	fs := newFlagSet("stats-worker", stderr)
	c.register(fs)
	s.Register(fs)
	q.Register(fs)
	w.register(fs)
	ix.register(fs)
	fs.StringVar(&addr, "addr", "127.0.0.1:7830", "internal listen address for /healthz, /readyz, /metrics and /debug/pprof/")
	var cl closer
	defer cl.close()
	log, err := c.start(ctx, fs, args, stderr, &cl, q.Validate)
	if err != nil {
		return err
	}
	store, err := leaderboardcmd.OpenStore(ctx, &c.Common, &s, &cl.Closer)
	if err != nil {
		return err
	}
	qu, err := openQueue(ctx, &c, &q, &cl)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	w.visibility = q.Visibility
	if store, err = ix.wrap(store, &cl, reg, log); err != nil {
		return err
	}
	worker, err := newStatsWorker(&w, qu, store, reg, log)
	if err != nil {
		return err
	}
	ln, err := serve.Listen("addr", addr)
	if err != nil {
		return err
	}
	return runAll(ctx,
		worker.Run,
		func(ctx context.Context) error { return serveAdmin(ctx, ln, reg, worker.Ready, log) },
	)
}
