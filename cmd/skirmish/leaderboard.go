package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
)

// The leaderboard's own settings and assembly live in
// internal/leaderboardcmd, which skirmish-bench lbbench uses too.

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
