package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// devFlags are the settings of `skirmish dev`.
type devFlags struct {
	common     common
	gameserver gameserverFlags
	matchmaker matchmakerFlags
	store      storeFlags
	queue      queueFlags
	stats      statsWorkerFlags
	lbAddr     string
	lb         leaderboardFlags
}

// newDevFlags registers the settings of `skirmish dev` on a new flag set.
func newDevFlags(stderr io.Writer) (*flag.FlagSet, *devFlags) {
	var d devFlags
	fs := newFlagSet("dev", stderr)
	d.common.register(fs)
	// A developer wants Ctrl-C to return promptly: a short drain.
	d.gameserver.register(fs, "gameserver-", "127.0.0.1:7800", 5*time.Second)
	d.matchmaker.register(fs, "matchmaker-", "127.0.0.1:7810")
	fs.StringVar(&d.lbAddr, "leaderboard-addr", "127.0.0.1:7820", "leaderboard listen address")
	d.store.register(fs)
	d.lb.register(fs)
	d.queue.register(fs)
	d.stats.register(fs)
	return fs, &d
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, d := newDevFlags(stderr)
	var admin closer
	defer admin.close()
	log, err := d.common.start(ctx, fs, args, stderr, &admin, d.gameserver.validate, d.queue.validate)
	if err != nil {
		return err
	}
	sys, err := startDev(ctx, d, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Skirmish is running. Ctrl-C stops it.

  gameserver   ws://%[1]s/ws        health http://%[1]s/healthz   metrics http://%[1]s/metrics
  matchmaker   grpc %[2]s          health http://%[2]s/healthz   metrics http://%[2]s/metrics
  leaderboard  http://%[3]s/v1/leaderboards   API http://%[3]s/openapi.json   metrics http://%[3]s/metrics
  data         %[4]s (%[5]s, %[6]s queue)

Play in a browser:  http://%[1]s/
Play with bots:  go run ./cmd/skirmish bot --players 4 --leaderboard http://%[3]s --matchmaker %[2]s

`, sys.gameserverAddr, sys.matchmakerAddr, sys.leaderboardAddr, d.common.dataDir, storeName(&d.store), d.queue.backend)
	err = sys.wait()
	log.Info("skirmish stopped")
	return err
}

func storeName(s *storeFlags) string {
	if s.isPostgres() {
		return "PostgreSQL"
	}
	return "SQLite"
}

// devSystem is every part of Skirmish running in one process.
type devSystem struct {
	gameserverAddr, matchmakerAddr, leaderboardAddr string
	done                                            chan error
}

func (s *devSystem) wait() error { return <-s.done }

// startDev opens every listener and backend, then runs all parts until ctx
// ends. It returns once everything is listening; wait reports how the run
// ended after every part stopped and every file was closed.
func startDev(ctx context.Context, d *devFlags, log *slog.Logger) (sys *devSystem, err error) {
	var cl closer
	defer func() {
		if err != nil {
			cl.close()
		}
	}()
	listen := func(setting, addr string) (net.Listener, error) {
		ln, err := serve.Listen(setting, addr)
		if err == nil {
			cl.add(func() error { ln.Close(); return nil })
		}
		return ln, err
	}
	gsLn, err := listen("gameserver-addr", d.gameserver.addr)
	if err != nil {
		return nil, err
	}
	mmLn, err := listen("matchmaker-addr", d.matchmaker.addr)
	if err != nil {
		return nil, err
	}
	lbLn, err := listen("leaderboard-addr", d.lbAddr)
	if err != nil {
		return nil, err
	}
	d.gameserver.matchmaker = mmLn.Addr().String()
	if d.gameserver.web.matchmakerURL == "" {
		d.gameserver.web.matchmakerURL = "http://" + mmLn.Addr().String()
	}
	if d.gameserver.web.leaderboardURL == "" {
		d.gameserver.web.leaderboardURL = "http://" + lbLn.Addr().String()
	}

	store, err := openStore(ctx, &d.common, &d.store, &cl)
	if err != nil {
		return nil, err
	}
	q, err := openQueue(ctx, &d.common, &d.queue, &cl)
	if err != nil {
		return nil, err
	}
	gs, err := newGameserverPart(ctx, &d.common, &d.gameserver, q, log, &cl)
	if err != nil {
		return nil, err
	}
	mm, err := newMatchmaker(&d.matchmaker, &d.common, store, log, &cl, matchmaker.WithOutcomeQueue(q))
	if err != nil {
		return nil, err
	}
	// The leaderboard and the stats worker share one registry: in dev they
	// are one part, and their metric names do not overlap.
	lbReg := metrics.NewRegistry()
	lb, err := newLeaderboardServer(store, &d.lb, &d.common, lbReg, log)
	if err != nil {
		return nil, err
	}
	d.stats.visibility = d.queue.visibility
	worker, err := newStatsWorker(&d.stats, q, lb.index, lbReg, log)
	if err != nil {
		return nil, err
	}

	sys = &devSystem{
		gameserverAddr:  gsLn.Addr().String(),
		matchmakerAddr:  mmLn.Addr().String(),
		leaderboardAddr: lbLn.Addr().String(),
		done:            make(chan error, 1),
	}
	// The stats worker stops only after the gameserver has drained and
	// published, so the outcomes of matches ended by the shutdown are
	// applied before the process exits.
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer stopWorker()
		err := runAll(ctx,
			func(ctx context.Context) error {
				defer stopWorker()
				return gs.run(ctx, gsLn)
			},
			func(ctx context.Context) error { return mm.Run(ctx, mmLn) },
			func(ctx context.Context) error { return lb.Run(ctx, lbLn) },
			func(context.Context) error { return worker.Run(workerCtx) },
		)
		sys.done <- errors.Join(err, cl.close())
	}()
	return sys, nil
}
