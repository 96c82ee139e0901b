package matchmaker

import (
	"testing"

	"github.com/redis/go-redis/v9"

	outcomequeue "github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/testenv"
)

// starter starts a matchmaker on one store with more options.
type starter func(t testing.TB, cfg Config, ratings RatingSource, opts ...Option) *env

// startWithQueue starts a matchmaker that publishes lost matches to q.
func startWithQueue(t testing.TB, start starter, cfg Config, q outcomequeue.Queue) *env {
	return start(t, cfg, nil, WithOutcomeQueue(q))
}

// eachStore runs a test against a matchmaker on each store: memory, and
// Redis (the real server; the test ends through testenv.Missing without
// one).
func eachStore(t *testing.T, f func(t *testing.T, start starter)) {
	t.Run("memory", func(t *testing.T) {
		f(t, func(t testing.TB, cfg Config, ratings RatingSource, opts ...Option) *env {
			return startMatchmakerWith(t, cfg, ratings, opts...)
		})
	})
	t.Run("redis", func(t *testing.T) {
		f(t, func(t testing.TB, cfg Config, ratings RatingSource, opts ...Option) *env {
			c, prefix := redisFor(t)
			return startMatchmakerWith(t, cfg, ratings, append(opts, WithRedis(c, prefix))...)
		})
	})
}

// redisFor returns a client of the test Redis and a key prefix of the
// test's own; both are cleaned up when the test ends.
func redisFor(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := testenv.Redis(t)
	prefix := testenv.RedisPrefix(t, addr)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c, prefix
}
