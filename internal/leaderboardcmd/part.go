package leaderboardcmd

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/boardfile"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
	"github.com/skirmishgg/skirmish/leaderboard/seasons"
)

// Part is the REST API over a rank-indexed store, with the season
// scheduler.
type Part struct {
	// Index is the store behind its rank index: a stats worker in the same
	// process applies outcomes through it, so ranks show them at once.
	Index  *rankindex.Store
	store  leaderboard.Store
	boards boardfile.File // from --boards-file
	redis  *redis.Client  // nil with the memory index
	sched  *seasons.Scheduler
	srv    *httpapi.Server
	log    *slog.Logger
}

// New builds the leaderboard over store from its settings; the token
// keys and trusted proxies come from c, the metrics go to reg. It reads
// --boards-file but applies it only in Run. It starts nothing; a Redis
// client it opens is closed by Run. An error names the setting.
func New(store leaderboard.Store, lf *Flags, c *cli.Common, reg *prometheus.Registry, log *slog.Logger) (_ *Part, err error) {
	if lf.RateBurst < 0 {
		return nil, cli.SettingError("rate-burst", "must be at least 1, got %d", lf.RateBurst)
	}
	src, ok := store.(rankindex.Source)
	if !ok {
		return nil, errors.New("leaderboard store cannot feed the rank index")
	}
	if err := cli.OneOf("rank-index", lf.RankIndex, "memory", "redis"); err != nil {
		return nil, err
	}
	p := &Part{store: store}
	if lf.BoardsFile != "" {
		if p.boards, err = boardfile.LoadFile(lf.BoardsFile); err != nil {
			return nil, cli.SettingError("boards-file", "%v", err)
		}
	}
	log = log.With("part", "leaderboard")
	var ri rankindex.Index = rankindex.NewMemory()
	if lf.RankIndex == "redis" {
		p.redis = redis.NewClient(&redis.Options{Addr: lf.RedisAddr})
		ri = rankindex.NewRedis(p.redis, lf.RedisPrefix)
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
	cfg := httpapi.Config{AllowOrigin: lf.CORSOrigin, AdminKey: lf.AdminKey, RatePerSecond: lf.RateLimit, RateBurst: lf.RateBurst,
		Proxies: proxies}
	if p.redis != nil {
		cfg.Ready = p.redisReady
	}
	srv, err := httpapi.New(cfg, idx, keys, reg, log)
	if err != nil {
		return nil, err
	}
	p.Index, p.sched, p.srv, p.log = idx, sched, srv, log
	return p, nil
}

// errRankIndexDown is why the leaderboard is not ready when the Redis
// rank index does not answer (the cause is logged, not shown).
var errRankIndexDown = errors.New("the rank index does not answer")

// redisReady checks that the Redis rank index answers: boards loaded
// there are read from it.
func (p *Part) redisReady(ctx context.Context) error {
	if err := p.redis.Ping(ctx).Err(); err != nil {
		p.log.Warn("leaderboard rank index not ready", "err", err)
		return errRankIndexDown
	}
	return nil
}

// Run applies --boards-file, then serves the REST API on ln and, on
// internal (nil: not served), /metrics, pprof, /healthz and /readyz (the
// same check as the public /readyz), and runs the rank index and the
// season scheduler, until ctx ends or one of them fails.
func (p *Part) Run(ctx context.Context, ln, internal net.Listener) error {
	if p.redis != nil {
		defer p.redis.Close()
	}
	if err := boardfile.ApplyFile(ctx, p.store, p.boards); err != nil {
		return cli.SettingError("boards-file", "%v", err)
	}
	return cli.RunAll(ctx, p.Index.Run, p.sched.Run,
		func(ctx context.Context) error { return p.srv.Run(ctx, ln) },
		func(ctx context.Context) error {
			if internal == nil {
				return nil
			}
			return serve.HTTP(ctx, internal, serve.Internal(p.srv.Metrics(), p.srv.Ready), p.log)
		})
}
