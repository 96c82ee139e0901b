package leaderboardcmd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
)

// unreachableStore is a real store whose pings fail while cut is set, as
// a database's do once it stops answering.
type unreachableStore struct {
	rankindex.Source
	cut atomic.Bool
}

func (s *unreachableStore) Ping(ctx context.Context) error {
	if s.cut.Load() {
		return errors.New("dial tcp: connection refused")
	}
	return s.Source.Ping(ctx)
}

// TestReadyzBothListeners: the leaderboard's public port and its
// internal listener answer /readyz alike: 200 "ok\n" while the store (and
// the Redis rank index, when used) answers, and the same 503 once one
// does not.
func TestReadyzBothListeners(t *testing.T) {
	tests := []struct {
		name string
		lf   func(t *testing.T) Flags
		cut  func(p *Part, s *unreachableStore)
		want string
	}{
		{
			name: "store",
			lf:   func(*testing.T) Flags { return Flags{RankIndex: "memory"} },
			cut:  func(_ *Part, s *unreachableStore) { s.cut.Store(true) },
			want: "not ready: the store does not answer\n",
		},
		{
			name: "redis rank index",
			lf: func(t *testing.T) Flags {
				addr := testenv.Redis(t)
				return Flags{RankIndex: "redis", RedisAddr: addr, RedisPrefix: testenv.RedisPrefix(t, addr)}
			},
			cut:  func(p *Part, _ *unreachableStore) { p.redis.Close() },
			want: "not ready: the rank index does not answer\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lf := tt.lf(t)
			c := &cli.Common{DataDir: t.TempDir()}
			var cl cli.Closer
			t.Cleanup(func() { cl.Close() })
			base, err := OpenStore(context.Background(), c, &StoreFlags{}, &cl)
			if err != nil {
				t.Fatalf("OpenStore: %v", err)
			}
			store := &unreachableStore{Source: base.(rankindex.Source)}
			p, err := New(store, &lf, c, metrics.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ln, internal := listen(t), listen(t)
			testenv.Run(t, func(ctx context.Context) error { return p.Run(ctx, ln, internal) })
			addrs := []string{ln.Addr().String(), internal.Addr().String()}

			waitReadyz(t, addrs, http.StatusOK, "ok\n")
			select { // every board loaded: the index now only polls, and lives through a cut
			case <-p.Index.Ready():
			case <-time.After(10 * time.Second):
				t.Fatal("the rank index did not load its boards within 10s")
			}
			tt.cut(p, store)
			waitReadyz(t, addrs, http.StatusServiceUnavailable, tt.want)
		})
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// waitReadyz waits until GET /readyz on the first address answers the
// status, then checks its body and that every other address answers the
// same.
func waitReadyz(t *testing.T, addrs []string, want int, wantBody string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(10 * time.Second)
	for {
		if code, _, err := getReadyz(addrs[0]); err == nil && code == want {
			break
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("GET %s/readyz never answered %d", addrs[0], want)
		}
	}
	for _, addr := range addrs {
		code, body, err := getReadyz(addr)
		if err != nil || code != want || body != wantBody {
			t.Errorf("GET %s/readyz = %d %q (%v), want %d %q", addr, code, body, err, want, wantBody)
		}
	}
}

func getReadyz(addr string) (int, string, error) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
