package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// pingCut is a real store whose pings fail while cut is set, as a
// database's do once it stops answering.
type pingCut struct {
	leaderboard.Store
	cut atomic.Bool
}

func (s *pingCut) Ping(ctx context.Context) error {
	if s.cut.Load() {
		return errors.New("dial tcp: connection refused")
	}
	return s.Store.Ping(ctx)
}

// TestProbes: every listener of every part `skirmish` runs (the public
// ports and internal listeners of `skirmish dev`'s gameserver, matchmaker
// and leaderboard, and a stats worker's only listener) answers the probes
// by one convention: GET /healthz and GET /readyz 200 "ok\n" in plain
// text, other methods 405 with Allow naming GET; a part that is not ready
// answers 503 "not ready: <reason>\n", and is ready again once the cause
// is gone.
func TestProbes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sys, _ := startTestSystem(t, testDevFlags(t))
	var store *pingCut
	statsAddr := startStatsAdmin(t, ctx, func(s leaderboard.Store) leaderboard.Store {
		store = &pingCut{Store: s}
		return store
	})
	listeners := []struct{ name, addr string }{
		{"gameserver", sys.gameserverAddr},
		{"gameserver internal", sys.gameserverInternal},
		{"matchmaker", sys.matchmakerAddr},
		{"matchmaker internal", sys.matchmakerInternal},
		{"leaderboard", sys.leaderboardAddr},
		{"leaderboard internal", sys.leaderboardInternal},
		{"stats-worker internal", statsAddr},
	}
	// A part is ready once its Run has started: wait for that, then
	// every answer must be as the table says.
	for _, l := range listeners {
		waitFor(t, ctx, l.name+" /readyz", func() bool {
			code, _, _ := probe(ctx, http.MethodGet, "http://"+l.addr+"/readyz")
			return code == http.StatusOK
		})
	}
	requests := []struct {
		method, path string
		want         int
		body         string // checked on 200 and 503
	}{
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/readyz", 200, "ok\n"},
		{"HEAD", "/readyz", 200, ""},
		{"HEAD", "/healthz", 200, ""},
		{"POST", "/readyz", 405, ""},
		{"PUT", "/readyz", 405, ""},
		{"DELETE", "/readyz", 405, ""},
		{"POST", "/healthz", 405, ""},
	}
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			for _, r := range requests {
				code, body, allow := probe(ctx, r.method, "http://"+l.addr+r.path)
				if code != r.want {
					t.Errorf("%s %s%s = %d, want %d", r.method, l.addr, r.path, code, r.want)
					continue
				}
				if r.want == 405 && !strings.Contains(allow, "GET") {
					t.Errorf("%s %s%s: Allow = %q, want GET in it", r.method, l.addr, r.path, allow)
				}
				if r.want != 405 && body != r.body {
					t.Errorf("%s %s%s body = %q, want %q", r.method, l.addr, r.path, body, r.body)
				}
			}
		})
	}

	// Not ready: the stats worker's store stops answering.
	store.cut.Store(true)
	if code, body, _ := probe(ctx, "GET", "http://"+statsAddr+"/readyz"); code != 503 || body != "not ready: the store does not answer\n" {
		t.Errorf("GET stats-worker /readyz with its store down = %d %q, want 503 %q", code, body, "not ready: the store does not answer\n")
	}
	if code, body, _ := probe(ctx, "GET", "http://"+statsAddr+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("GET stats-worker /healthz with its store down = %d %q, want 200 %q: liveness does not follow readiness", code, body, "ok\n")
	}
	store.cut.Store(false)
	if code, body, _ := probe(ctx, "GET", "http://"+statsAddr+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("GET stats-worker /readyz with its store back = %d %q, want 200 %q", code, body, "ok\n")
	}
}

// probe makes one request and returns the status, body and Allow header
// (0 when the request failed).
func probe(ctx context.Context, method, url string) (code int, body, allow string) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Allow")
}
