package matchmaker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/serve"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// BenchmarkCreateTicket measures CreateTicket calls per second through the
// real gRPC server on loopback: 64 concurrent callers on 4 connections,
// every call by a distinct player with a session token issued beforehand.
// fresh-token: the server sees each token for the first time and verifies
// it (Ed25519); known-token: each player made a call before, so the token
// is in the session cache, as for every call of a client after its first;
// session-mix: one call in five is a player's first (a player plays five
// matches per session: the first CreateTicket verifies the token, the
// next four and every WatchTicket find it cached). Formation is paused so
// that only the call path is measured. native: connections opening with
// the HTTP/2 preface go to grpc.Server.Serve (the default); shared-http2:
// through net/http and grpc.Server.ServeHTTP (Config.SharedHTTP2).
//
//	go test ./matchmaker -run '^$' -bench CreateTicket -benchtime 20000x
func BenchmarkCreateTicket(b *testing.B) {
	for _, tt := range []struct {
		name   string
		shared bool
		fresh  int // one call in fresh uses a first-time token; 0: none
		redis  bool
	}{
		{"native/fresh-token", false, 1, false},
		{"native/session-mix-1-in-5-fresh", false, 5, false},
		{"native/known-token", false, 0, false},
		{"shared-http2/fresh-token", true, 1, false},
		{"redis/session-mix-1-in-5-fresh", false, 5, true},
		{"redis/known-token", false, 0, true},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var opts []Option
			if tt.redis {
				c, prefix := redisFor(b)
				opts = append(opts, WithRedis(c, prefix), WithReplicaID("bench"))
			}
			benchCreateTicket(b, tt.shared, tt.fresh, opts...)
		})
	}
}

// benchCreateTicket runs the calls. Call i uses a first-time token when
// fresh > 0 and i%fresh == 0; the other players made one call (GetTicket)
// before the timer starts, so their tokens are verified already. opts
// choose the store (redis: the Redis store, one replica, on the test
// Redis; each call is then one script in Redis).
func benchCreateTicket(b *testing.B, shared bool, fresh int, opts ...Option) {
	keys := testKeys(b)
	m, err := New(Config{FormationInterval: time.Hour, PlayerRequestRate: -1, SharedHTTP2: shared,
		Edge: Edge{GRPC: serve.GRPCLimits{PeerRate: -1}, ConnsPerPeer: -1, MaxConns: -1}}, keys, nil, nil, nil, opts...)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, ln, nil) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	})
	const conns, callers = 4, 64
	clients := make([]skirmishv1.MatchmakerServiceClient, conns)
	for i := range clients {
		conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		clients[i] = skirmishv1.NewMatchmakerServiceClient(conn)
	}
	tokens := make([]string, b.N)
	for i := range tokens {
		if tokens[i], err = keys.IssueSession(auth.Session{PlayerID: fmt.Sprintf("bench-%d", i), Name: "bench"}, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	for i, tok := range tokens {
		if fresh > 0 && i%fresh == 0 {
			continue
		}
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
		clients[i%conns].GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: "none"})
	}
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			client := clients[c%conns]
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tokens[i])
				if _, err := client.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: "duel"}); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d calls failed", n)
	}
}

// cpuTime is the CPU time (user and system) the process has used: on a
// machine shared with other work, CPU per call says more than calls per
// second. It counts the client's work too.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTimeToMatch measures the time from CreateTicket to the MATCHED
// update on WatchTicket under a steady arrival rate of 500 tickets a
// second, two in five for duel and one in five for each of ffa, team (2v2)
// and team4 (4v4), all solo, with normally distributed ratings (mean 1500,
// sd 300), the default modes and formation interval, and one in-test
// gameserver. Each op is one measured ticket; -benchtime bounds the run.
// Arrivals go on for 5 s after the last measured one (those tickets are not
// measured), so that the last measured tickets see the same stream as the
// first; then every ticket still searching is cancelled, and the measured
// ones are counted, by mode, as still searching; the log says how far from
// the mean their ratings were and how long they had waited. Run it with a
// fixed -benchtime: it ignores the first, sizing run of one op.
//
//	go test ./matchmaker -run '^$' -bench TimeToMatch -benchtime 2000x -v
func BenchmarkTimeToMatch(b *testing.B) {
	const (
		rate  = 500 // tickets per second
		grace = 5 * time.Second
	)
	if b.N < 100 {
		b.ReportMetric(0, "ns/op")
		return
	}
	modes := []string{"duel", "duel", "ffa", "team", "team4"} // one drawn per ticket
	rng := rand.New(rand.NewPCG(1, 2))
	ratings := ratingTable{}
	total := b.N + int(rate*grace/time.Second)
	modeOf := make([]string, total)
	for i := range total {
		ratings[fmt.Sprintf("p%d", i)] = 1500 + 300*rng.NormFloat64()
		modeOf[i] = modes[rng.IntN(len(modes))]
	}
	e := startMatchmakerWith(b, Config{PlayerRequestRate: -1}, ratings)
	e.startGameserverCap(b, "gs1", 0, 1<<30)
	ctxs := make([]context.Context, total)
	for i := range ctxs {
		ctxs[i] = metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+e.token(b, fmt.Sprintf("p%d", i)))
	}
	type leftover struct {
		mode           string
		rating, waited float64
	}
	var mu sync.Mutex
	waits := map[string][]time.Duration{}
	var left []leftover
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	b.ResetTimer()
	for i := range total {
		<-tick.C
		measured := i < b.N
		wg.Go(func() {
			ctx, done := context.WithCancel(ctxs[i])
			defer done()
			start := time.Now()
			resp, err := e.mm.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: modeOf[i]})
			if err != nil {
				b.Errorf("CreateTicket: %v", err)
				return
			}
			stream, err := e.mm.WatchTicket(ctx, &skirmishv1.WatchTicketRequest{TicketId: resp.GetTicket().GetId()})
			if err != nil {
				b.Errorf("WatchTicket: %v", err)
				return
			}
			go func() {
				select {
				case <-stop.Done():
					e.mm.CancelTicket(ctxs[i], &skirmishv1.CancelTicketRequest{TicketId: resp.GetTicket().GetId()})
				case <-ctx.Done():
				}
			}()
			for {
				msg, err := stream.Recv()
				if err != nil {
					b.Errorf("WatchTicket: %v", err)
					return
				}
				st := msg.GetTicket().GetState()
				if st == skirmishv1.TicketState_TICKET_STATE_SEARCHING {
					continue
				}
				if !measured {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				switch st {
				case skirmishv1.TicketState_TICKET_STATE_MATCHED:
					waits[modeOf[i]] = append(waits[modeOf[i]], time.Since(start))
				case skirmishv1.TicketState_TICKET_STATE_CANCELLED:
					left = append(left, leftover{modeOf[i], ratings[fmt.Sprintf("p%d", i)], time.Since(start).Seconds()})
				default:
					b.Errorf("ticket ended %v", st)
				}
				return
			}
		})
	}
	cancel() // 5 s after the last measured arrival
	wg.Wait()
	b.StopTimer()
	for _, mode := range []string{"duel", "ffa", "team", "team4"} {
		w := waits[mode]
		slices.Sort(w)
		q := func(f float64) float64 {
			if len(w) == 0 {
				return 0
			}
			return float64(w[min(len(w)-1, int(f*float64(len(w))))].Milliseconds())
		}
		b.ReportMetric(q(0.5), mode+"-p50-ms")
		b.ReportMetric(q(0.9), mode+"-p90-ms")
		b.ReportMetric(q(0.99), mode+"-p99-ms")
		var searching []string
		for _, l := range left {
			if l.mode == mode {
				searching = append(searching, fmt.Sprintf("%+.1fsd/%.1fs", (l.rating-1500)/300, l.waited))
			}
		}
		b.ReportMetric(float64(len(searching)), mode+"-searching")
		b.Logf("%s: %d matched, %d still searching (rating from the mean in sd / time searched): %v", mode, len(w), len(searching), searching)
	}
	b.ReportMetric(0, "ns/op")
}
