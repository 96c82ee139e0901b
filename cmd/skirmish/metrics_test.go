package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/leaderboardcmd"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// parts whose metric names start with skirmish_<part>_.
var metricParts = []string{"gameserver", "matchmaker", "leaderboard", "stats"}

// TestMetricsExposition plays one bot duel through `skirmish dev` and a
// stats-worker admin server, then scrapes every part's /metrics: each
// passes `promtool check metrics`, carries the Go runtime and process
// collectors, and holds only its own part's metrics (its own registry).
func TestMetricsExposition(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		testenv.Missing(t, "promtool (Debian package prometheus)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	d := testDevFlags(t)
	sys, _ := startTestSystem(t, d)
	statsAddr := startStatsAdmin(t, ctx, nil)

	// Traffic through every part, so that labelled series exist.
	if _, err := bot.Run(ctx, bot.Config{
		LeaderboardURL: "http://" + sys.leaderboardAddr,
		MatchmakerAddr: sys.matchmakerAddr,
		Mode:           "duel",
		Players:        2,
		Matches:        1,
		Duration:       45 * time.Second,
	}, nil); err != nil {
		t.Fatalf("bot.Run: %v", err)
	}

	tests := []struct {
		name, addr string
		own        string   // prefix this part must export
		foreign    []string // parts whose metrics must not appear here
	}{
		{"gameserver", sys.gameserverInternal, "skirmish_gameserver_", []string{"matchmaker", "leaderboard", "stats"}},
		{"matchmaker", sys.matchmakerInternal, "skirmish_matchmaker_", []string{"gameserver", "leaderboard", "stats"}},
		// In dev the leaderboard and the stats worker are one part and
		// share a registry; alone, the stats worker has its own.
		{"leaderboard", sys.leaderboardInternal, "skirmish_leaderboard_", []string{"gameserver", "matchmaker"}},
		{"stats-worker", statsAddr, "skirmish_stats_", []string{"gameserver", "matchmaker", "leaderboard"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := scrape(t, ctx, "http://"+tt.addr+"/metrics")
			cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics on %s /metrics: %v\n%s", tt.name, err, out)
			}
			names := metricNames(body)
			for _, want := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
				if !names[want] {
					t.Errorf("%s /metrics has no %s (Go runtime and process collectors)", tt.name, want)
				}
			}
			own := 0
			for n := range names {
				if strings.HasPrefix(n, tt.own) {
					own++
				}
				for _, f := range tt.foreign {
					if strings.HasPrefix(n, "skirmish_"+f+"_") {
						t.Errorf("%s /metrics exports %s, a metric of %s: parts must use their own registry", tt.name, n, f)
					}
				}
				if strings.HasPrefix(n, "skirmish_") && !hasPartPrefix(n) {
					t.Errorf("%s /metrics exports %s: want skirmish_<part>_<what>_<unit> with part one of %v", tt.name, n, metricParts)
				}
			}
			if own == 0 {
				t.Errorf("%s /metrics has no %s* metric", tt.name, tt.own)
			}
		})
	}
}

func hasPartPrefix(name string) bool {
	for _, p := range metricParts {
		if strings.HasPrefix(name, "skirmish_"+p+"_") {
			return true
		}
	}
	return false
}

// startStatsAdmin runs a stats worker alone, on its own queue and store
// in a temp dir (given to wrap, when not nil, which returns the store the
// worker uses), with its admin server (/metrics, /healthz, /readyz, pprof);
// it returns the address.
func startStatsAdmin(t *testing.T, ctx context.Context, wrap func(leaderboard.Store) leaderboard.Store) string {
	t.Helper()
	c := common{cli.Common{DataDir: t.TempDir()}}
	q := queueFlags{Backend: "sqlite"}
	var cl closer
	store, err := leaderboardcmd.OpenStore(ctx, &c.Common, &leaderboardcmd.StoreFlags{}, &cl.Closer)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	if wrap != nil {
		store = wrap(store)
	}
	qu, err := openQueue(ctx, &c, &q, &cl)
	if err != nil {
		t.Fatalf("openQueue: %v", err)
	}
	reg := metrics.NewRegistry()
	log := testLogger(t)
	worker, err := newStatsWorker(&statsWorkerFlags{pollers: 1}, qu, store, reg, log)
	if err != nil {
		t.Fatalf("newStatsWorker: %v", err)
	}
	ln, err := serve.Listen("addr", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runAll(ctx,
			worker.Run,
			func(ctx context.Context) error { return serveAdmin(ctx, ln, reg, worker.Ready, log) },
		)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("stats worker: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("stats worker did not stop within 30s")
		}
		cl.close()
	})
	return ln.Addr().String()
}

func scrape(t *testing.T, ctx context.Context, url string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return body
}

// metricNames returns the metric family names of a text exposition
// (from its # TYPE lines).
func metricNames(body []byte) map[string]bool {
	names := map[string]bool{}
	for line := range strings.Lines(string(body)) {
		var name, typ string
		if n, _ := fmt.Sscanf(line, "# TYPE %s %s", &name, &typ); n == 2 {
			names[name] = true
		}
	}
	return names
}
