package matchmaker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/skirmishgg/skirmish/internal/serve"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// BenchmarkRedisCreateToMatched measures matchmaking end to end on the
// Redis store with two replicas sharing one Redis (127.0.0.1:6379, or
// SKIRMISH_TEST_REDIS_ADDR) and one in-test gameserver. Each op is one
// duel pair arriving at 100 pairs a second: one player creates a ticket on
// replica a, the other on replica b, and each watches its ticket on the
// other replica than the one it created it on. Reported over every
// ticket: match-p50-ms and match-p99-ms, from the second CreateTicket's
// answer to the watcher's MATCHED update (formation interval, the lease
// holder's pass, claim, CreateRoom, commit, change feed, stream); and
// feed-p50-ms and feed-p99-ms, from the gameserver's CreateRoom answer to
// the watcher's MATCHED update, an upper bound of the time from the commit
// to the watcher (half the watchers are on the replica that did not
// commit).
//
//	go test ./matchmaker -run '^$' -bench RedisCreateToMatched -benchtime 2000x
func BenchmarkRedisCreateToMatched(b *testing.B) {
	p := startDuelPairs(b)
	var mu sync.Mutex
	var match, feed []time.Duration
	b.ResetTimer()
	p.run(b, b.N, 100, func(m, f time.Duration, fok bool) {
		mu.Lock()
		defer mu.Unlock()
		match = append(match, m)
		if fok {
			feed = append(feed, f)
		}
	})
	b.StopTimer()
	q := func(d []time.Duration, f float64) float64 {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(f*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(match, 0.5), "match-p50-ms")
	b.ReportMetric(q(match, 0.99), "match-p99-ms")
	b.ReportMetric(q(feed, 0.5), "feed-p50-ms")
	b.ReportMetric(q(feed, 0.99), "feed-p99-ms")
	b.ReportMetric(0, "ns/op")
}

// duelPairs are two matchmaker replicas on the Redis store, sharing the
// test Redis under a key prefix of their own, and one in-test gameserver.
type duelPairs struct {
	addr   string // Redis
	prefix string
	ra, rb *env
	rs     *roomServer
	next   int // the next player number
}

func startDuelPairs(b *testing.B) *duelPairs {
	c, prefix := redisFor(b)
	// No per-player or per-address limits: every call comes from
	// 127.0.0.1, 200 a second to each replica.
	cfg := Config{PlayerRequestRate: -1, Edge: Edge{GRPC: serve.GRPCLimits{PeerRate: -1}, ConnsPerPeer: -1, MaxConns: -1}}
	ra := startReplica(b, cfg, nil, c, prefix, "a")
	rb := startReplica(b, cfg, ra, c, prefix, "b")
	rs := ra.startGameserverCap(b, "gs1", 0, 1<<30)
	ra.heartbeatUntil(b, rs) // a run outlasts the gameserver TTL
	return &duelPairs{addr: c.Options().Addr, prefix: prefix, ra: ra, rb: rb, rs: rs}
}

// run plays n duel pairs arriving at rate a second: of each pair one
// player creates a ticket on replica a, the other on replica b, and each
// watches its ticket on the other replica until it is matched. done sees,
// for every ticket, the time from the pair's second CreateTicket answer to
// the MATCHED update, and the time from the gameserver's CreateRoom
// answer to it (fok false when unknown).
func (p *duelPairs) run(b *testing.B, n, rate int, done func(match, feed time.Duration, fok bool)) {
	b.Helper()
	tokens := make([]string, 2*n)
	for i := range tokens {
		tokens[i] = p.ra.token(b, fmt.Sprintf("p%d", p.next+i))
	}
	p.next += 2 * n
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		<-tick.C
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			type side struct {
				ctx         context.Context
				create, see *env
				id          string
			}
			sides := []*side{
				{ctx: metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tokens[2*i]), create: p.ra, see: p.rb},
				{ctx: metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tokens[2*i+1]), create: p.rb, see: p.ra},
			}
			for _, s := range sides {
				resp, err := s.create.mm.CreateTicket(s.ctx, &skirmishv1.CreateTicketRequest{Mode: "duel"})
				if err != nil {
					b.Errorf("CreateTicket: %v", err)
					return
				}
				s.id = resp.GetTicket().GetId()
			}
			start := time.Now()
			var inner sync.WaitGroup
			for _, s := range sides {
				inner.Go(func() {
					stream, err := s.see.mm.WatchTicket(s.ctx, &skirmishv1.WatchTicketRequest{TicketId: s.id})
					if err != nil {
						b.Errorf("WatchTicket: %v", err)
						return
					}
					for {
						msg, err := stream.Recv()
						if err != nil {
							b.Errorf("WatchTicket: %v", err)
							return
						}
						tk := msg.GetTicket()
						if tk.GetState() == skirmishv1.TicketState_TICKET_STATE_SEARCHING {
							continue
						}
						now := time.Now()
						if tk.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
							b.Errorf("ticket ended %v", tk.GetState())
							return
						}
						var feed time.Duration
						at, ok := p.rs.answered.Load(tk.GetAssignment().GetMatchId())
						if ok {
							feed = now.Sub(at.(time.Time))
						}
						done(now.Sub(start), feed, ok)
						return
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
}
