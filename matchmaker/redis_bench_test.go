package matchmaker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

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
	c, prefix := redisFor(b)
	cfg := Config{PlayerRequestRate: -1}
	ra := startReplica(b, cfg, nil, c, prefix, "a")
	rb := startReplica(b, cfg, ra, c, prefix, "b")
	rs := ra.startGameserverCap(b, "gs1", 0, 1<<30)
	ra.heartbeatUntil(b, rs) // a run outlasts the gameserver TTL
	tokens := make([]string, 2*b.N)
	for i := range tokens {
		tokens[i] = ra.token(b, fmt.Sprintf("p%d", i))
	}
	var mu sync.Mutex
	var match, feed []time.Duration
	tick := time.NewTicker(time.Second / 100)
	defer tick.Stop()
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range b.N {
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
				{ctx: metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tokens[2*i]), create: ra, see: rb},
				{ctx: metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tokens[2*i+1]), create: rb, see: ra},
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
						mu.Lock()
						match = append(match, now.Sub(start))
						if at, ok := rs.answered.Load(tk.GetAssignment().GetMatchId()); ok {
							feed = append(feed, now.Sub(at.(time.Time)))
						}
						mu.Unlock()
						return
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
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
