package netlab_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/internal/netlab"
	"github.com/skirmishgg/skirmish/internal/testenv"
)

// newLab makes a lab for the test, or ends it through testenv.Missing
// where namespaces cannot be made (not root, no iproute2).
func newLab(t *testing.T, names ...string) *netlab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := netlab.New(ctx, names...)
	if err != nil {
		testenv.Missing(t, "network namespaces", err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return l
}

// TestServicesAcrossHosts: Redis, PostgreSQL and the SQS server each run in
// a host of their own and answer at that host's address; a cut host stops
// answering and answers again once healed.
func TestServicesAcrossHosts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := newLab(t, "redis", "postgres", "sqs")
	rp, raddr, err := netlab.StartRedis(ctx, l.Host("redis"), 6379)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rp.Kill)
	pp, dsn, err := netlab.StartPostgres(ctx, l.Host("postgres"), filepath.Join(t.TempDir(), "pg"), "skirmish")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pp.Stop(10 * time.Second) })
	sp, endpoint, err := netlab.StartSQS(ctx, l.Host("sqs"), 9324)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Kill)

	rc := redis.NewClient(&redis.Options{Addr: raddr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer rc.Close()
	if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("Redis at %s: %v", raddr, err)
	}
	pc, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v", dsn, err)
	}
	var one int
	if err := pc.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	pc.Close(ctx)
	resp, err := http.Get(endpoint + "/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("SQS health at %s: %v %v", endpoint, resp, err)
	}
	resp.Body.Close()

	// A cut host is unreachable, and reachable again once healed.
	h := l.Host("redis")
	if err := h.Cut(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rc.Ping(ctx).Err(); err == nil {
		t.Fatal("Redis answered while its host was cut off")
	}
	if err := h.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rc.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("Redis did not answer within 10s of its host healing")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
