package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/gameserver/agones"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/liarsdice"
	"github.com/skirmishgg/skirmish/gameserver/outbox"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// closer collects what a command opened, to close in reverse order.
type closer []func() error

func (c *closer) add(f func() error) { *c = append(*c, f) }

func (c closer) close() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}

// openStore opens the leaderboard database the flags name.
func openStore(ctx context.Context, c *common, s *storeFlags, cl *closer) (leaderboard.Store, error) {
	if s.isPostgres() {
		st, err := postgres.Open(ctx, s.database)
		if err != nil {
			return nil, settingError("database", "%v%s", err, missingDatabaseHint(s.database, err))
		}
		cl.add(st.Close)
		return st, nil
	}
	path := s.database
	if path == "" {
		path = c.path("leaderboard.db")
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, settingError("database", "%v", err)
	}
	cl.add(st.Close)
	return st, nil
}

// openQueue opens the match-outcome queue the flags name.
func openQueue(ctx context.Context, c *common, q *queueFlags, cl *closer) (queue.Queue, error) {
	switch q.backend {
	case "sqs":
		sq, err := sqsqueue.New(ctx, sqsqueue.Config{
			QueueName: q.sqsQueue,
			Endpoint:  q.sqsEndpoint,
			Region:    q.sqsRegion,
			Create:    q.sqsCreate,

			VisibilityTimeout: q.visibility,
			MaxReceives:       q.maxReceives,
		})
		if err != nil {
			return nil, settingError("sqs-endpoint", "%v", err)
		}
		return sq, nil
	default:
		path := q.path
		if path == "" {
			path = c.path("queue.db")
		}
		lq, err := litequeue.Open(ctx, path, litequeue.Config{
			Name: queue.MatchOutcomes, VisibilityTimeout: q.visibility, MaxReceives: q.maxReceives,
		})
		if err != nil {
			return nil, settingError("queue-path", "%v", err)
		}
		cl.add(lq.Close)
		return lq, nil
	}
}

// gameserverFlags are the settings of a gameserver.
type gameserverFlags struct {
	addr           string
	internalAddr   string
	publicURL      string
	controlAddress string
	matchmaker     string
	id             string
	region         string
	capacity       int
	matchDuration  time.Duration
	drainTimeout   time.Duration
	outboxPath     string
	web            webFlags // WebTransport and the browser game (webflags.go)
	prefix         string
	agones         *agones.Driver // Agones mode (agones.go); nil: off
}

func (g *gameserverFlags) register(fs *flag.FlagSet, prefix, addr string, drain time.Duration) {
	fs.StringVar(&g.addr, prefix+"addr", addr, "gameserver listen address for players (WebSocket, the browser game, health)")
	registerInternalAddr(fs, &g.internalAddr, prefix, gameserverInternalAddr, "RoomService gRPC for the matchmaker, ")
	fs.StringVar(&g.publicURL, prefix+"public-url", "", "WebSocket URL players are sent to (default ws://<addr>/ws)")
	fs.StringVar(&g.controlAddress, prefix+"control-address", "", "host:port the matchmaker dials for RoomService (default <internal-addr>)")
	fs.StringVar(&g.id, prefix+"id", "", "gameserver id (default the host name)")
	fs.StringVar(&g.region, prefix+"region", "local", "region reported to the matchmaker")
	fs.IntVar(&g.capacity, prefix+"capacity", 1000, "most players hosted at once")
	fs.DurationVar(&g.matchDuration, "match-duration", 3*time.Minute, "Arena match time limit")
	fs.DurationVar(&g.drainTimeout, "drain-timeout", drain, "on shutdown, how long running matches may go on")
	fs.StringVar(&g.outboxPath, "outbox-path", "", "match outcome outbox file (default <data-dir>/outbox.db)")
	g.prefix = prefix
	g.web.register(fs, prefix, addr)
}

func (g *gameserverFlags) validate() error {
	if g.capacity <= 0 {
		return settingError("capacity", "must be above 0, got %d", g.capacity)
	}
	if g.matchDuration < time.Second {
		return settingError("match-duration", "must be at least 1s, got %s", g.matchDuration)
	}
	if g.drainTimeout < 0 {
		return settingError("drain-timeout", "must not be negative, got %s", g.drainTimeout)
	}
	return nil
}

func (g *gameserverFlags) config() gameserver.Config {
	cfg := gameserver.Config{
		ID:             g.id,
		Region:         g.region,
		WebSocketURL:   g.publicURL,
		ControlAddress: g.controlAddress,
		MatchmakerAddr: g.matchmaker,
		Capacity:       g.capacity,
		Modes:          append(arena.Modes(arena.Config{MatchDuration: g.matchDuration}), liarsdice.Modes(liarsdice.Config{})...),
	}
	cfg.Rooms.DrainTimeout = g.drainTimeout
	return cfg
}

// gameserverPart is a gameserver with its outbox and outcome publisher,
// and its Agones driver in Agones mode.
type gameserverPart struct {
	server    *gameserver.Server
	outbox    *outbox.Outbox
	publisher *outbox.Publisher
	agones    *agones.Driver
}

func newGameserverPart(ctx context.Context, c *common, g *gameserverFlags, q queue.Queue, log *slog.Logger, cl *closer) (*gameserverPart, error) {
	keys, err := c.keys()
	if err != nil {
		return nil, err
	}
	path := g.outboxPath
	if path == "" {
		path = c.path("outbox.db")
	}
	ob, err := outbox.Open(ctx, path)
	if err != nil {
		return nil, settingError("outbox-path", "%v", err)
	}
	cl.add(ob.Close)
	reg := metrics.NewRegistry()
	if g.agones != nil {
		if err := g.agones.Register(reg); err != nil {
			return nil, err
		}
	}
	pub, err := outbox.NewPublisher(outbox.PublisherConfig{}, ob, q, reg, log.With("part", "publisher"))
	if err != nil {
		return nil, err
	}
	cfg := g.config()
	if err := g.web.apply(g.prefix, &cfg); err != nil {
		return nil, err
	}
	if cfg.Edge.Proxies, err = c.proxies(); err != nil {
		return nil, err
	}
	srv, err := gameserver.New(cfg, keys, ob, reg, log.With("part", "gameserver"))
	if err != nil {
		return nil, err
	}
	return &gameserverPart{server: srv, outbox: ob, publisher: pub, agones: g.agones}, nil
}

// run serves until ctx ends, then drains the rooms and only after that
// stops the publisher, so outcomes of matches ended by the drain are
// published too (or stay in the outbox for the next start). In Agones
// mode the driver runs the server, and returns only once the outbox is
// empty and Shutdown is sent (the pod's disk goes with the pod).
func (p *gameserverPart) run(ctx context.Context, ln, internal net.Listener) error {
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	pubDone := make(chan error, 1)
	go func() { pubDone <- p.publisher.Run(pubCtx) }()
	serve := func(ctx context.Context) error { return p.server.Run(ctx, ln, internal) }
	var err error
	if p.agones != nil {
		err = p.agones.Run(ctx, p.server.Rooms(), p.outbox, serve)
	} else {
		err = serve(ctx)
	}
	stopPub()
	return errors.Join(err, <-pubDone)
}

// statsWorkerFlags are the settings of a stats worker.
type statsWorkerFlags struct {
	pollers  int
	appliers int // 0: 4 on PostgreSQL, 1 on SQLite
	// visibility is the queue's visibility timeout (queueFlags), which the
	// worker's heartbeat extends by.
	visibility time.Duration
}

func (s *statsWorkerFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&s.pollers, "pollers", 4, "concurrent queue pollers")
	fs.IntVar(&s.appliers, "appliers", 0, "outcomes of a batch applied at once (default 4 on PostgreSQL, 1 on SQLite)")
}

func newStatsWorker(s *statsWorkerFlags, q queue.Queue, store leaderboard.Store, reg *prometheus.Registry, log *slog.Logger) (*stats.Worker, error) {
	if s.pollers <= 0 {
		return nil, settingError("pollers", "must be above 0, got %d", s.pollers)
	}
	appliers := s.appliers
	base := store
	if w, ok := store.(*rankindex.Writer); ok {
		base = w.Source
	}
	if _, pg := base.(*postgres.Store); pg && appliers == 0 {
		appliers = 4
	}
	return stats.New(stats.Config{Pollers: s.pollers, Appliers: appliers, VisibilityTimeout: s.visibility}, q, store, reg, log.With("part", "stats-worker"))
}

// newLeaderboardServer: see leaderboard.go.
var newLeaderboardServer = newLeaderboardPart

// matchmakerFlags are the settings of the matchmaker.
type matchmakerFlags struct {
	addr         string
	internalAddr string
	configFile   string
	waitScale    float64
	cors         string
	prefix       string
	store        string
	redisAddr    string
	redisPrefix  string
	replicaID    string
}

func (m *matchmakerFlags) register(fs *flag.FlagSet, prefix, addr string) {
	fs.StringVar(&m.addr, prefix+"addr", addr, "matchmaker listen address for players (MatchmakerService over gRPC, Connect and gRPC-Web; health)")
	registerInternalAddr(fs, &m.internalAddr, prefix, matchmakerInternalAddr, "GameserverRegistryService gRPC for gameservers, ")
	fs.StringVar(&m.configFile, "modes-file", "", "YAML or JSON file with the matchmaking modes (default: built-in duel, ffa, team, team4)")
	fs.Float64Var(&m.waitScale, "wait-scale", 1, "multiplies every mode's maximum wait (below 1 for quick demos)")
	m.prefix = prefix
	fs.StringVar(&m.cors, prefix+"cors-origins", "", "comma-separated browser origins allowed to call the matchmaker with Connect/gRPC-Web, e.g. http://127.0.0.1:7800, or * (default: the modes file's allowed_origins, else *)")
	fs.StringVar(&m.store, "matchmaker-store", matchmaker.StoreMemory, "where matchmaker state lives: memory (one process) or redis (shared by any number of matchmaker replicas, kept across restarts)")
	fs.StringVar(&m.redisAddr, prefix+"redis-addr", "127.0.0.1:6379", "Redis address for --matchmaker-store redis")
	fs.StringVar(&m.redisPrefix, prefix+"redis-prefix", "skirmish:mm:", "prefix of the matchmaker's keys in Redis; one per deployment, the same on every replica")
	fs.StringVar(&m.replicaID, prefix+"replica-id", "", "this replica's name in the formation lease (the Redis key <redis-prefix>lease holds epoch|replica), e.g. the pod name; two live replicas must not share one (default: a random id)")
}

// newMatchmaker builds the matchmaker from its flags; a Redis client it
// opens is closed by cl.
func newMatchmaker(m *matchmakerFlags, c *common, ratings matchmaker.RatingSource, log *slog.Logger, cl *closer, opts ...matchmaker.Option) (*matchmaker.Matchmaker, error) {
	keys, err := c.keys()
	if err != nil {
		return nil, err
	}
	if err := oneOf("matchmaker-store", m.store, matchmaker.StoreMemory, matchmaker.StoreRedis); err != nil {
		return nil, err
	}
	if m.store == matchmaker.StoreRedis {
		if m.redisPrefix == "" {
			return nil, settingError(m.prefix+"redis-prefix", "must not be empty with --matchmaker-store redis")
		}
		rc := redis.NewClient(&redis.Options{Addr: m.redisAddr})
		cl.add(rc.Close)
		opts = append(opts, matchmaker.WithRedis(rc, m.redisPrefix))
		if m.replicaID != "" {
			opts = append(opts, matchmaker.WithReplicaID(m.replicaID))
		}
	}
	var cfg matchmaker.Config
	if m.configFile != "" {
		if cfg, err = matchmaker.LoadConfig(m.configFile); err != nil {
			return nil, settingError("modes-file", "%v", err)
		}
	}
	if m.waitScale <= 0 {
		return nil, settingError("wait-scale", "must be above 0, got %g", m.waitScale)
	}
	cfg.WaitScale = m.waitScale
	if cfg.Edge.GRPC.Proxies, err = c.proxies(); err != nil {
		return nil, err
	}
	if m.cors != "" {
		if cfg.AllowedOrigins, err = matchmaker.ParseOrigins(m.cors); err != nil {
			return nil, settingError(m.prefix+"cors-origins", "%v", err)
		}
	}
	return matchmaker.New(cfg, keys, ratings, metrics.NewRegistry(), log.With("part", "matchmaker"), opts...)
}

// serveAdmin serves the internal listener (/healthz, /readyz, /metrics,
// /debug/pprof/) of a part that has no HTTP server of its own (the stats
// worker).
func serveAdmin(ctx context.Context, ln net.Listener, reg *prometheus.Registry, log *slog.Logger) error {
	mux := serve.Internal(metrics.Handler(reg))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return serve.HTTP(ctx, ln, mux, log)
}

// runAll runs fns until ctx ends or one fails, and waits for all of them.
func runAll(ctx context.Context, fns ...func(ctx context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(gctx) })
	}
	return g.Wait()
}
