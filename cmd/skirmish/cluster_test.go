package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/internal/netlab"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/matchmaker"
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

// TestClusterAcrossHosts runs a deployment over twelve hosts: a data host
// (Redis, PostgreSQL, the SQS server), three matchmaker replicas sharing
// their state in Redis, three gameservers reporting to any of them, two
// leaderboards on the Redis rank index and two stats workers writing
// through it. It checks that one player's tickets on two replicas at once
// are refused but one, then plays duels with bots (each ticket on the next
// replica) while it kills (SIGKILL) a gameserver, a matchmaker, a stats
// worker and a leaderboard, one at a time, and starts each again; then it
// cuts the formation lease holder off the network until another replica
// forms matches; then it kills every matchmaker with two tickets
// searching and checks they match after the restart. With -chaos.duration
// it injects those faults at random for that long instead (the long
// version, `make chaos`). At the end: no player was in two matches at
// once; every ticket ended (matched, cancelled, expired or failed: none
// left searching or allocating); every match the bots saw end is in the
// history exactly once, with its players; every player's history lists it
// once; and both leaderboard replicas rank every board exactly as SQL
// does. It logs a summary: matches, tickets by end state, faults and the
// time the cluster took to match again after each.
//
// It needs root for the network namespaces, as CI has; elsewhere it skips
// (testenv.Missing). docs/scaling.md describes the topology.
func TestClusterAcrossHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("plays for about a minute across network namespaces")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute+2**chaosDuration)
	defer cancel()
	mms := []string{"mm1", "mm2", "mm3"}
	gss := []string{"gs1", "gs2", "gs3"}
	c := newCluster(t, ctx, append(append(mms, gss...), "lb1", "lb2", "sw1", "sw2")...)
	sqsArgs := []string{"--queue", "sqs", "--sqs-endpoint", c.sqs, "--queue-visibility-timeout", "5s"}
	store := []string{"--database", c.dsn}
	rankIndex := []string{"--rank-index", "redis", "--redis-addr", c.redis}
	var mmPublic, mmInternal []string
	for _, h := range mms {
		mmPublic = append(mmPublic, c.lab.Host(h).HostPort(clusterMatchmakerPort))
		mmInternal = append(mmInternal, c.lab.Host(h).HostPort(clusterMatchmakerInternalPort))
	}
	// Ended tickets stay readable for the whole run, so that the end-state
	// check reads every ticket the bots made; the rest are the defaults.
	mmConfig := filepath.Join(t.TempDir(), "matchmaker.yaml")
	if err := os.WriteFile(mmConfig, []byte("ticket_retention: 2h\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Leaderboards first: they migrate the database.
	for _, h := range []string{"lb1", "lb2"} {
		c.start(ctx, h, clusterLeaderboardPort, append(append([]string{"leaderboard", "--addr", c.lab.Host(h).HostPort(clusterLeaderboardPort),
			"--rate-limit", "-1"}, rankIndex...), store...)...)
	}
	// Three matchmaker replicas share their state in Redis; each publishes
	// the records of matches lost with a gameserver to the outcome queue.
	for i, h := range mms {
		c.start(ctx, h, clusterMatchmakerPort, append(append([]string{"matchmaker", "--addr", mmPublic[i], "--internal-addr", mmInternal[i],
			"--matchmaker-store", "redis", "--redis-addr", c.redis, "--replica-id", h, "--modes-file", mmConfig}, store...), sqsArgs...)...)
	}
	for _, h := range []string{"sw1", "sw2"} {
		c.start(ctx, h, clusterWorkerPort, append(append(append([]string{"stats-worker", "--addr", c.lab.Host(h).HostPort(clusterWorkerPort)},
			store...), sqsArgs...), rankIndex...)...)
	}
	// Gameservers reach the matchmakers through any replica.
	for _, h := range gss {
		c.start(ctx, h, clusterGameserverPort, append([]string{"gameserver", "--addr", c.lab.Host(h).HostPort(clusterGameserverPort),
			"--internal-addr", c.lab.Host(h).HostPort(clusterGameserverInternalPort),
			"--id", h, "--matchmaker", strings.Join(mmInternal, ","), "--match-duration", "6s", "--webtransport-addr", "", "--no-web"}, sqsArgs...)...)
	}
	lbs := []string{"http://" + c.lab.Host("lb1").HostPort(clusterLeaderboardPort), "http://" + c.lab.Host("lb2").HostPort(clusterLeaderboardPort)}

	// One player, a ticket on two replicas at once: one is refused.
	dup, err := skirmish.SignInGuest(ctx, nil, lbs[0], "twice")
	if err != nil {
		t.Fatalf("SignInGuest: %v", err)
	}
	// Both connections are open before either call, and a ticket made is
	// cancelled only after both calls answered: the second call always
	// meets the first ticket, however the machine schedules them.
	type attempt struct {
		err    error
		cancel func()
	}
	var dupConns []*skirmish.Matchmaker
	for _, addr := range mmPublic[:2] {
		m, err := skirmish.DialMatchmaker(ctx, addr, dup)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		dupConns = append(dupConns, m)
	}
	created := make(chan attempt, 2)
	for _, m := range dupConns {
		go func() {
			tk, err := m.CreateTicket(ctx, "team4", skirmish.FindOptions{})
			a := attempt{err: err, cancel: func() {}}
			if err == nil {
				a.cancel = func() { m.CancelTicket(context.WithoutCancel(ctx), tk.GetId()) }
			}
			created <- a
		}()
	}
	attempts := []attempt{<-created, <-created}
	for _, a := range attempts {
		a.cancel()
	}
	if (attempts[0].err == nil) == (attempts[1].err == nil) {
		t.Fatalf("one player's tickets on two replicas at once: errors %v, %v; want exactly one refused", attempts[0].err, attempts[1].err)
	}

	rc := redis.NewClient(&redis.Options{Addr: c.redis})
	defer rc.Close()
	db, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	k := &chaos{c: c, rc: rc, db: db, mms: mms, mmPublic: mmPublic, lbs: lbs, modes: matchmaker.DefaultModes()}

	// Bots: duels, over and over, until the chaos is over, each ticket on
	// the next matchmaker replica.
	k.bots = startBots(c, ctx, *chaosBots, mmPublic, lbs)
	defer k.bots.stop()
	k.await(ctx, "2 matches seen", settleBound, func() bool { return k.bots.matchesSeen() >= 2 })
	if *chaosDuration > 0 {
		seed := *chaosSeed
		if seed == 0 {
			seed = uint64(time.Now().UnixNano())
		}
		k.runChaos(ctx, *chaosDuration, seed, append(append(slices.Clone(mms), gss...), "sw1", "sw2", "lb1", "lb2"))
	} else {
		// The chaos: each kill in turn, with time to play between, then
		// the formation lease holder cut off the network.
		for _, victim := range []string{"gs1", "mm1", "sw1", "lb2", "mm2", "gs2", "sw2", "mm3", "gs3"} {
			k.kill(ctx, victim)
		}
		k.cutLeaseHolder(ctx)
		k.checkWhilePlaying(ctx)
	}
	k.bots.stop()

	// Tickets made before every matchmaker restarts still match after.
	k.restartMatchmakers(ctx, "final")

	// Every ticket ended; no player was in two matches at once.
	ended := k.allTicketsEnded(ctx)
	if err := k.oneMatchAtATime(ctx); err != nil {
		t.Error(err)
	}

	// Every match the bots saw end is recorded once, with both players.
	seen := k.bots.seen
	waitFor(t, ctx, "every seen match recorded", func() bool {
		var n int
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		err := db.QueryRow(ctx, "SELECT count(*) FROM matches WHERE id = ANY($1)", ids).Scan(&n)
		return err == nil && n == len(seen)
	})
	k.checks++
	for id := range seen {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM match_players WHERE match_id = $1", id).Scan(&n); err != nil || n != 2 {
			t.Errorf("match %s: %d player rows, %v; want 2", id, n, err)
		}
	}
	// Every player's history (read through the API, page by page) lists
	// each match it saw end once.
	k.checks++
	inHistory := map[string]map[string]int{} // player -> match id -> times listed
	for id, who := range seen {
		for _, p := range who {
			if inHistory[p] == nil {
				if inHistory[p], err = historyOf(ctx, lbs[0], p); err != nil {
					t.Fatalf("history of %s: %v", p, err)
				}
			}
			if n := inHistory[p][id]; n != 1 {
				t.Errorf("history of %s lists match %s %d times, want 1", p, id, n)
			}
		}
	}

	// Both leaderboard replicas agree with SQL on every board.
	k.checks++
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
		for _, lb := range lbs {
			url := lb + "/v1/leaderboards/" + b + "/entries?limit=100"
			var got []string
			waitFor(t, ctx, lb+" agrees with SQL on "+b, func() bool {
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
	k.summary(t, time.Since(began), ended)
}

// historyOf reads a player's whole match history through the leaderboard
// API, page by page, and counts how often it lists each match.
func historyOf(ctx context.Context, lb, player string) (map[string]int, error) {
	out := map[string]int{}
	cursor := ""
	for range 1000 {
		var page struct {
			Matches []struct {
				MatchID string `json:"match_id"`
			} `json:"matches"`
			NextCursor string `json:"next_cursor"`
		}
		u := lb + "/v1/players/" + player + "/matches?limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := getJSON(ctx, u, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Matches {
			out[m.MatchID]++
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
	return nil, fmt.Errorf("history of %s: more than 1000 pages", player)
}
