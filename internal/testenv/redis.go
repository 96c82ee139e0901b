package testenv

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis returns the address of the Redis server the tests use:
// SKIRMISH_TEST_REDIS_ADDR, else 127.0.0.1:6379. When it does not answer a
// PING the test ends through Missing. Tests share the server: give every
// key the prefix RedisPrefix returns.
func Redis(t testing.TB) (addr string) {
	t.Helper()
	addr = os.Getenv("SKIRMISH_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		Missing(t, "Redis", err)
		return ""
	}
	return addr
}

// RedisPrefix returns a key prefix of its own for this test and deletes
// every key under it when the test ends.
func RedisPrefix(t testing.TB, addr string) string {
	t.Helper()
	prefix := "skirmish-test:" + strings.ToLower(rand.Text()[:12]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		flush := func() {
			if len(keys) > 0 {
				if err := c.Unlink(ctx, keys...).Err(); err != nil {
					t.Errorf("delete test keys %s*: %v", prefix, err)
				}
				keys = keys[:0]
			}
		}
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) == 500 {
				flush()
			}
		}
		flush()
		if err := iter.Err(); err != nil {
			t.Errorf("scan test keys %s*: %v", prefix, err)
		}
	})
	return prefix
}
