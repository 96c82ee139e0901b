package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// openQueue opens the match-outcome queue the flags name.
func openQueue(ctx context.Context, c *common, q *queueFlags, cl *closer) (queue.Queue, error) {
	return q.Open(ctx, &c.Common, &cl.Closer)
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
	cli.RegisterInternalAddr(fs, &m.internalAddr, prefix, cli.MatchmakerInternalAddr, "GameserverRegistryService gRPC for gameservers, ")
	fs.StringVar(&m.configFile, "modes-file", "", "YAML or JSON file with the matchmaking modes (default: built-in duel, ffa, team, team4, dice)")
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
	keys, err := c.Keys("matchmaker", matchmaker.KeyNeeds(), log)
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
		cl.Add(rc.Close)
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
	if cfg.Edge.GRPC.Proxies, err = c.Proxies(); err != nil {
		return nil, err
	}
	if m.cors != "" {
		if cfg.AllowedOrigins, err = matchmaker.ParseOrigins(m.cors); err != nil {
			return nil, settingError(m.prefix+"cors-origins", "%v", err)
		}
	}
	return matchmaker.New(cfg, keys, ratings, metrics.NewRegistry(), log.With("part", "matchmaker"), opts...)
}

// serveAdmin serves the internal listener (/healthz, /readyz answered by
// ready, /metrics, /debug/pprof/) of a part that has no HTTP server of its
// own (the stats worker).
func serveAdmin(ctx context.Context, ln net.Listener, reg *prometheus.Registry, ready serve.Check, log *slog.Logger) error {
	return serve.HTTP(ctx, ln, serve.Internal(metrics.Handler(reg), ready), log)
}
