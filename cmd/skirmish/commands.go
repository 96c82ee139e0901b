package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
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
		func(ctx context.Context) error { return serveAdmin(ctx, ln, reg, log) },
	)
}

func runBot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg bot.Config
	var quiet bool
	fs := newFlagSet("bot", stderr)
	fs.StringVar(&cfg.LeaderboardURL, "leaderboard", "http://127.0.0.1:7820", "leaderboard base URL (guest sign-in)")
	fs.StringVar(&cfg.MatchmakerAddr, "matchmaker", "127.0.0.1:7810", "matchmaker gRPC address")
	fs.StringVar(&cfg.Mode, "mode", "duel", "mode to queue for: duel, ffa, team or team4")
	fs.IntVar(&cfg.Players, "players", 2, "number of bot players")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long the swarm plays")
	fs.IntVar(&cfg.Matches, "matches", 0, "stop each bot after this many matches (0: play until --duration)")
	fs.IntVar(&cfg.InputsPerMessage, "inputs-per-message", 1, "send inputs this many to a message (fewer messages, one more tick of latency per extra input)")
	fs.BoolVar(&quiet, "quiet", false, "no status lines on stderr while playing")
	fs.Func("transport", "how bots reach the gameserver: websocket or webtransport", func(v string) (err error) {
		cfg.Transport, err = skirmish.ParseTransport(v)
		return err
	})
	fs.Func("webtransport-cert-hash", "hex SHA-256 of a self-signed gameserver certificate to accept (repeatable; the gameserver's /config.json lists it)", func(v string) error {
		h, err := hex.DecodeString(v)
		if err != nil || len(h) != 32 {
			return fmt.Errorf("want 64 hex digits, got %q", v)
		}
		cfg.WebTransport.CertHashes = append(cfg.WebTransport.CertHashes, h)
		return nil
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Players <= 0 || cfg.Players > 10000 {
		return settingError("players", "must be between 1 and 10000, got %d", cfg.Players)
	}
	if cfg.Duration <= 0 || cfg.Duration > time.Hour {
		return settingError("duration", "must be above 0 and at most 1h, got %s", cfg.Duration)
	}
	if cfg.InputsPerMessage < 1 || cfg.InputsPerMessage > 32 {
		return settingError("inputs-per-message", "must be from 1 to 32, got %d", cfg.InputsPerMessage)
	}
	if !quiet {
		cfg.Progress = stderr
	}
	fmt.Fprintf(stdout, "%d bots playing %s for up to %s against %s\n", cfg.Players, cfg.Mode, cfg.Duration, cfg.MatchmakerAddr)
	sum, err := bot.Run(ctx, cfg, nil)
	if err != nil {
		return err
	}
	sum.Print(stdout)
	return nil
}
