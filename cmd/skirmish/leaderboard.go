package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/boardfile"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
	"github.com/skirmishgg/skirmish/leaderboard/seasons"
)

// leaderboardFlags are the settings of the leaderboard REST API.
type leaderboardFlags struct {
	adminKey    string
	rateLimit   float64
	rateBurst   int
	rankIndex   string
	redisAddr   string
	redisPrefix string
	boardsFile  string
	corsOrigin  string
}

func (l *leaderboardFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.adminKey, "admin-key", "", "bearer key for the leaderboard admin API (/v1/admin/...); empty: only admin service tokens")
	fs.Float64Var(&l.rateLimit, "rate-limit", httpapi.DefaultRatePerSecond, "requests per second each client (IP) may make to the leaderboard, sized for many players behind one address (a LAN party, a school, carrier NAT); past it clients get 429 with Retry-After; negative: no limit")
	fs.IntVar(&l.rateBurst, "rate-burst", httpapi.DefaultRateBurst, "burst of requests each client (IP) may make above --rate-limit: players behind one address who can sign in at once")
	fs.StringVar(&l.rankIndex, "rank-index", "memory", "rank index: memory (one process) or redis (sorted sets shared by several leaderboard replicas)")
	fs.StringVar(&l.redisAddr, "redis-addr", "127.0.0.1:6379", "Redis address for --rank-index redis")
	fs.StringVar(&l.redisPrefix, "redis-prefix", "skirmish:lb:", "prefix of the rank index keys in Redis; one per deployment")
	fs.StringVar(&l.corsOrigin, "cors-origin", "*", "Access-Control-Allow-Origin of the leaderboard API: * or the browser game's origin")
	fs.StringVar(&l.boardsFile, "boards-file", "", "YAML file of boards to create or update, and modes to map to rating pools, at start (see leaderboard/boardfile)")
}

// leaderboardPart is the REST API over a rank-indexed store, with the
// season scheduler.
type leaderboardPart struct {
	store  leaderboard.Store
	boards boardfile.File // from --boards-file
	redis  *redis.Client  // nil with the memory index
	index  *rankindex.Store
	sched  *seasons.Scheduler
	srv    *httpapi.Server
	log    *slog.Logger
}

// Run serves the REST API on ln and /metrics and pprof on internal (nil:
// not served) until ctx ends.
func (p *leaderboardPart) Run(ctx context.Context, ln, internal net.Listener) error {
	if p.redis != nil {
		defer p.redis.Close()
	}
	if err := boardfile.ApplyFile(ctx, p.store, p.boards); err != nil {
		return settingError("boards-file", "%v", err)
	}
	return runAll(ctx, p.index.Run, p.sched.Run,
		func(ctx context.Context) error { return p.srv.Run(ctx, ln) },
		func(ctx context.Context) error {
			if internal == nil {
				return nil
			}
			return serve.HTTP(ctx, internal, serve.Internal(p.srv.Metrics()), p.log)
		})
}

func newLeaderboardPart(store leaderboard.Store, lf *leaderboardFlags, c *common, reg *prometheus.Registry, log *slog.Logger) (_ *leaderboardPart, err error) {
	if lf.rateBurst < 0 {
		return nil, settingError("rate-burst", "must be at least 1, got %d", lf.rateBurst)
	}
	src, ok := store.(rankindex.Source)
	if !ok {
		return nil, errors.New("leaderboard store cannot feed the rank index")
	}
	if err := oneOf("rank-index", lf.rankIndex, "memory", "redis"); err != nil {
		return nil, err
	}
	p := &leaderboardPart{store: store}
	if lf.boardsFile != "" {
		if p.boards, err = boardfile.LoadFile(lf.boardsFile); err != nil {
			return nil, settingError("boards-file", "%v", err)
		}
	}
	log = log.With("part", "leaderboard")
	var ri rankindex.Index = rankindex.NewMemory()
	if lf.rankIndex == "redis" {
		p.redis = redis.NewClient(&redis.Options{Addr: lf.redisAddr})
		ri = rankindex.NewRedis(p.redis, lf.redisPrefix)
		defer func() {
			if err != nil {
				p.redis.Close()
			}
		}()
	}
	idx, err := rankindex.New(rankindex.Config{}, src, ri, reg, log)
	if err != nil {
		return nil, err
	}
	sched, err := seasons.New(seasons.Config{}, idx, log)
	if err != nil {
		return nil, err
	}
	keys, err := c.Keys("leaderboard", httpapi.KeyNeeds(), log)
	if err != nil {
		return nil, err
	}
	proxies, err := c.Proxies()
	if err != nil {
		return nil, err
	}
	srv, err := httpapi.New(httpapi.Config{AllowOrigin: lf.corsOrigin, AdminKey: lf.adminKey, RatePerSecond: lf.rateLimit, RateBurst: lf.rateBurst,
		Proxies: proxies}, idx, keys, reg, log)
	if err != nil {
		return nil, err
	}
	p.index, p.sched, p.srv, p.log = idx, sched, srv, log
	return p, nil
}

// statsIndexFlags say whether a stats worker writes the outcomes it
// applies through to the leaderboards' shared Redis rank index.
type statsIndexFlags struct {
	rankIndex, redisAddr, redisPrefix string
}

func (f *statsIndexFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.rankIndex, "rank-index", "none", "none, or redis: write every applied outcome through to the leaderboards' Redis rank index (set when they run with --rank-index redis), so ranks show it within milliseconds")
	fs.StringVar(&f.redisAddr, "redis-addr", "127.0.0.1:6379", "Redis address for --rank-index redis")
	fs.StringVar(&f.redisPrefix, "redis-prefix", "skirmish:lb:", "prefix of the rank index keys in Redis: the leaderboards' --redis-prefix")
}

// wrap returns store, writing through to the Redis index when asked.
func (f *statsIndexFlags) wrap(store leaderboard.Store, cl *closer, reg prometheus.Registerer, log *slog.Logger) (leaderboard.Store, error) {
	if err := oneOf("rank-index", f.rankIndex, "none", "redis"); err != nil {
		return nil, err
	}
	if f.rankIndex == "none" {
		return store, nil
	}
	src, ok := store.(rankindex.Source)
	if !ok {
		return nil, errors.New("stats worker store cannot feed the rank index")
	}
	c := redis.NewClient(&redis.Options{Addr: f.redisAddr})
	cl.Add(c.Close)
	return rankindex.NewWriter(src, rankindex.NewRedis(c, f.redisPrefix), reg, log.With("part", "stats-worker"))
}
