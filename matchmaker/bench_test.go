package matchmaker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// BenchmarkCreateTicket measures CreateTicket calls per second through the
// real gRPC server on loopback: 64 concurrent callers on 4 connections,
// every call by a distinct player with a session token issued beforehand.
// fresh-token: the server sees each token for the first time and verifies
// it (Ed25519); known-token: each player made a call before, so the token
// is in the session cache, as for every call of a client after its first. Formation is paused so that only
// the call path is measured. native: connections opening with the HTTP/2
// preface go to grpc.Server.Serve (the default); shared-http2: through
// net/http and grpc.Server.ServeHTTP (Config.SharedHTTP2).
//
//	go test ./matchmaker -run '^$' -bench CreateTicket -benchtime 20000x
func BenchmarkCreateTicket(b *testing.B) {
	for _, tt := range []struct {
		name         string
		shared, warm bool
	}{
		{"native/fresh-token", false, false},
		{"native/known-token", false, true},
		{"shared-http2/fresh-token", true, false},
	} {
		b.Run(tt.name, func(b *testing.B) { benchCreateTicket(b, tt.shared, tt.warm) })
	}
}

// benchCreateTicket runs the calls; with warm, every player made one call
// (GetTicket) before the timer starts, so their tokens are verified already.
func benchCreateTicket(b *testing.B, shared, warm bool) {
	keys := testKeys(b)
	m, err := New(Config{FormationInterval: time.Hour, PlayerRequestRate: -1, SharedHTTP2: shared}, keys, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, ln) }()
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
	if warm {
		for i, tok := range tokens {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
			clients[i%conns].GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: "none"})
		}
	}
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
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
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d calls failed", n)
	}
}

// BenchmarkTimeToMatch measures the time from CreateTicket to the MATCHED
// update on WatchTicket under a steady arrival rate of 500 duel tickets a
// second, with normally distributed ratings (mean 1500, sd 300), the
// default modes and formation interval, and one in-test gameserver. Each
// op is one ticket; -benchtime bounds the run. Tickets still searching 5 s
// after the last arrival are cancelled and counted as unmatched.
//
//	go test ./matchmaker -run '^$' -bench TimeToMatch -benchtime 3000x
func BenchmarkTimeToMatch(b *testing.B) {
	const rate = 500 // tickets per second
	rng := rand.New(rand.NewPCG(1, 2))
	ratings := ratingTable{}
	for i := range b.N {
		ratings[fmt.Sprintf("p%d", i)] = 1500 + 300*rng.NormFloat64()
	}
	e := startMatchmakerWith(b, Config{PlayerRequestRate: -1}, ratings)
	e.startGameserverCap(b, "gs1", 0, 1<<30)
	ctxs := make([]context.Context, b.N)
	for i := range ctxs {
		ctxs[i] = metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+e.token(b, fmt.Sprintf("p%d", i)))
	}
	var mu sync.Mutex
	var waits []time.Duration
	var unmatched atomic.Int64
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		wg.Go(func() {
			ctx, done := context.WithCancel(ctxs[i])
			defer done()
			start := time.Now()
			resp, err := e.mm.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: "duel"})
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
					unmatched.Add(1)
					return
				}
				switch msg.GetTicket().GetState() {
				case skirmishv1.TicketState_TICKET_STATE_SEARCHING:
					continue
				case skirmishv1.TicketState_TICKET_STATE_MATCHED:
					mu.Lock()
					waits = append(waits, time.Since(start))
					mu.Unlock()
				default:
					unmatched.Add(1)
				}
				return
			}
		})
	}
	grace := time.AfterFunc(5*time.Second, cancel)
	wg.Wait()
	grace.Stop()
	b.StopTimer()
	slices.Sort(waits)
	q := func(f float64) float64 {
		if len(waits) == 0 {
			return 0
		}
		return float64(waits[min(len(waits)-1, int(f*float64(len(waits))))].Milliseconds())
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.9), "p90-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(unmatched.Load()), "unmatched")
	b.ReportMetric(0, "ns/op")
}
