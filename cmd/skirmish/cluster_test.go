package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/internal/netlab"
	"github.com/skirmishgg/skirmish/internal/testenv"
)

// cluster is a deployment spread over the hosts of a netlab lab, each part
// a `skirmish` process bound to its host's address: Redis, PostgreSQL and
// the SQS server on a data host, and the parts on hosts of their own.
type cluster struct {
	t       *testing.T
	lab     *netlab.Lab
	bin     string
	key     string // the shared auth key
	dsn     string // PostgreSQL, from the test (through the bridge)
	sqs     string
	redis   string
	dataDir map[string]string // per host: outbox, queue files
	parts   map[string]*part  // by host name
	mu      sync.Mutex
}

// part is one skirmish process and how to start it again.
type part struct {
	host *netlab.Host
	args []string
	addr string // where its /healthz answers
	proc *netlab.Process
}

// Ports each part listens on at its host's address.
const (
	clusterMatchmakerPort  = 7810
	clusterGameserverPort  = 7800
	clusterLeaderboardPort = 7820
	clusterWorkerPort      = 7830
	// Internal listeners, bound to each host's address so that the
	// matchmaker and the gameservers reach each other's control APIs.
	clusterMatchmakerInternalPort = 7812
	clusterGameserverInternalPort = 7802
)

// newCluster makes the lab, starts the outside services on the data host
// and builds the skirmish binary. It ends the test through testenv.Missing
// where network namespaces cannot be made (not root).
func newCluster(t *testing.T, ctx context.Context, hosts ...string) *cluster {
	t.Helper()
	lab, err := netlab.New(ctx, append([]string{"data"}, hosts...)...)
	if err != nil {
		testenv.Missing(t, "network namespaces (root, iproute2)", err)
	}
	c := &cluster{t: t, lab: lab, dataDir: map[string]string{}, parts: map[string]*part{}}
	t.Cleanup(func() {
		c.mu.Lock()
		for _, p := range c.parts {
			if p.proc != nil {
				p.proc.Kill()
			}
		}
		c.mu.Unlock()
		if err := lab.Close(context.Background()); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	data := lab.Host("data")
	rp, raddr, err := netlab.StartRedis(ctx, data, 6379)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rp.Kill)
	pp, dsn, err := netlab.StartPostgres(ctx, data, filepath.Join(t.TempDir(), "pg"), "skirmish")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pp.Stop(10 * time.Second) })
	sp, endpoint, err := netlab.StartSQS(ctx, data, 9324)
	if err != nil {
		testenv.Missing(t, "SQS server (fauxqs)", err)
	}
	t.Cleanup(sp.Kill)
	c.redis, c.dsn, c.sqs = raddr, dsn, endpoint

	c.bin = filepath.Join(t.TempDir(), "skirmish")
	build := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", c.bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := make([]byte, 32)
	rand.Read(seed)
	c.key = base64.StdEncoding.EncodeToString(seed)
	return c
}

// start runs a part on the host with the cluster's shared settings and
// waits until its /healthz answers.
func (c *cluster) start(ctx context.Context, hostName string, port int, args ...string) *part {
	c.t.Helper()
	h := c.lab.Host(hostName)
	if h == nil {
		c.t.Fatalf("no host %q", hostName)
	}
	dir, ok := c.dataDir[hostName]
	if !ok {
		dir = c.t.TempDir()
		c.dataDir[hostName] = dir
	}
	p := &part{host: h, addr: h.HostPort(port),
		args: append(slices.Clone(args), "--auth-key", c.key, "--data-dir", dir, "--log-format", "json")}
	c.mu.Lock()
	c.parts[hostName] = p
	c.mu.Unlock()
	c.restart(ctx, p)
	return p
}

// restart starts the part's process again (after a kill) and waits for it.
func (c *cluster) restart(ctx context.Context, p *part) {
	c.t.Helper()
	cmd := p.host.Command(ctx, c.bin, p.args...)
	// The SQS server takes any credentials; without some the SDK looks
	// for an instance role.
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	proc, err := netlab.StartCommand(p.host.Name, cmd)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	p.proc = proc
	c.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for getOK(ctx, "http://"+p.addr+"/healthz") != nil {
		select {
		case <-proc.Done():
			c.t.Fatalf("%s exited at start: %v\n%s", p.host.Name, proc.Err(), proc.Output(20))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not healthy within 60s\n%s", p.host.Name, proc.Output(20))
		}
	}
}

// TestClusterAcrossHosts runs a deployment over eight hosts (data,
// matchmaker, two gameservers, two leaderboards on the Redis rank index,
// two stats workers on PostgreSQL through the SQS server) and plays duels
// with bots while it kills (SIGKILL) a gameserver, a stats worker and a
// leaderboard replica in turn and starts them again. Then: every match the
// bots saw end is in the history exactly once, with its players; every
// player's history lists it once; and both leaderboard replicas rank every
// board exactly as SQL does.
//
// It needs root for the network namespaces, as CI has; elsewhere it skips
// (testenv.Missing). docs/scaling.md describes the topology.
func TestClusterAcrossHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("plays for about a minute across network namespaces")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c := newCluster(t, ctx, "mm1", "gs1", "gs2", "lb1", "lb2", "sw1", "sw2")
	sqsArgs := []string{"--queue", "sqs", "--sqs-endpoint", c.sqs, "--queue-visibility-timeout", "5s"}
	store := []string{"--database", c.dsn}
	mm := c.lab.Host("mm1").HostPort(clusterMatchmakerPort)
	mmInternal := c.lab.Host("mm1").HostPort(clusterMatchmakerInternalPort)

	// Leaderboards first: they migrate the database.
	for _, h := range []string{"lb1", "lb2"} {
		c.start(ctx, h, clusterLeaderboardPort, append([]string{"leaderboard", "--addr", c.lab.Host(h).HostPort(clusterLeaderboardPort),
			"--rank-index", "redis", "--redis-addr", c.redis, "--rate-limit", "-1"}, store...)...)
	}
	c.start(ctx, "mm1", clusterMatchmakerPort, append([]string{"matchmaker", "--addr", mm, "--internal-addr", mmInternal}, store...)...)
	for _, h := range []string{"sw1", "sw2"} {
		c.start(ctx, h, clusterWorkerPort, append(append([]string{"stats-worker", "--addr", c.lab.Host(h).HostPort(clusterWorkerPort)}, store...), sqsArgs...)...)
	}
	for _, h := range []string{"gs1", "gs2"} {
		c.start(ctx, h, clusterGameserverPort, append([]string{"gameserver", "--addr", c.lab.Host(h).HostPort(clusterGameserverPort),
			"--internal-addr", c.lab.Host(h).HostPort(clusterGameserverInternalPort),
			"--id", h, "--matchmaker", mmInternal, "--match-duration", "6s", "--webtransport-addr", "", "--no-web"}, sqsArgs...)...)
	}

	// Bots: duels, over and over, until the chaos is over.
	const players = 8
	play, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	var (
		mu   sync.Mutex
		seen = map[string][]string{} // match id -> players who saw it end
		wg   sync.WaitGroup
	)
	for i := range players {
		lb := "http://" + c.lab.Host([]string{"lb1", "lb2"}[i%2]).HostPort(clusterLeaderboardPort)
		s, err := skirmish.SignInGuest(ctx, nil, lb, fmt.Sprintf("bot-%d", i))
		if err != nil {
			t.Fatalf("SignInGuest: %v", err)
		}
		wg.Go(func() {
			for play.Err() == nil {
				o, err := playOne(play, mm, s, int64(i))
				if err != nil {
					continue // a killed gameserver, or the end of play: queue again
				}
				mu.Lock()
				seen[o.GetMatchId()] = append(seen[o.GetMatchId()], s.PlayerID)
				mu.Unlock()
			}
		})
	}

	// The chaos: each kill in turn, with time to play between.
	waitMatches := func(n int) {
		t.Helper()
		waitFor(t, ctx, fmt.Sprintf("%d matches seen", n), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) >= n
		})
	}
	waitMatches(2)
	for _, victim := range []string{"gs1", "sw1", "lb2", "gs2", "sw2"} {
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		p := c.parts[victim]
		t.Logf("kill -9 %s (%d matches seen)", victim, before)
		p.proc.Kill()
		c.restart(ctx, p)
		waitMatches(before + 2)
	}
	stopPlay()
	wg.Wait()

	// Every match the bots saw end is recorded once, with both players.
	db, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d matches seen end", len(seen))
	waitFor(t, ctx, "every seen match recorded", func() bool {
		var n int
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		err := db.QueryRow(ctx, "SELECT count(*) FROM matches WHERE id = ANY($1)", ids).Scan(&n)
		return err == nil && n == len(seen)
	})
	for id, who := range seen {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM match_players WHERE match_id = $1", id).Scan(&n); err != nil || n != 2 {
			t.Errorf("match %s: %d player rows, %v; want 2", id, n, err)
		}
		for _, p := range who {
			var hist struct {
				Matches []struct {
					MatchID string `json:"match_id"`
				} `json:"matches"`
			}
			lb := "http://" + c.lab.Host("lb1").HostPort(clusterLeaderboardPort)
			if err := getJSON(ctx, lb+"/v1/players/"+p+"/matches?limit=100", &hist); err != nil {
				t.Fatalf("history of %s: %v", p, err)
			}
			count := 0
			for _, m := range hist.Matches {
				if m.MatchID == id {
					count++
				}
			}
			if count != 1 {
				t.Errorf("history of %s lists match %s %d times, want 1", p, id, count)
			}
		}
	}

	// Both leaderboard replicas agree with SQL on every board.
	var boards []string
	rows, err := db.Query(ctx, "SELECT id FROM boards ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		boards = append(boards, id)
	}
	rows.Close()
	if len(boards) == 0 {
		t.Fatal("no boards")
	}
	for _, b := range boards {
		var order string
		if err := db.QueryRow(ctx, "SELECT sort_order FROM boards WHERE id = $1", b).Scan(&order); err != nil {
			t.Fatal(err)
		}
		dir := "DESC"
		if order == "ascending" {
			dir = "ASC"
		}
		var want []string
		rows, err := db.Query(ctx, "SELECT player_id FROM board_entries WHERE board_id = $1 ORDER BY score "+dir+", scored_at, player_id LIMIT 100", b)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			want = append(want, p)
		}
		rows.Close()
		for _, h := range []string{"lb1", "lb2"} {
			url := "http://" + c.lab.Host(h).HostPort(clusterLeaderboardPort) + "/v1/leaderboards/" + b + "/entries?limit=100"
			var got []string
			waitFor(t, ctx, h+" agrees with SQL on "+b, func() bool {
				var page struct {
					Entries []struct {
						PlayerID string `json:"player_id"`
					} `json:"entries"`
				}
				if getJSON(ctx, url, &page) != nil {
					return false
				}
				got = got[:0]
				for _, e := range page.Entries {
					got = append(got, e.PlayerID)
				}
				return slices.Equal(got, want)
			})
		}
	}
	for name, p := range c.parts {
		if err := p.proc.Err(); err != nil {
			t.Errorf("%s exited: %v\n%s", name, err, p.proc.Output(20))
		}
		if strings.Contains(p.proc.Output(400), `"level":"ERROR"`) && testing.Verbose() {
			t.Logf("%s logged errors:\n%s", name, p.proc.Output(40))
		}
	}
}
