package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/gameservercmd"
	"github.com/skirmishgg/skirmish/internal/leaderboardcmd"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// devFlags are the settings of `skirmish dev`.
type devFlags struct {
	common     common
	gameserver gameservercmd.Flags
	games      []gameservercmd.Game // their flags are on the dev flag set
	matchmaker matchmakerFlags
	store      leaderboardcmd.StoreFlags
	queue      queueFlags
	stats      statsWorkerFlags
	lbAddr     string
	lbInternal string
	lb         leaderboardcmd.Flags
}

// newDevFlags registers the settings of `skirmish dev` on a new flag set.
func newDevFlags(stderr io.Writer) (*flag.FlagSet, *devFlags) {
	var d devFlags
	fs := newFlagSet("dev", stderr)
	d.common.register(fs)
	// A developer wants Ctrl-C to return promptly: a short drain.
	d.gameserver.Register(fs, "gameserver-", "127.0.0.1:7800", 5*time.Second)
	d.matchmaker.register(fs, "matchmaker-", "127.0.0.1:7810")
	fs.StringVar(&d.lbAddr, "leaderboard-addr", "127.0.0.1:7820", "leaderboard listen address")
	cli.RegisterInternalAddr(fs, &d.lbInternal, "leaderboard-", cli.LeaderboardInternalAddr, "")
	d.store.Register(fs)
	d.lb.Register(fs)
	d.queue.Register(fs)
	d.stats.register(fs)
	d.games = hosted(games())
	for _, g := range d.games {
		g.Flags(fs)
	}
	return fs, &d
}

// checkGames checks the games' settings.
func (d *devFlags) checkGames() error {
	_, err := gameservercmd.Modes(d.games)
	return err
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, d := newDevFlags(stderr)
	var admin closer
	defer admin.close()
	log, err := d.common.start(ctx, fs, args, stderr, &admin, d.gameserver.Validate, d.queue.Validate, d.checkGames)
	if err != nil {
		return err
	}
	sys, err := startDev(ctx, d, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Skirmish is running. Ctrl-C stops it.

  gameserver   ws://%[1]s/ws        health http://%[1]s/healthz   metrics http://%[7]s/metrics
  matchmaker   grpc %[2]s          health http://%[2]s/healthz   metrics http://%[8]s/metrics
  leaderboard  http://%[3]s/v1/leaderboards   API http://%[3]s/openapi.json   metrics http://%[9]s/metrics
  data         %[4]s (%[5]s, %[6]s queue)

Play in a browser:  http://%[1]s/
Play with bots:  go run ./cmd/skirmish-bench bot --players 4 --leaderboard http://%[3]s --matchmaker %[2]s

`, sys.gameserverAddr, sys.matchmakerAddr, sys.leaderboardAddr, d.common.DataDir, d.store.Name(), d.queue.Backend,
		sys.gameserverInternal, sys.matchmakerInternal, sys.leaderboardInternal)
	err = sys.wait()
	log.Info("skirmish stopped")
	return err
}

// devSystem is every part of Skirmish running in one process.
type devSystem struct {
	gameserverAddr, matchmakerAddr, leaderboardAddr             string
	gameserverInternal, matchmakerInternal, leaderboardInternal string // internal listeners
	done                                                        chan error
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
			cl.Add(func() error { ln.Close(); return nil })
		}
		return ln, err
	}
	gsLn, err := listen("gameserver-addr", d.gameserver.Addr)
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
	gsInt, err := listen("gameserver-internal-addr", d.gameserver.InternalAddr)
	if err != nil {
		return nil, err
	}
	mmInt, err := listen("matchmaker-internal-addr", d.matchmaker.internalAddr)
	if err != nil {
		return nil, err
	}
	lbInt, err := listen("leaderboard-internal-addr", d.lbInternal)
	if err != nil {
		return nil, err
	}
	d.gameserver.Matchmaker = mmInt.Addr().String()
	if d.gameserver.Web.MatchmakerURL == "" {
		d.gameserver.Web.MatchmakerURL = "http://" + mmLn.Addr().String()
	}
	if d.gameserver.Web.LeaderboardURL == "" {
		d.gameserver.Web.LeaderboardURL = "http://" + lbLn.Addr().String()
	}

	modes, err := gameservercmd.Modes(d.games)
	if err != nil {
		return nil, err
	}
	store, err := leaderboardcmd.OpenStore(ctx, &d.common.Common, &d.store, &cl.Closer)
	if err != nil {
		return nil, err
	}
	q, err := openQueue(ctx, &d.common, &d.queue, &cl)
	if err != nil {
		return nil, err
	}
	gs, err := gameservercmd.New(ctx, &d.common.Common, &d.gameserver, modes, page(), nil, q, log, &cl.Closer)
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
	lb, err := leaderboardcmd.New(store, &d.lb, &d.common.Common, lbReg, log)
	if err != nil {
		return nil, err
	}
	d.stats.visibility = d.queue.Visibility
	worker, err := newStatsWorker(&d.stats, q, lb.Index, lbReg, log)
	if err != nil {
		return nil, err
	}

	sys = &devSystem{
		gameserverAddr:  gsLn.Addr().String(),
		matchmakerAddr:  mmLn.Addr().String(),
		leaderboardAddr: lbLn.Addr().String(),

		gameserverInternal:  gsInt.Addr().String(),
		matchmakerInternal:  mmInt.Addr().String(),
		leaderboardInternal: lbInt.Addr().String(),
		done:                make(chan error, 1),
	}
	go func() {
		err := runInOrder(ctx, gs, gsLn, gsInt, mm, mmLn, mmInt, lb, lbLn, lbInt, worker)
		sys.done <- errors.Join(err, cl.close())
	}()
	return sys, nil
}

// devParts are what runInOrder runs; tests give stand-ins.
type (
	devGameserver interface {
		Run(ctx context.Context, ln, internal net.Listener) error
	}
	devPart interface {
		Run(ctx context.Context, ln, internal net.Listener) error
	}
	devWorker interface {
		Run(ctx context.Context) error
	}
)

// runInOrder runs every part until ctx ends or one fails, then stops them
// in the order that loses nothing: the gameserver first (its rooms drain,
// their outcomes are published, and every room report and its
// deregistration reach the matchmaker); then the matchmaker and the stats
// worker (which applies the outcomes the drain published); then the
// leaderboard. It returns once every part has stopped.
func runInOrder(ctx context.Context,
	gs devGameserver, gsLn, gsInt net.Listener,
	mm devPart, mmLn, mmInt net.Listener,
	lb devPart, lbLn, lbInt net.Listener,
	worker devWorker) error {
	keep := context.WithoutCancel(ctx)
	mmCtx, stopMM := context.WithCancel(keep)
	defer stopMM()
	workerCtx, stopWorker := context.WithCancel(keep)
	defer stopWorker()
	lbCtx, stopLB := context.WithCancel(keep)
	defer stopLB()
	var workerDone, mmDone sync.WaitGroup
	workerDone.Add(1)
	mmDone.Add(1)
	return runAll(ctx,
		func(ctx context.Context) error {
			// ctx ends at shutdown, or when another part failed.
			defer stopWorker()
			defer stopMM()
			return gs.Run(ctx, gsLn, gsInt)
		},
		func(gctx context.Context) error {
			defer mmDone.Done()
			return mm.Run(untilEither(mmCtx, gctx, ctx), mmLn, mmInt)
		},
		func(gctx context.Context) error {
			defer workerDone.Done()
			return worker.Run(untilEither(workerCtx, gctx, ctx))
		},
		func(gctx context.Context) error {
			go func() {
				workerDone.Wait()
				mmDone.Wait()
				stopLB()
			}()
			return lb.Run(untilEither(lbCtx, gctx, ctx), lbLn, lbInt)
		},
	)
}

// untilEither returns a context that ends with own, or with group once
// group ended for a reason other than parent ending (a part failed:
// everything stops at once).
func untilEither(own, group, parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(own)
	stop := context.AfterFunc(group, func() {
		if parent.Err() == nil {
			cancel()
		}
	})
	context.AfterFunc(ctx, func() { stop() })
	return ctx
}
